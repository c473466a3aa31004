/**
 * The server's side of the analysis worker (analysisWorker.ts): requests
 * with ids and promises, the shared cancellation counters, hover's states
 * as they arrive, and a new worker when one dies (its documents are sent
 * again by their next analysis).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JailcheckConfig } from '../../../../simulator/src/config';
import type { Finding } from '../../../../simulator/src/findings';
import type { PointState } from '../../../../simulator/src/analysis/lockState';
import type { ParserPreference } from '../../parsing/parser';
import type { Logger } from '../logger';
import type { ReviewResult, SimulationBudget, SimulationReport, Snapshot, TextAnalysis, WorkerError, WorkerMessage, WorkerRequest } from './messages';
import { SLOTS, UPDATES_SENT } from './messages';
import type { WorkerOptions } from './analysisWorker';

/** A request the worker did not complete: cancelled, the user's input, or a bug. */
export class WorkerRequestError extends Error {
  constructor(readonly error: WorkerError) {
    super(error.message);
  }

  get cancelled(): boolean {
    return this.error.kind === 'cancelled';
  }
}

type Request = WorkerRequest extends infer R ? R extends { id: number } ? Omit<R, 'id' | 'slot' | 'gen'> : never : never;

/** Where the worker's script is: next to the bundle, or beside this file when run from source (tests, through tsx). */
function workerScript(): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, 'analysisWorker.ts') : path.join(__dirname, 'analysisWorker.js');
}

export interface WorkerClientOptions {
  readonly parser: ParserPreference;
  readonly simulatorModule?: string;
  readonly logger: Logger;
  /** Hover's states of an analysis, as they arrive. */
  readonly onStates: (analysis: number, states: ReadonlyArray<readonly [number, PointState]>) => void;
  /** A worker died and a new one started: what the old one knew is gone. */
  readonly onRestart: () => void;
}

