/**
 * Patch review in the editor. An open `.diff`/`.patch` document (language
 * `diff`) is applied, in memory, to the `kern_jail.c` it names in the
 * workspace, and reviewed as `jailcheck review` does; its diagnostics are
 * the verdict:
 * - on the first line, a summary: "fixes 1, introduces 2, leaves 0 unchanged
 *   (against sys/kern/kern_jail.c)", a warning when something is
 *   introduced, else information (also a code lens there);
 * - each introduced finding on the patch's `+` line that brought it: its
 *   own line, or else the first line of its path that the patch added, or
 *   else the last added line between the start of its path and it (a lock
 *   held at a return is shown on the `+` line that stopped releasing it),
 *   or else the context line or hunk header nearest to it; with the
 *   finding's own severity, and the line it is reported at;
 * - each fixed finding, as information, on the `-` line that removed it;
 * - a patch that does not apply: one error on the hunk that failed, and
 *   nothing else.
 * The base is the C file the patch's `---`/`+++` lines name (kern_jail.c
 * first), looked up among the open documents, then under the workspace
 * folders (and the patch's own folder) with as many leading path parts
 * stripped as needed (patch -p); when it is nowhere, the file "Review
 * Patch…" was run from. When the base is open, its unsaved text is what the
 * patch applies to, and an edit to it reviews the patch again. The review
 * is asynchronous (the simulator runs between other requests) and an edit
 * of the patch abandons it. Nothing is written to disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  CodeLens, Connection, Diagnostic, DiagnosticRelatedInformation, Range, TextDocuments,
} from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Finding } from '../../../simulator/src/findings';
import type { SourceRange } from '../../../simulator/src/ir';
import { fingerprint } from '../../../simulator/src/analysis/incremental';
import { InputError, MAX_INPUT_BYTES, readPatchFile, readSource } from '../input';
import { LineIndex } from '../lineIndex';
import { patchAnchor } from '../review';
import type { ReviewResult } from '../review';
import type { AnalysisWorkerClient } from './worker/client';
import { WorkerRequestError } from './worker/client';
import { readPatch } from '../review/readPatch';
import { fileOf, inside, sameFile } from './files';
import { oneLine, SOURCE, stepLine } from './diagnostics';
import { configOf, severityOf } from './settings';
import type { Settings, SettingsStore } from './settings';
import type { Logger } from './logger';
import type { StatusReporter } from './status';

/** Whether a document is a patch to review rather than C to analyse. */
export function isPatchDocument(doc: Pick<TextDocument, 'uri' | 'languageId'>): boolean {
  return doc.languageId === 'diff' || /\.(diff|patch)$/i.test(doc.uri);
}

/** The verdict of one review, as the command returns it. */
export interface PatchVerdict {
  readonly patchUri: string;
  /** Undefined when no base was found. */
  readonly baseUri?: string;
  readonly fixed: number;
  readonly introduced: number;
  readonly unchanged: number;
  /** Why there is no verdict (the patch does not apply, no base file, …). */
  readonly error?: string;
  /** "fixes 1, introduces 0, leaves 0 unchanged (against …)". */
  readonly summary: string;
}

interface Reviewed {
  readonly version: number;
  readonly verdict: PatchVerdict;
  readonly diagnostics: Diagnostic[];
  /** What the verdict was reached from (the patch, its base, the settings); absent for a failure. */
  readonly key?: string;
}

/** Directory levels searched below a workspace folder for a base named only by its file name. */
const SEARCH_DEPTH = 7;
const SEARCH_MAX_DIRS = 20_000;
const DEFAULT_BASE = 'kern_jail.c';
/** After an edit of a patch's base: as long as the background simulation waits for the typing to pause. */
const BASE_EDIT_DELAY_MS = 750;

