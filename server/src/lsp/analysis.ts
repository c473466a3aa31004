/**
 * When each open document is analysed, and what the server knows of the
 * analyses. The analysis itself runs in the analysis worker
 * (worker/analysisWorker.ts); this thread only schedules it and keeps its
 * results, so that it always answers the editor at once.
 *
 * An edit stops the work on the old text at once (worker/client.ts
 * invalidate) and schedules an analysis after `debounceMs` (0: on the next
 * turn of the event loop). Features that need the current version (lenses,
 * commands) wait for it; hover answers from the latest analysis, with the
 * positions moved through the edits made since (see `at`).
 */
import { Emitter, Event } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { JailcheckConfig } from '../../../simulator/src/config';
import type { PointState } from '../../../simulator/src/analysis/lockState';
import { configOf, Settings, SettingsStore } from './settings';
import type { Logger } from './logger';
import type { StatusReporter } from './status';
import type { AnalysisWorkerClient } from './worker/client';
import { WorkerRequestError } from './worker/client';
import type { FunctionInfo, Snapshot } from './worker/messages';

export interface AnalysedDocument {
  readonly uri: string;
  readonly version: number;
  /** The document as analysed: ranges of the snapshot are positions in it. */
  readonly document: TextDocument;
  readonly settings: Settings;
  /** The analysis configuration the settings describe (one object per settings). */
  readonly config: JailcheckConfig;
  /** Undefined when the document was not analysed (see `skipped`). */
  readonly snapshot?: Snapshot;
  /** Why the document was not analysed, in one line. */
  readonly skipped?: string;
  readonly durationMs: number;
  /** False for the early publication of an edit whose callers are still being analysed. */
  readonly complete: boolean;
}

interface Entry {
  /** Bumped by every edit; a scheduled run of an older generation is dropped. */
  generation: number;
  /** Cancels the scheduled run. */
  timer?: () => void;
  latest?: AnalysedDocument;
  /** The analysis under way, of which version. */
  running?: { version: number; done: Promise<AnalysedDocument | undefined> };
}

/**
 * The snapshot with every function's points: the worker leaves out those of
 * a function whose text is the previous snapshot's, and they are that
 * snapshot's, moved with the function (matched by name, in order).
 */
function withPoints(s: Snapshot, previous: Snapshot | undefined): Snapshot {
  if (s.functions.every((f) => f.points)) return s;
  const before = new Map<string, FunctionInfo[]>();
  for (const f of previous?.functions ?? []) before.set(f.name, [...(before.get(f.name) ?? []), f]);
  const functions = s.functions.map((f): FunctionInfo => {
    const old = before.get(f.name)?.shift();
    if (f.points) return f;
    const delta = old ? f.range.start - old.range.start : 0;
    return { ...f, points: (old?.points ?? []).map(([k, a, b]) => [k, a + delta, b + delta] as const) };
  });
  return { ...s, functions };
}

