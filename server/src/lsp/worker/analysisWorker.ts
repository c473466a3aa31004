/**
 * The language server's analysis thread: everything that takes time —
 * parsing, the checks, the simulator, patch review, HEAD's version — runs
 * here, so that the thread answering the editor (hover, lenses, commands)
 * never waits for it. It keeps one FileAnalyzer per open document and one
 * AnalysisCache per configuration, shared by documents, their HEAD and the
 * patches reviewed against them.
 *
 * Work is done one message at a time, updates first. An update stops when
 * its document's generation moves (an edit); any other work also steps
 * aside when an update is waiting, and is done again after it (see
 * messages.ts for the shared counters).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { JailcheckConfig } from '../../../../simulator/src/config';
import type { Finding } from '../../../../simulator/src/findings';
import { Cancelled } from '../../../../simulator/src/analysis/engine';
import { AnalysisCache } from '../../../../simulator/src/analysis/incremental';
import { pointRanges } from '../../../../simulator/src/analysis/lockState';
import { AnalysisService } from '../../analysisService';
import { FileAnalyzer, FileResult } from '../../fileAnalyzer';
import { InputError, MAX_INPUT_BYTES } from '../../input';
import { cascadeFunctions, mergeInterleavingFindings, simulateInTurn } from '../../interleavings';
import { createParser, CParser, ParserPreference } from '../../parsing/parser';
import { PatchDoesNotApply, reviewPatchAsync } from '../../review';
import { SimulationInputError, simulateFunction } from '../../simulate';
import type { FunctionInfo, Snapshot, TextAnalysis, WorkerError, WorkerMessage, WorkerRequest } from './messages';
import { UPDATES_SENT } from './messages';

export interface WorkerOptions {
  readonly parser: ParserPreference;
  readonly shared: SharedArrayBuffer;
  /** A module whose `simulateFunction` replaces the simulator (the tests' prepared reports). */
  readonly simulatorModule?: string;
}

type Simulate = typeof simulateFunction;
/** A request that is work (not a close or a cancellation). */
type Work = Exclude<WorkerRequest, { kind: 'close' | 'cancel' }>;

class AnalysisWorker {
  private readonly caches = new Map<string, AnalysisCache>();
  private readonly docs = new Map<string, { analyzer: FileAnalyzer; configKey: string; result?: FileResult }>();
  private readonly statesSent = new Set<number>();
  /** The version whose complete snapshot (with points) the server was last sent, per document. */
  private readonly pointsSent = new Map<string, number>();
  private readonly queue: Work[] = [];
  private busy = false;
  private updatesDone = 0;
  private readonly service: AnalysisService;
  private readonly cells: Int32Array;

  constructor(private readonly parser: CParser, shared: SharedArrayBuffer, private readonly simulate: Simulate, private readonly post: (m: WorkerMessage) => void) {
    this.cells = new Int32Array(shared);
    this.service = AnalysisService.withParser(parser, (config) => this.cacheOf(config, JSON.stringify(config)));
  }