export class PatchReviewFeature {
  private readonly reviewed = new Map<string, Reviewed>();
  /** Patch → base chosen by "Review Patch…" (the C file in the active editor). */
  private readonly chosenBase = new Map<string, string>();
  /** Patch → the base its last review used, so an edit of that base reviews the patch again. */
  private readonly baseOf = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly connection: Connection,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly settings: SettingsStore,
    private readonly worker: AnalysisWorkerClient,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
    private readonly workspaceFolders: () => readonly string[],
  ) {}

  /** The patch document was opened or edited: review it when the typing pauses. */
  schedule(uri: string, delayMs?: number): void {
    clearTimeout(this.timers.get(uri));
    // A review of the old text under way is of no use any more.
    this.worker.invalidate(reviewKey(uri));
    void this.settings.get(uri).then((settings) => {
      // Closed while the settings were asked for: nothing to review, nothing to publish.
      if (!this.documents.get(uri)) return;
      clearTimeout(this.timers.get(uri));
      // A review analyses two versions: wait a little longer than for one C file.
      this.timers.set(uri, setTimeout(() => {
        this.timers.delete(uri);
        if (this.documents.get(uri)) void this.review(uri);
      }, delayMs ?? Math.max(settings.debounceMs, 100)));
    });
  }

  /**
   * A C document was analysed: the patches reviewed against it are reviewed
   * again, once the typing in it has paused (a review analyses both versions
   * and, synchronously, simulates them).
   */
  baseEdited(baseUri: string): void {
    for (const [patch, base] of this.baseOf) {
      if (sameFile(base, baseUri) && this.documents.get(patch)) this.schedule(patch, BASE_EDIT_DELAY_MS);
    }
  }

  closed(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.reviewed.delete(uri);
    this.baseOf.delete(uri);
    this.chosenBase.delete(uri);
    this.worker.release(reviewKey(uri));
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  /** "Review Patch…": review `patchUri` against `baseUri` (or the base it names) and return the verdict. */
  async reviewCommand(patchUri: string, baseUri?: string): Promise<PatchVerdict> {
    if (baseUri) this.chosenBase.set(patchUri, baseUri);
    return (await this.review(patchUri)).verdict;
  }

  lenses(uri: string): CodeLens[] {
    const r = this.reviewed.get(uri);
    if (!r) return [];
    const at = { line: 0, character: 0 };
    return [{ range: { start: at, end: at }, command: { title: `jailcheck: ${r.verdict.summary}`, command: '' } }];
  }

  private async review(patchUri: string): Promise<Reviewed> {
    const open = this.documents.get(patchUri);
    // The document object is updated in place by edits: remember which version this review is of.
    const version = open?.version;
    const stale = (): boolean => open !== undefined && this.documents.get(patchUri)?.version !== version;
    const settings = await this.settings.get(patchUri);
    const end = this.status.begin('analysis', patchUri);
    try {
      const patchText = open ? open.getText() : readPatchFile(onDisk(patchUri, 'the patch'));
      const done = await this.reviewText(patchUri, patchText, version, settings, stale);
      // An edit that arrived while this ran: its own review follows.
      if (stale()) return done;
      this.reviewed.set(patchUri, done);
      void this.connection.sendDiagnostics({ uri: patchUri, ...(version !== undefined ? { version } : {}), diagnostics: done.diagnostics });
      return done;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const verdict: PatchVerdict = { patchUri, fixed: 0, introduced: 0, unchanged: 0, error: message, summary: message };
      // Cancelled: the patch (or its base) was edited meanwhile, and that edit's own review follows.
      if (!(err instanceof InputError) && !(err instanceof WorkerRequestError && err.cancelled)) this.logger.error(`review of ${patchUri}`, err);
      return { version: version ?? 0, verdict, diagnostics: [] };
    } finally {
      end();
    }
  }

  private async reviewText(patchUri: string, patchText: string, docVersion: number | undefined, settings: Settings,
    stale: () => boolean): Promise<Reviewed> {
    const version = docVersion ?? 0;
    if (patchText.length > MAX_INPUT_BYTES) {
      const message = `this patch is ${(patchText.length / 1048576).toFixed(1)} MB, more than jailcheck reads (${MAX_INPUT_BYTES / 1048576} MB); it is not reviewed`;
      const at = { line: 0, character: 0 };
      return {
        version, verdict: { patchUri, fixed: 0, introduced: 0, unchanged: 0, error: message, summary: message },
        diagnostics: [{ range: { start: at, end: at }, severity: DiagnosticSeverity.Information, code: 'patch-review', source: SOURCE, message }],
      };
    }
    const lines = new LineIndex(patchText);
    const lineRange = (line: number): Range => {
      const l = Math.max(1, Math.min(line, lines.lineCount));
      const text = lines.lineText(l);
      return { start: { line: l - 1, character: 0 }, end: { line: l - 1, character: text.length } };
    };
    const fail = (message: string, line = 1, severity: DiagnosticSeverity = DiagnosticSeverity.Error): Reviewed => ({
      version,
      verdict: { patchUri, fixed: 0, introduced: 0, unchanged: 0, error: message, summary: message, ...(this.baseOf.has(patchUri) ? { baseUri: this.baseOf.get(patchUri) } : {}) },
      diagnostics: [{ range: lineRange(line), severity, code: 'patch-review', source: SOURCE, message }],
    });

    let base: { uri: string; name: string; text: string } | undefined;
    try {
      base = this.findBase(patchUri, patchText);
    } catch (err) {
      if (err instanceof InputError) return fail(err.message);
      throw err;
    }
    if (!base) {
      this.baseOf.delete(patchUri);
      const names = namesIn(patchText);
      return fail(names.length === 0
        ? 'this patch changes no C file jailcheck can find: open the C file and run "Jailcheck: Review Patch…" to choose it'
        : `no base file for this patch: it names ${names.join(', ')}, and no such file is in the workspace; run "Jailcheck: Review Patch…" with the C file open to choose it`, 1, DiagnosticSeverity.Information);
    }
    this.baseOf.set(patchUri, base.uri);
    // The same patch, base and settings as the last review (the command reviewed the file, then
    // the editor opened it): its verdict stands.
    const key = `${fingerprint(patchText)}|${base.uri}|${fingerprint(base.text)}|${JSON.stringify(settings)}`;
    const last = this.reviewed.get(patchUri);
    if (last?.key === key) return { ...last, version };
    const config = configOf(settings);
    let result: ReviewResult;
    try {
      // In the analysis worker, with the base's cache (only what the patch changes is analysed); the
      // simulator runs within the background budget for both versions together; an edit of the patch stops it.
      result = await this.worker.review(reviewKey(patchUri), {
        baseText: base.text, patchText, config, configKey: JSON.stringify(config), baseName: base.name,
        patchName: path.basename(fileOf(patchUri) ?? patchUri),
        ...(settings.simulator.background ? { simulate: { timeBudgetMs: settings.simulator.timeBudgetMs, maxPreemptions: settings.simulator.maxPreemptions } } : {}),
      });
    } catch (err) {
      if (err instanceof WorkerRequestError && err.error.kind === 'input') {
        return fail(err.message, err.error.name === 'PatchDoesNotApply' ? headerLineOf(err.message) ?? 1 : 1);
      }
      throw err;
    }
    void stale;

    // Rules the user turned off are not counted either: the summary says what the diagnostics show.
    const shown = (f: Finding): boolean => severityOf(settings, f.rule, f.severity) !== undefined;
    const fixed = result.fixed.filter(shown);
    const introduced = result.introduced.filter(shown);
    const unchanged = result.unchanged.filter((u) => shown(u.patched));
    const summary = `fixes ${fixed.length}, introduces ${introduced.length}, leaves ${unchanged.length} unchanged (against ${base.name})`;
    const verdict: PatchVerdict = {
      patchUri, baseUri: base.uri, fixed: fixed.length, introduced: introduced.length, unchanged: unchanged.length, summary,
    };
    const locate = new VersionLocator(result, patchUri, base.uri, lineRange);
    const diagnostics: Diagnostic[] = [{
      range: lineRange(1),
      severity: introduced.length > 0 ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
      code: 'patch-review', source: SOURCE, message: `this patch ${summary}`,
    }];
    for (const f of introduced) {
      const severity = severityOf(settings, f.rule, f.severity)!;
      const d = locate.diagnostic(f, 'patched', `introduces: ${oneLine(f.message)}`);
      diagnostics.push({ ...d, severity: LSP_SEVERITY[severity], data: { function: f.function, review: 'introduced' } });
    }
    for (const f of fixed) {
      const d = locate.diagnostic(f, 'base', `fixes: ${oneLine(f.message)}`);
      diagnostics.push({ ...d, severity: DiagnosticSeverity.Information, data: { function: f.function, review: 'fixed' } });
    }
    return { version, verdict, diagnostics, key };
  }

  /**
   * The base: the file the patch names, open in the editor or found in the
   * workspace; else the C file "Review Patch…" was run from (a patch made
   * against a file of another name), else any kern_jail.c when the patch
   * names no C file at all.
   */
  private findBase(patchUri: string, patchText: string): { uri: string; name: string; text: string } | undefined {
    const names = namesIn(patchText);
    let uri: string | undefined;
    // An open C document whose path ends with a name the patch gives (also for non-file workspaces).
    for (const d of this.documents.all()) {
      if (isPatchDocument(d)) continue;
      const where = fileOf(d.uri) ?? decodeURIComponent(d.uri);
      if (names.some((n) => endsWithPath(where, n))) { uri = d.uri; break; }
    }
    if (!uri) {
      const roots = [...this.workspaceFolders()];
      const own = fileOf(patchUri);
      if (own) roots.push(path.dirname(own));
      const found = locateOnDisk(names, roots);
      if (found) uri = pathToFileURL(found).toString();
    }
    uri ??= this.chosenBase.get(patchUri);
    if (!uri && names.length === 0) {
      const roots = [...this.workspaceFolders()];
      const found = locateOnDisk([DEFAULT_BASE], roots);
      if (found) uri = pathToFileURL(found).toString();
    }
    if (!uri) return undefined;
    // The open document of that file, if it is open (its URI may be spelt differently).
    uri = this.documents.all().find((d) => sameFile(d.uri, uri!))?.uri ?? uri;
    const open = this.documents.get(uri);
    const file = fileOf(uri);
    const text = open ? open.getText() : readSource(onDisk(uri, 'the base file'));
    return { uri, name: displayName(file ?? uri, this.workspaceFolders()), text };
  }
}