export class AnalysisScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly analysed = new Emitter<AnalysedDocument>();
  private readonly edited = new Emitter<string>();
  private readonly configs = new WeakMap<Settings, { config: JailcheckConfig; key: string }>();
  /** Hover's states by analysis (worker/messages.ts FunctionInfo.analysis). */
  private readonly states = new Map<number, Map<number, PointState>>();

  constructor(
    private readonly worker: AnalysisWorkerClient,
    private readonly documents: { get(uri: string): TextDocument | undefined },
    private readonly settings: SettingsStore,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
  ) {}

  /** Fires after every analysis (and early publication), in version order for one document. */
  get onDidAnalyse(): Event<AnalysedDocument> {
    return this.analysed.event;
  }

  /** Fires on every edit, before the debounce: long work on the old text should stop. */
  get onDidEdit(): Event<string> {
    return this.edited.event;
  }

  latest(uri: string): AnalysedDocument | undefined {
    return this.entries.get(uri)?.latest;
  }

  private readonly awaitingStates = new Map<number, Array<() => void>>();

  /** Hover's states of an analysis arrived from the worker. */
  statesArrived(analysis: number, states: ReadonlyArray<readonly [number, PointState]>): void {
    this.states.set(analysis, new Map(states));
    for (const f of this.awaitingStates.get(analysis) ?? []) f();
    this.awaitingStates.delete(analysis);
  }

  /**
   * Hover's states of an analysis: at once when they are here, else when the
   * worker sends them (right after its snapshot), or undefined after `ms`.
   */
  async statesOf(analysis: number, ms: number): Promise<Map<number, PointState> | undefined> {
    const have = this.states.get(analysis);
    if (have) return have;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      const list = this.awaitingStates.get(analysis) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.awaitingStates.set(analysis, list);
    });
    return this.states.get(analysis);
  }

  /** The worker restarted: what it knew is gone; every open document is analysed again. */
  workerRestarted(): void {
    this.states.clear();
    this.reconfigure();
  }

  /** A document was opened or edited: analyse it after the debounce. */
  schedule(uri: string): void {
    const entry = this.entry(uri);
    const generation = ++entry.generation;
    this.clearTimer(entry);
    // The work on the old text stops now, not after the debounce.
    this.worker.invalidate(uri);
    this.edited.fire(uri);
    void this.settings.get(uri).then((settings) => {
      if (entry.generation !== generation || !this.entries.has(uri)) return;
      this.clearTimer(entry);
      const run = () => {
        entry.timer = undefined;
        if (entry.generation !== generation) return;
        void this.run(uri, entry, settings);
      };
      if (settings.debounceMs > 0) {
        const t = setTimeout(run, settings.debounceMs);
        entry.timer = () => clearTimeout(t);
      } else {
        const t = setImmediate(run);
        entry.timer = () => clearImmediate(t);
      }
    });
  }

  /** Settings changed: every open document is analysed again with its new settings. */
  reconfigure(): void {
    for (const [uri, entry] of this.entries) {
      entry.latest = undefined;
      this.schedule(uri);
    }
  }

  close(uri: string): void {
    const entry = this.entries.get(uri);
    if (entry) this.clearTimer(entry);
    this.entries.delete(uri);
    this.worker.close(uri);
    this.settings.forget(uri);
    this.collectStates();
  }

  /**
   * The analysis of the document's current version: the latest one if it is
   * current, else the one under way or one started now. Undefined for a
   * document that is not open (or closed meanwhile).
   */
  async current(uri: string): Promise<AnalysedDocument | undefined> {
    const doc = this.documents.get(uri);
    const entry = this.entries.get(uri);
    if (!doc || !entry) return undefined;
    if (entry.latest?.version === doc.version && entry.latest.complete) return entry.latest;
    if (entry.running?.version === doc.version) return entry.running.done;
    const settings = await this.settings.get(uri);
    if (!this.entries.has(uri)) return undefined;
    const now = this.documents.get(uri);
    if (!now) return undefined;
    if (entry.latest?.version === now.version && entry.latest.complete) return entry.latest;
    if (entry.running?.version === now.version) return entry.running.done;
    this.clearTimer(entry);
    return this.run(uri, entry, settings);
  }

  /**
   * Where `offset` of the document as it is now stands in its latest
   * analysis, and that analysis's function there: a position the edits since
   * that analysis did not touch keeps its place, moved by what they added or
   * removed before it (so hover never waits for an analysis under way).
   */
  at(uri: string, offset: number): { doc: AnalysedDocument; offset: number; toNow: (o: number) => number; fn?: FunctionInfo; states?: Map<number, PointState> } | undefined {
    const doc = this.latest(uri);
    const now = this.documents.get(uri);
    if (!doc?.snapshot || !now) return undefined;
    let then = offset;
    let toNow = (o: number): number => o;
    if (now.version !== doc.version) {
      const a = doc.document.getText();
      const b = now.getText();
      let start = 0;
      const min = Math.min(a.length, b.length);
      while (start < min && a.charCodeAt(start) === b.charCodeAt(start)) start++;
      let endA = a.length;
      let endB = b.length;
      while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
        endA--;
        endB--;
      }
      // Inside the edited text nothing is known yet.
      if (offset >= start && offset < endB) return undefined;
      const delta = endB - endA;
      if (offset >= endB) then = offset - delta;
      toNow = (o) => (o >= endA ? o + delta : o);
    }
    const fn = doc.snapshot.functions.find((f) => f.range.start <= then && then <= f.range.end);
    return { doc, offset: then, toNow, ...(fn ? { fn } : {}), ...(fn?.analysis !== undefined && this.states.has(fn.analysis) ? { states: this.states.get(fn.analysis)! } : {}) };
  }

  private async run(uri: string, entry: Entry, settings: Settings): Promise<AnalysedDocument | undefined> {
    const doc = this.documents.get(uri);
    if (!doc || !this.entries.has(uri)) return undefined;
    const version = doc.version;
    // The document object is updated in place by edits: keep the text analysed.
    const document = TextDocument.create(uri, doc.languageId, version, doc.getText());
    const { config, key } = this.configFor(settings);
    const end = this.status.begin('analysis', uri);
    const t0 = performance.now();
    const running: { version: number; done: Promise<AnalysedDocument | undefined> } = { version, done: Promise.resolve(undefined) };
    running.done = (async (): Promise<AnalysedDocument | undefined> => {
      try {
        const snapshot = await this.worker.update(uri, version, document.getText(), config, key, (partial) => {
          this.publish(entry, { uri, version, document, settings, config, snapshot: partial, durationMs: performance.now() - t0, complete: false });
        });
        const result: AnalysedDocument = {
          uri, version, document, settings, config, durationMs: performance.now() - t0, complete: true,
          ...(snapshot.skipped ? { skipped: snapshot.skipped } : { snapshot }),
        };
        this.publish(entry, result);
        return result;
      } catch (err) {
        if (err instanceof WorkerRequestError && err.cancelled) return undefined;
        // A bug in jailcheck: log it, tell the user once, start afresh on the next edit.
        this.logger.error(`analysis of ${uri} (version ${version}) failed`, err);
        const message = `jailcheck could not analyse this file: ${err instanceof Error ? err.message : String(err)} (a bug in jailcheck; the log has the details)`;
        this.logger.showErrorOnce(message);
        const failed: AnalysedDocument = { uri, version, document, settings, config, durationMs: performance.now() - t0, skipped: message, complete: true };
        this.publish(entry, failed);
        return failed;
      } finally {
        end();
        if (entry.running === running) entry.running = undefined;
      }
    })();
    entry.running = running;
    return running.done;
  }

  private publish(entry: Entry, doc: AnalysedDocument): void {
    // An older version never replaces a newer one.
    if (!this.entries.has(doc.uri) || (entry.latest && entry.latest.version > doc.version)) return;
    if (doc.snapshot) doc = { ...doc, snapshot: withPoints(doc.snapshot, entry.latest?.snapshot) };
    entry.latest = doc;
    this.status.analysed(doc);
    this.analysed.fire(doc);
    this.collectStates();
  }

  /** Drops hover's states that no latest analysis refers to. */
  private collectStates(): void {
    if (this.states.size < 64) return;
    const used = new Set<number>();
    for (const e of this.entries.values()) for (const f of e.latest?.snapshot?.functions ?? []) if (f.analysis !== undefined) used.add(f.analysis);
    for (const id of [...this.states.keys()]) if (!used.has(id)) this.states.delete(id);
  }

  private configFor(settings: Settings): { config: JailcheckConfig; key: string } {
    let c = this.configs.get(settings);
    if (!c) {
      const config = configOf(settings);
      c = { config, key: JSON.stringify(config) };
      this.configs.set(settings, c);
    }
    return c;
  }

  private entry(uri: string): Entry {
    let e = this.entries.get(uri);
    if (!e) {
      e = { generation: 0 };
      this.entries.set(uri, e);
    }
    return e;
  }

  private clearTimer(entry: Entry): void {
    entry.timer?.();
    entry.timer = undefined;
  }
}
