/**
 * Findings new relative to HEAD. While a C file in a git checkout is being
 * edited, its committed version is analysed once per blob and every finding
 * of the working text is matched against HEAD's findings the way `jailcheck
 * review` matches them (rule, function and the code the finding points at,
 * not line numbers). A finding with no match in HEAD is new: its diagnostic
 * says so ("new since HEAD") and carries `data.sinceHead: "new"`; the others
 * carry `"head"`.
 *
 * git runs only in trusted workspaces: it reads the repository's own
 * configuration, which can name programs for git to run. The check of
 * HEAD's blob is asynchronous and at most once per REFRESH_MS per file, so
 * typing never waits for git; when HEAD's version changes (a commit, a
 * checkout), the document's diagnostics are published again.
 *
 * With background simulation on, HEAD's built-in scenarios are simulated
 * too, once per blob, in the background (one scenario at a time, as for the
 * working text), so that interleaving diagnostics are compared as well.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { Finding } from '../../../simulator/src/findings';
import type { JailcheckConfig } from '../../../simulator/src/config';
import { MAX_INPUT_BYTES } from '../input';
import { classify } from '../review/compare';
import type { AnalysedDocument } from './analysis';
import type { AnalysisWorkerClient } from './worker/client';
import { WorkerRequestError } from './worker/client';
import { fileOf, inside } from './files';
import type { Logger } from './logger';

/** How often a file's HEAD blob is looked up again. */
export const REFRESH_MS = 5_000;
const GIT_TIMEOUT_MS = 5_000;
/** Larger HEAD versions are not analysed (the same limit as any input). */
const MAX_BLOB_BYTES = MAX_INPUT_BYTES;

interface HeadVersion {
  readonly blob: string;
  readonly configKey: string;
  readonly text: string;
  readonly findings: readonly Finding[];
  /**
   * HEAD's interleaving findings, once its simulation is done (with
   * background simulation on) — and only if every scenario finished within
   * its budget: a counterexample HEAD's search did not reach is not "new".
   */
  interleaving?: readonly Finding[];
}

/** The background simulation's settings, when it is on. */
export interface HeadSimulation {
  readonly timeBudgetMs: number;
  readonly maxPreemptions: number;
}

interface Entry {
  checkedAt: number;
  checking?: Promise<void>;
  /** A refresh asked for while a look-up ran (new settings, say): made when it ends. */
  again?: () => void;
  /** Undefined: not in git, not committed, or not looked up yet. */
  head?: HeadVersion;
}

