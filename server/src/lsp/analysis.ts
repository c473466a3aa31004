/**
 * When each open document is analysed. An edit schedules an analysis after
 * `debounceMs` (0: on the next turn of the event loop) and cancels the one
 * scheduled before it; features that need an up-to-date result (hover,
 * lenses, commands) ask for it and get the pending analysis run at once.
 * One DocumentAnalyzer per document keeps the incremental parse and the
 * per-function results between edits.
 */
import { Emitter, Event } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { CParser } from '../parsing/parser';
import { DocumentAnalyzer, DocumentResult } from '../incremental';
import { MAX_INPUT_BYTES } from '../input';
import type { JailcheckConfig } from '../../../simulator/src/config';
import { configOf, Settings, SettingsStore } from './settings';
import type { Logger } from './logger';
import type { StatusReporter } from './status';

export interface AnalysedDocument {
  readonly uri: string;
  readonly version: number;
  /** The document as analysed: ranges of the result are positions in it. */
  readonly document: TextDocument;
  readonly settings: Settings;
  /** The analysis configuration the settings describe (one object per settings, so caches keyed by it hold). */
  readonly config: JailcheckConfig;
  /** Undefined when the document was not analysed (see `skipped`). */
  readonly result?: DocumentResult;
  /** The document's analyzer; what it answers (analysisAt, functionSummaries) is this analysis while it is the latest. */
  readonly analyzer?: DocumentAnalyzer;
  /** Why the document was not analysed, in one line. */
  readonly skipped?: string;
  readonly durationMs: number;
}

interface Entry {
  analyzer?: DocumentAnalyzer;
  /** The configuration the analyzer has, as JSON: new settings that say the same keep the caches. */
  configKey?: string;
  /** Bumped by every edit; a scheduled run of an older generation is dropped. */
  generation: number;
  /** Cancels the scheduled run. */
  timer?: () => void;
  latest?: AnalysedDocument;
}

export class AnalysisScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly analysed = new Emitter<AnalysedDocument>();
  private readonly edited = new Emitter<string>();
  private readonly configs = new WeakMap<Settings, { config: JailcheckConfig; key: string }>();

  constructor(
    private readonly parser: CParser,
    private readonly documents: { get(uri: string): TextDocument | undefined },
    private readonly settings: SettingsStore,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
  ) {}

  /** Fires after every analysis, in version order for one document. */
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

  /** A document was opened or edited: analyse it after the debounce. */
  schedule(uri: string): void {
    const entry = this.entry(uri);
    const generation = ++entry.generation;
    this.clearTimer(entry);
    this.edited.fire(uri);
    void this.settings.get(uri).then((settings) => {
      if (entry.generation !== generation || !this.entries.has(uri)) return;
      this.clearTimer(entry);
      const run = () => {
        entry.timer = undefined;
        void this.runScheduled(uri, entry, generation);
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
      // The same version is analysed again: its last analysis used the old settings.
      entry.latest = undefined;
      this.schedule(uri);
    }
  }

  close(uri: string): void {
    const entry = this.entries.get(uri);
    if (entry) this.clearTimer(entry);
    entry?.analyzer?.dispose();
    this.entries.delete(uri);
    this.settings.forget(uri);
  }

  /**
   * The analysis of the document's current version: the latest one if it is
   * current, else a pending analysis run now. Undefined for a document that
   * is not open.
   */
  async current(uri: string): Promise<AnalysedDocument | undefined> {
    const doc = this.documents.get(uri);
    const entry = this.entries.get(uri);
    if (!doc || !entry) return undefined;
    if (entry.latest?.version === doc.version) return entry.latest;
    const settings = await this.settings.get(uri);
    const now = this.documents.get(uri);
    if (!now || !this.entries.has(uri)) return undefined;
    if (entry.latest?.version === now.version) return entry.latest;
    // Whatever was scheduled is done here, for the same text.
    this.clearTimer(entry);
    const done = this.analyse(uri, entry, now, settings);
    this.status.report();
    return done;
  }

  private async runScheduled(uri: string, entry: Entry, generation: number): Promise<void> {
    const doc = this.documents.get(uri);
    if (!doc || entry.generation !== generation || entry.latest?.version === doc.version) return;
    const settings = await this.settings.get(uri);
    // Let the status item show the work before a long synchronous analysis,
    // and let edits already queued arrive first: they cancel this run.
    const end = this.status.begin('analysis', uri);
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const now = this.documents.get(uri);
      if (!now || entry.generation !== generation || !this.entries.has(uri)) return;
      this.analyse(uri, entry, now, settings);
    } finally {
      end();
    }
  }

  private analyse(uri: string, entry: Entry, doc: TextDocument, settings: Settings): AnalysedDocument {
    const t0 = performance.now();
    const text = doc.getText();
    const { config, key } = this.configFor(settings);
    let done: AnalysedDocument;
    if (text.length > MAX_INPUT_BYTES) {
      done = {
        uri, version: doc.version, document: doc, settings, config, durationMs: 0,
        skipped: `This file is ${(text.length / 1048576).toFixed(1)} MB, more than jailcheck reads (${MAX_INPUT_BYTES / 1048576} MB); it is not analysed.`,
      };
    } else {
      if (!entry.analyzer) entry.analyzer = new DocumentAnalyzer(this.parser, config);
      else if (entry.configKey !== key) entry.analyzer.setConfig(config);
      entry.configKey = key;
      try {
        const result = entry.analyzer.update(text, doc.version);
        done = { uri, version: doc.version, document: doc, settings, config, result, analyzer: entry.analyzer, durationMs: performance.now() - t0 };
      } catch (err) {
        // A bug in jailcheck: log it, tell the user once, start afresh on the next edit.
        this.logger.error(`analysis of ${uri} (version ${doc.version}) failed`, err);
        entry.analyzer.dispose();
        entry.analyzer = undefined;
        const message = `jailcheck could not analyse this file: ${err instanceof Error ? err.message : String(err)} (a bug in jailcheck; the log has the details)`;
        this.logger.showErrorOnce(message);
        done = { uri, version: doc.version, document: doc, settings, config, durationMs: performance.now() - t0, skipped: message };
      }
    }
    entry.latest = done;
    this.status.analysed(done);
    this.analysed.fire(done);
    return done;
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