/** The worker's key for a patch's review (its work stops when the patch is edited). */
function reviewKey(patchUri: string): string {
  return `review:${patchUri}`;
}

const LSP_SEVERITY = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
} as const;

/**
 * Where a finding of one version is shown: a line of the patch when the
 * patch shows that line, else (for related sites) the base file's line it
 * came from.
 */
class VersionLocator {
  private readonly index: { base: LineIndex; patched: LineIndex };

  constructor(
    private readonly result: ReviewResult,
    private readonly patchUri: string,
    private readonly baseUri: string,
    private readonly patchLine: (line: number) => Range,
  ) {
    this.index = { base: new LineIndex(result.baseText), patched: new LineIndex(result.patchedText) };
  }

  diagnostic(f: Finding, version: 'base' | 'patched', message: string): Diagnostic {
    const line = this.index[version].position(f.range.start).line;
    // Shown on the line the patch changed: the finding's own line when the patch added
    // (or removed) it, else the first step or related site that is such a line (the
    // acquire a lock held at a return comes from), else where the patch shows it.
    const changed = version === 'patched' ? 'added' : 'removed';
    const own = patchAnchor(this.result, version, line);
    let anchor = own;
    if (own?.kind !== changed) {
      for (const r of [...f.steps, ...f.related]) {
        const a = patchAnchor(this.result, version, this.index[version].position(r.range.start).line);
        if (a?.kind === changed) { anchor = a; break; }
      }
    }
    if (anchor?.kind !== changed && f.steps.length > 0) {
      // The path leads through the patch without stopping on a changed line (a branch the
      // patch added is not a step): the last changed line between the path's start and the finding.
      const from = Math.min(...f.steps.map((st) => this.index[version].position(st.range.start).line));
      for (let l = line; l >= from; l--) {
        const a = patchAnchor(this.result, version, l);
        if (a?.kind === changed) { anchor = a; break; }
      }
    }
    const related: DiagnosticRelatedInformation[] = [];
    for (const s of f.steps) {
      const at = this.site(s.range, version);
      if (at) related.push({ location: at, message: stepLine(s) });
    }
    for (const r of f.related) {
      const at = this.site(r.range, version);
      if (at) related.push({ location: at, message: oneLine(r.message) });
    }
    const file = version === 'base' ? 'the base file' : 'the patched file';
    const where = anchor === own && own?.kind !== 'hunk' ? '' : ` (reported at line ${line} of ${file}${own?.kind === 'hunk' ? ', outside the patch' : ''})`;
    return {
      range: this.patchLine(anchor?.patchLine ?? 1),
      code: f.rule, source: SOURCE, message: `${message}${where}`,
      ...(related.length > 0 ? { relatedInformation: related } : {}),
    };
  }