export class AnalysisWorkerClient {
  private worker!: Worker;
  private readonly shared = new SharedArrayBuffer(4 * (SLOTS + 1));
  private readonly cells = new Int32Array(this.shared);
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; partial?: (s: Snapshot) => void }>();
  private ready!: Promise<void>;
  private disposed = false;
  parser: { readonly backend: 'native' | 'wasm'; readonly fallbackReason?: string } = { backend: 'native' };

  private constructor(private readonly options: WorkerClientOptions) {}

  static async start(options: WorkerClientOptions): Promise<AnalysisWorkerClient> {
    const c = new AnalysisWorkerClient(options);
    c.spawn();
    await c.ready;
    return c;
  }

  private spawn(): void {
    const data: WorkerOptions = { parser: this.options.parser, shared: this.shared, ...(this.options.simulatorModule ? { simulatorModule: this.options.simulatorModule } : {}) };
    const script = workerScript();
    // Run from source (the tests, through tsx): the worker loads TypeScript through tsx's require hook.
    const fromSource = script.endsWith('.ts');
    this.worker = new Worker(fromSource ? `require('tsx/cjs'); require(${JSON.stringify(script)});` : script, {
      workerData: data, eval: fromSource, execArgv: process.execArgv,
      // The analysis's memory is bounded (a file it cannot analyse within it costs that file, not the editor).
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerMessage): void => {
        if (m.kind === 'ready') {
          this.parser = m.parser;
          resolve();
        }
        this.message(m);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', (err) => reject(err));
      this.worker.once('exit', (code) => reject(new Error(`the analysis worker stopped before it was ready (exit code ${code})`)));
    });
    this.worker.on('error', (err) => this.options.logger.error('the analysis worker failed', err));
    this.worker.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new WorkerRequestError({ kind: 'internal', message: `the analysis worker stopped (exit code ${code})` }));
      this.pending.clear();
      if (this.disposed) return;
      this.options.logger.error(`the analysis worker stopped (exit code ${code}); starting a new one`, undefined);
      this.spawn();
      void this.ready.then(() => this.options.onRestart());
    });
  }

  private message(m: WorkerMessage): void {
    switch (m.kind) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new WorkerRequestError(m.error));
        return;
      }
      case 'partial':
        this.pending.get(m.id)?.partial?.(m.value);
        return;
      case 'states':
        this.options.onStates(m.analysis, m.states);
        return;
      case 'log':
        if (m.level === 'error') this.options.logger.error(m.message, undefined);
        else this.options.logger.info(m.message);
        return;
      case 'ready':
        return;
    }
  }

  /** The document's cell (one per key: a document's URI, or a purpose such as HEAD's of it). */
  private slotOf(key: string): number {
    let s = this.slots.get(key);
    if (s === undefined) {
      s = this.freeSlots.pop() ?? this.nextSlot++;
      if (s > SLOTS) throw new Error('too many documents for the analysis worker');
      this.slots.set(key, s);
    }
    return s;
  }

  /** An edit (or anything that makes earlier work on `key` useless): that work stops now. */
  invalidate(key: string): void {
    Atomics.add(this.cells, this.slotOf(key), 1);
  }

  private request<T>(key: string, r: Request, partial?: (s: Snapshot) => void): Promise<T> {
    const id = this.nextId++;
    const slot = this.slotOf(key);
    const message = { ...r, id, slot, gen: Atomics.load(this.cells, slot) } as WorkerRequest;
    if (r.kind === 'update') Atomics.add(this.cells, UPDATES_SENT, 1);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(partial ? { partial } : {}) });
      this.worker.postMessage(message);
    });
  }

  /** Analyses a version of a document (`onPartial`: the edited functions' results before their callers'). */
  update(uri: string, version: number, text: string, config: JailcheckConfig, configKey: string, onPartial?: (s: Snapshot) => void): Promise<Snapshot> {
    return this.request<Snapshot>(uri, { kind: 'update', uri, version, text, config, configKey }, onPartial);
  }

  /** "Simulate This Function" on the document's latest analysis; `cancelled()` is polled. */
  async simulate(uri: string, fn: string, scenario: string | undefined, budget: SimulationBudget, cancelled: () => boolean): Promise<SimulationReport> {
    const cancelKey = `cancel:${this.nextId}`;
    const cancelId = this.slotOf(cancelKey);
    Atomics.store(this.cells, cancelId, 0);
    const timer = setInterval(() => { if (cancelled()) Atomics.store(this.cells, cancelId, 1); }, 50);
    try {
      return await this.request<SimulationReport>(uri, {
        kind: 'simulate', uri, function: fn, ...(scenario ? { scenario } : {}), timeBudgetMs: budget.timeBudgetMs, maxPreemptions: budget.maxPreemptions, cancelId,
      });
    } finally {
      clearInterval(timer);
      this.release(cancelKey);
    }
  }

  /** The background simulation of a version (null when the document moved on meanwhile). */
  background(uri: string, version: number, budget: SimulationBudget): Promise<Finding[] | null> {
    return this.request<Finding[] | null>(uri, { kind: 'background', uri, version, ...budget });
  }

  /** A text on its own (HEAD's version of a document, under `key`). */
  analyseText(key: string, text: string, config: JailcheckConfig, configKey: string, simulate?: SimulationBudget): Promise<TextAnalysis> {
    return this.request<TextAnalysis>(key, { kind: 'analyseText', text, config, configKey, ...(simulate ? { simulate } : {}) });
  }

  review(key: string, r: Omit<Extract<WorkerRequest, { kind: 'review' }>, 'id' | 'slot' | 'gen' | 'kind'>): Promise<ReviewResult> {
    return this.request<ReviewResult>(key, { kind: 'review', ...r });
  }

  close(uri: string): void {
    this.invalidate(uri);
    this.worker.postMessage({ kind: 'close', uri } satisfies WorkerRequest);
    this.release(uri);
  }

  /** Gives a key's cell back (its work was invalidated first). */
  release(key: string): void {
    const s = this.slots.get(key);
    if (s === undefined) return;
    Atomics.add(this.cells, s, 1);
    this.slots.delete(key);
    this.freeSlots.push(s);
  }

  dispose(): void {
    this.disposed = true;
    void this.worker.terminate();
  }
}