  receive(m: WorkerRequest): void {
    if (m.kind === 'close') {
      this.docs.get(m.uri)?.analyzer.dispose();
      this.docs.delete(m.uri);
      return;
    }
    if (m.kind === 'cancel') return;
    // Updates first: they are what the user is waiting for.
    if (m.kind === 'update') {
      const at = this.queue.findIndex((q) => q.kind !== 'update');
      this.queue.splice(at < 0 ? this.queue.length : at, 0, m);
    } else this.queue.push(m);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let m = this.queue.shift(); m; m = this.queue.shift()) {
        try {
          const value = await this.handle(m);
          this.post({ kind: 'reply', id: m.id, ok: true, value });
        } catch (err) {
          if (err instanceof Cancelled && m.kind !== 'update' && !this.generationMoved(m)) {
            // Stepped aside for an update: done again once the updates are.
            this.queue.push(m);
            continue;
          }
          this.post({ kind: 'reply', id: m.id, ok: false, error: errorOf(err) });
          if (!(err instanceof Cancelled) && !(err instanceof InputError) && !(err instanceof SimulationInputError)) {
            this.post({ kind: 'log', level: 'error', message: `${m.kind} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}` });
          }
        } finally {
          if (m.kind === 'update') this.updatesDone++;
        }
        // Let messages that arrived meanwhile be read (an update jumps the queue).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.busy = false;
    }
  }

  private generationMoved(m: Work): boolean {
    return Atomics.load(this.cells, m.slot) !== m.gen;
  }

  /** For work other than updates: stop when the document changed or an update is waiting. */
  private stepAside(m: Work): () => boolean {
    return () => this.generationMoved(m) || Atomics.load(this.cells, UPDATES_SENT) > this.updatesDone;
  }

  private async handle(m: Work): Promise<unknown> {
    switch (m.kind) {
      case 'update': return this.update(m);
      case 'simulate': return this.simulateFunction(m);
      case 'background': return this.background(m);
      case 'analyseText': return this.analyseText(m);
      case 'review': return this.review(m);
    }
  }

  private cacheOf(config: JailcheckConfig, key: string): AnalysisCache {
    let c = this.caches.get(key);
    if (!c) {
      c = new AnalysisCache(config);
      this.caches.set(key, c);
    }
    return c;
  }

  private update(m: Extract<WorkerRequest, { kind: 'update' }>): Snapshot {
    const t0 = performance.now();
    if (m.text.length > MAX_INPUT_BYTES) {
      return {
        uri: m.uri, version: m.version, findings: [], functions: [], reextracted: 0, reanalysed: 0, durationMs: 0, complete: true, cascade: [],
        skipped: `This file is ${(m.text.length / 1048576).toFixed(1)} MB, more than jailcheck reads (${MAX_INPUT_BYTES / 1048576} MB); it is not analysed.`,
      };
    }
    let doc = this.docs.get(m.uri);
    if (!doc || doc.configKey !== m.configKey) {
      doc?.analyzer.dispose();
      doc = { analyzer: new FileAnalyzer(this.parser, this.cacheOf(m.config, m.configKey)), configKey: m.configKey };
      this.docs.set(m.uri, doc);
    }
    const shouldStop = (): boolean => this.generationMoved(m);
    const previous = doc.result?.version;
    let result: FileResult;
    try {
      result = doc.analyzer.update(m.text, m.version, {
        recordPoints: true, shouldStop,
        onFirst: (partial) => this.post({ kind: 'partial', id: m.id, value: this.snapshot(m.uri, partial, t0, false, previous) }),
      });
    } catch (err) {
      if (!(err instanceof Cancelled)) {
        // Start afresh next time: the analyzer's state may be half-updated.
        doc.analyzer.dispose();
        this.docs.delete(m.uri);
      }
      throw err;
    }
    doc.result = result;
    const snapshot = this.snapshot(m.uri, result, t0, true, previous);
    // Hover's states of the analyses the server does not have yet, once the snapshot is sent.
    setImmediate(() => this.sendStates(result, m));
    return snapshot;
  }

  /** `previous`: the version the analyzer's previous update was of (its text is what `sameText` compares with). */
  private snapshot(uri: string, r: FileResult, t0: number, complete: boolean, previous: number | undefined): Snapshot {
    const functions: FunctionInfo[] = r.functions.map((f) => ({
      name: f.ir.name, range: f.ir.range, paths: f.paths,
      findings: f.findings.filter((x) => x.severity !== 'information').length, analysed: f.analysed,
      ...(f.analysed ? { analysis: f.id } : {}),
      // A function whose text did not change has the points the server already has (moved).
      ...(r.sameText.has(f.ir) && this.pointsSent.get(uri) === previous ? {} : { points: pointRanges(f.ir).map((p) => [p.key, p.range.start, p.range.end] as const) }),
    }));
    if (complete) this.pointsSent.set(uri, r.version);
    return {
      uri, version: r.version, findings: r.findings, functions, reextracted: r.reextracted, reanalysed: r.reanalysed,
      durationMs: performance.now() - t0, complete, cascade: cascadeFunctions(r.ledger.rows, this.docs.get(uri)!.analyzer.config),
    };
  }

  private sendStates(r: FileResult, m: Extract<WorkerRequest, { kind: 'update' }>): void {
    for (const f of r.functions) {
      if (!f.analysed || this.statesSent.has(f.id)) continue;
      // A newer version is on its way: its own states follow it.
      if (this.generationMoved(m)) return;
      const states = f.states();
      if (!states) continue;
      this.statesSent.add(f.id);
      this.post({ kind: 'states', analysis: f.id, states: [...states] });
    }
  }

  private current(m: { uri: string }): FileResult {
    const r = this.docs.get(m.uri)?.result;
    if (!r) throw new InputError('this document was not analysed');
    return r;
  }

  private async simulateFunction(m: Extract<WorkerRequest, { kind: 'simulate' }>): Promise<unknown> {
    const r = this.current(m);
    const cancelled = (): boolean => this.generationMoved(m) || Atomics.load(this.cells, m.cancelId) !== 0;
    const report = await this.simulate({ ir: r.ir, ledgerRows: r.ledger.rows, summaries: r.analysis.summaries }, m.function, {
      ...(m.scenario ? { scenario: m.scenario } : {}), timeBudgetMs: m.timeBudgetMs, maxPreemptions: m.maxPreemptions, cancelled,
      config: this.docs.get(m.uri)!.analyzer.config,
    });
    return report;
  }

  private async background(m: Extract<WorkerRequest, { kind: 'background' }>): Promise<Finding[] | null> {
    const r = this.current(m);
    if (r.version !== m.version) return null;
    const config = this.docs.get(m.uri)!.analyzer.config;
    const runs = await simulateInTurn(this.simulate, { ir: r.ir, ledgerRows: r.ledger.rows, summaries: r.analysis.summaries },
      cascadeFunctions(r.ledger.rows, config), config, { budgetMs: m.timeBudgetMs, maxPreemptions: m.maxPreemptions, cancelled: () => this.generationMoved(m) });
    return runs ? mergeInterleavingFindings(runs, config.vocabulary.liveCounter) : null;
  }

  private async analyseText(m: Extract<WorkerRequest, { kind: 'analyseText' }>): Promise<TextAnalysis> {
    const analysed = this.service.analyse(m.text, { config: m.config, shouldStop: this.stepAside(m) });
    this.service.release(analysed);
    const findings = [...new Set([...analysed.findings, ...analysed.ledger.findings])];
    // Compared with the document's own text, as the editor has it (not as prepared for the parser).
    if (!m.simulate) return { text: m.text, findings };
    const source = { ir: analysed.ir, ledgerRows: analysed.ledger.rows, summaries: analysed.analysis.summaries };
    const runs = await simulateInTurn(this.simulate, source, cascadeFunctions(analysed.ledger.rows, m.config), m.config, {
      budgetMs: m.simulate.timeBudgetMs, maxPreemptions: m.simulate.maxPreemptions, cancelled: this.stepAside(m),
    });
    if (!runs) throw new Cancelled();
    // A counterexample a search did not reach is not "absent": unfinished scenarios leave nothing to compare with.
    const unfinished = runs.flatMap((r) => r.report.scenarios.filter((sc) => sc.verdict === 'incomplete').map((sc) => `${r.function}: ${sc.name}`));
    if (unfinished.length > 0) {
      this.post({ kind: 'log', level: 'info', message: `${unfinished.length} scenarios did not finish within the budget (${unfinished.slice(0, 3).join(', ')}…); their interleaving findings are not compared` });
      return { text: m.text, findings };
    }
    return { text: m.text, findings, interleaving: mergeInterleavingFindings(runs, m.config.vocabulary.liveCounter) };
  }

  private async review(m: Extract<WorkerRequest, { kind: 'review' }>): Promise<unknown> {
    const stop = this.stepAside(m);
    const config = m.config;
    const budget = m.simulate;
    return reviewPatchAsync(m.baseText, m.patchText, {
      service: this.service, config, baseName: m.baseName, patchName: m.patchName, shouldStop: stop,
      // The simulator runs one scenario at a time, within the background budget for both versions together.
      interleavings: async (analysed) => {
        if (!budget) return [];
        const source = { ir: analysed.ir, ledgerRows: analysed.ledger.rows, summaries: analysed.analysis.summaries };
        const runs = await simulateInTurn(this.simulate, source, cascadeFunctions(analysed.ledger.rows, config), config, {
          budgetMs: budget.timeBudgetMs / 2, maxPreemptions: budget.maxPreemptions, cancelled: stop,
        });
        if (!runs) throw new Cancelled();
        return mergeInterleavingFindings(runs, config.vocabulary.liveCounter);
      },
    });
  }
}