  private site(range: SourceRange, version: 'base' | 'patched'): { uri: string; range: Range } | undefined {
    const line = this.index[version].position(range.start).line;
    const anchor = patchAnchor(this.result, version, line);
    if (anchor && anchor.kind !== 'hunk') return { uri: this.patchUri, range: this.patchLine(anchor.patchLine) };
    // Not in the patch: the same line in the base file, where it has one.
    const baseLine = version === 'base' ? line : lineInBase(this.result, line);
    if (baseLine === undefined) return undefined;
    return { uri: this.baseUri, range: { start: { line: baseLine - 1, character: 0 }, end: { line: baseLine - 1, character: 0 } } };
  }
}

function lineInBase(result: ReviewResult, patchedLine: number): number | undefined {
  const origin = result.applied.patchedLines[patchedLine - 1];
  return origin && origin.kind !== 'added' ? origin.baseLine : undefined;
}

/** "line 12 of …" in a PatchDoesNotApply message: the hunk's header line in the patch. */
function headerLineOf(message: string): number | undefined {
  const m = /, line (\d+) of /.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * The C files a patch names (a/ and b/ prefixes dropped), `kern_jail.c`
 * first: a patch that also changes a header is reviewed against the C file,
 * not the header. None when the patch cannot be read.
 */
export function namesIn(patchText: string): string[] {
  try {
    const read = readPatch(patchText);
    const names = read.files.flatMap((f) => [f.newName, f.oldName]).filter((n): n is string => !!n && n !== '/dev/null');
    const unique = [...new Set(names.map((n) => n.replace(/^[ab]\//, '')))];
    const rank = (n: string): number => (path.basename(n) === DEFAULT_BASE ? 0 : /\.c(\.orig)?$/.test(n) ? 1 : 2);
    return unique.filter((n) => rank(n) < 2).sort((a, b) => rank(a) - rank(b));
  } catch {
    return [];
  }
}

function endsWithPath(uriOrPath: string, name: string): boolean {
  const fold = (x: string): string => (process.platform === 'win32' ? x.toLowerCase() : x);
  const a = fold(uriOrPath.replace(/\\/g, '/'));
  // An absolute name (`/usr/src/sys/kern/kern_jail.c`) matches by its trailing parts too.
  const n = fold(name.replace(/\\/g, '/').replace(/^(\.\/|\/+)/, ''));
  return a === n || a.endsWith(`/${n}`);
}

/**
 * The first file under one of `roots` that is one of `names` with 0, 1, …
 * leading parts stripped (patch -p0, -p1, …); then any file with the same
 * base name, searched breadth-first a few levels down.
 */
export function locateOnDisk(names: readonly string[], roots: readonly string[]): string | undefined {
  for (const name of names) {
    // Either separator: `..\\..\\x.c` must not climb out of the root on Windows either.
    const parts = name.split(/[\\/]/).filter((p) => p !== '' && p !== '.' && p !== '..');
    for (let strip = 0; strip < parts.length; strip++) {
      for (const root of roots) {
        const p = path.join(root, ...parts.slice(strip));
        if (inside(root, p) && isFile(p)) return p;
      }
    }
  }
  const wanted = new Set(names.map((n) => n.split(/[\\/]/).pop()!));
  for (const root of roots) {
    let level = [root];
    let seen = 0;
    for (let depth = 0; depth <= SEARCH_DEPTH && level.length > 0 && seen < SEARCH_MAX_DIRS; depth++) {
      const next: string[] = [];
      for (const dir of level) {
        if (++seen > SEARCH_MAX_DIRS) break;
        let entries: fs.Dirent[];
        try {
          entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
          if (e.isFile() && wanted.has(e.name)) return path.join(dir, e.name);
          if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') next.push(path.join(dir, e.name));
        }
      }
      level = next;
    }
  }
  return undefined;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The file behind a URI that is not open in the editor, to read from disk (as the command line reads it). */
function onDisk(uri: string, what: string): string {
  const file = fileOf(uri);
  if (!file) throw new InputError(`${what} is not a file on disk; open it in the editor first`);
  return file;
}

/** The base file's path relative to its workspace folder, for the summary. */
function displayName(file: string, roots: readonly string[]): string {
  for (const root of roots) {
    if (inside(root, file)) return path.relative(root, file).split(path.sep).join('/');
  }
  return path.basename(file);
}