function git(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', cwd, ...args], { timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_BLOB_BYTES, encoding: 'utf8', windowsHide: true },
      (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

export class HeadBaseline {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly worker: AnalysisWorkerClient,
    private readonly logger: Logger,
    /** Called when a document's HEAD version was (re)analysed: its diagnostics should be published again. */
    private readonly changed: (uri: string) => void,
    /**
     * The workspace folders: git runs only for files inside them (the
     * workspace the user trusted), never for any file the editor opens.
     */
    private readonly folders: () => readonly string[] = () => [],
  ) {}

  /**
   * The findings of `current` (the document's analysis of `text`) that HEAD
   * does not have, or undefined when HEAD's version is not known (not a git
   * file, untrusted workspace, not looked up yet).
   */
  private newFindings(uri: string, text: string, current: readonly Finding[], config: JailcheckConfig, kind: 'static' | 'interleaving'): ReadonlySet<Finding> | undefined {
    const head = this.entries.get(uri)?.head;
    if (!head || !head.configKey.startsWith(JSON.stringify(config))) return undefined;
    const theirs = kind === 'static' ? head.findings : head.interleaving;
    if (!theirs) return undefined;
    const { introduced } = classify({ findings: theirs, text: head.text }, { findings: current, text }, config);
    return new Set(introduced);
  }

  /**
   * For an analysed document, the findings of `findings` HEAD lacks; undefined
   * when the document is not compared with HEAD (the setting, an untrusted
   * workspace, no analysis) or HEAD's findings are not known.
   */
  newFindingsOf(doc: AnalysedDocument, findings: readonly Finding[], kind: 'static' | 'interleaving'): ReadonlySet<Finding> | undefined {
    if (!comparesWithHead(doc)) return undefined;
    return this.newFindings(doc.uri, doc.document.getText(), findings, doc.config, kind);
  }

  /** refresh() for an analysed document, with its settings, when it is compared with HEAD. */
  refreshFor(doc: AnalysedDocument): void {
    if (!comparesWithHead(doc)) return;
    const sim = doc.settings.simulator;
    this.refresh(doc.uri, doc.config, sim.background ? { timeBudgetMs: sim.timeBudgetMs, maxPreemptions: sim.maxPreemptions } : undefined);
  }

  /** Looks up HEAD's blob of the document's file when the last look is older than REFRESH_MS. */
  refresh(uri: string, config: JailcheckConfig, simulation?: HeadSimulation, now = Date.now()): void {
    const file = fileOf(uri);
    if (!file || !this.folders().some((root) => inside(root, file))) return;
    let entry = this.entries.get(uri);
    if (!entry) {
      entry = { checkedAt: 0 };
      this.entries.set(uri, entry);
    }
    const configKey = `${JSON.stringify(config)}|${JSON.stringify(simulation ?? null)}`;
    const stale = entry.head !== undefined && entry.head.configKey !== configKey;
    if (entry.checking) {
      if (stale || entry.head?.configKey !== configKey) entry.again = () => this.refresh(uri, config, simulation);
      return;
    }
    if (!stale && now - entry.checkedAt < REFRESH_MS) return;
    entry.checkedAt = now;
    const e = entry;
    e.checking = this.lookUp(uri, file, config, configKey, e, simulation).finally(() => {
      e.checking = undefined;
      const again = e.again;
      e.again = undefined;
      if (again && this.entries.get(uri) === e) again();
    });
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }

  private async lookUp(uri: string, file: string, config: JailcheckConfig, configKey: string, entry: Entry, simulation?: HeadSimulation): Promise<void> {
    const dir = path.dirname(file);
    let blob: string;
    try {
      // `HEAD:./name` is relative to -C: no need to know the repository's root.
      blob = (await git(dir, ['rev-parse', '--verify', '--quiet', `HEAD:./${path.basename(file)}`])).trim();
    } catch {
      // Not a git checkout, git missing, or the file is not in HEAD: nothing to compare with.
      if (entry.head) {
        entry.head = undefined;
        this.changed(uri);
      }
      return;
    }
    if (entry.head?.blob === blob && entry.head.configKey === configKey) return;
    try {
      const size = Number((await git(dir, ['cat-file', '-s', blob])).trim());
      if (!(size <= MAX_BLOB_BYTES)) {
        // Nothing to compare with: not the previous commit's findings either.
        this.logger.info(`HEAD's ${path.basename(file)} is too large to compare with (${size} bytes)`);
        if (entry.head) {
          entry.head = undefined;
          this.changed(uri);
        }
        return;
      }
      const text = await git(dir, ['cat-file', 'blob', blob]);
      if (this.entries.get(uri) !== entry) return;
      const t0 = performance.now();
      // In the analysis worker (HEAD's blob shares the document's cache: only what differs is analysed),
      // with HEAD's built-in scenarios when the background simulation runs them for the working text.
      const analysed = await this.worker.analyseText(`head:${uri}`, text, config, JSON.stringify(config), simulation);
      if (this.entries.get(uri) !== entry) return;
      const head: HeadVersion = { blob, configKey, text: analysed.text, findings: analysed.findings, ...(analysed.interleaving ? { interleaving: analysed.interleaving } : {}) };
      entry.head = head;
      this.logger.info(`HEAD's ${path.basename(file)} (blob ${blob.slice(0, 10)}) analysed in ${(performance.now() - t0).toFixed(0)} ms: ${head.findings.length} findings`
        + (head.interleaving ? ` and ${head.interleaving.length} interleaving findings` : '') + ' to compare with');
      this.changed(uri);
    } catch (err) {
      if (err instanceof WorkerRequestError && err.cancelled) return;
      this.logger.warn(`could not read HEAD's version of ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
}

/** Whether a document's findings are compared with HEAD: the setting allows it, git may run (trust), and there is an analysis. */
function comparesWithHead(doc: AnalysedDocument): boolean {
  return doc.snapshot !== undefined && doc.settings.compareWithHead && doc.settings.trusted;
}