function errorOf(err: unknown): WorkerError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Cancelled) return { kind: 'cancelled', message };
  // Named by hand: the production bundle is minified, and with it the classes' names.
  if (err instanceof PatchDoesNotApply) return { kind: 'input', name: 'PatchDoesNotApply', message };
  if (err instanceof InputError || err instanceof SimulationInputError) return { kind: 'input', message };
  return { kind: 'internal', message };
}

async function main(): Promise<void> {
  const options = workerData as WorkerOptions;
  const port = parentPort!;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  let parser: CParser;
  try {
    parser = await createParser(options.parser);
  } catch (err) {
    // Only an explicit `native` choice can fail outright: say so and parse with WebAssembly.
    post({ kind: 'log', level: 'error', message: `the ${options.parser} tree-sitter binding did not load: ${err instanceof Error ? err.message : String(err)}` });
    parser = await createParser('wasm');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const simulate: Simulate = options.simulatorModule ? (require(options.simulatorModule) as { simulateFunction: Simulate }).simulateFunction : simulateFunction;
  const worker = new AnalysisWorker(parser, options.shared, simulate, post);
  port.on('message', (m: WorkerRequest) => worker.receive(m));
  post({ kind: 'ready', parser: { backend: parser.backend, ...(parser.fallbackReason ? { fallbackReason: parser.fallbackReason } : {}) } });
}

if (parentPort) void main();
