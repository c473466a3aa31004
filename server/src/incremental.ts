/**
 * One open document across edits, for the language server: a FileAnalyzer
 * (the pipeline every front end shares) with the answers the editor's
 * features ask of the latest version — the function at an offset, its
 * analysis for hover, the per-function counts of the code lenses.
 */
import type { Finding } from '../../simulator/src/findings';
import type { FunctionIR } from '../../simulator/src/ir';
import type { JailcheckConfig } from '../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { LockStateAt, pointAt, pointRanges } from '../../simulator/src/analysis/lockState';
import { AnalysisCache, fingerprint } from '../../simulator/src/analysis/incremental';
import type { CallEnv } from '../../simulator/src/analysis/summaries';
import type { LedgerRow } from '../../simulator/src/ledger/index';
import type { CParser } from './parsing/parser';
import type { ExtractedFile } from './extract/index';
import { FileAnalyzer, FileResult, UpdateOptions } from './fileAnalyzer';

export { fingerprint };

export interface DocumentResult {
  readonly version: number;
  readonly text: string;
  readonly ir: ExtractedFile;
  readonly findings: Finding[];
  /** The file's reference ledger rows (what the simulator builds its worlds from). */
  readonly ledgerRows: readonly LedgerRow[];
  /** Callee summaries of this analysis (the simulator uses them for calls it does not run). */
  readonly summaries: CallEnv;
  /** Functions re-extracted and re-analysed by this update (the rest came from the cache). */
  readonly reextracted: number;
  readonly reanalysed: number;
  readonly timings: { readonly parseMs: number; readonly extractMs: number; readonly analyseMs: number };
  /** The pipeline's whole result. */
  readonly file: FileResult;
}

export class DocumentAnalyzer {
  private analyzer: FileAnalyzer;
  private last?: DocumentResult;

  constructor(private readonly parser: CParser, config: JailcheckConfig = DEFAULT_CONFIG, cache?: AnalysisCache) {
    this.analyzer = new FileAnalyzer(parser, cache && cache.config === config ? cache : new AnalysisCache(config));
  }

  /** New settings: a new cache (every cached result is the old settings'). */
  setConfig(config: JailcheckConfig, cache?: AnalysisCache): void {
    this.analyzer.dispose();
    this.analyzer = new FileAnalyzer(this.parser, cache && cache.config === config ? cache : new AnalysisCache(config));
    this.last = undefined;
  }

  get result(): DocumentResult | undefined {
    return this.last;
  }

  update(source: string, version: number, options: Omit<UpdateOptions, 'recordPoints'> = {}): DocumentResult {
    const r = this.analyzer.update(source, version, { ...options, recordPoints: true });
    this.last = {
      version, text: r.text, ir: r.ir, findings: r.findings, ledgerRows: r.ledger.rows, summaries: r.analysis.summaries,
      reextracted: r.reextracted, reanalysed: r.reanalysed,
      timings: { parseMs: r.timings.parseMs, extractMs: r.timings.extractMs, analyseMs: r.timings.analyseMs + r.timings.ledgerMs },
      file: r,
    };
    return this.last;
  }

  /** The lock state before the statement at `offset` (hover's), from the function's point states. */
  lockStateAt(offset: number): LockStateAt | undefined {
    const f = this.analyzer.functionAt(offset);
    const states = f?.states();
    if (!f || !states) return undefined;
    const point = pointAt(pointRanges(f.ir), offset);
    const state = point && states.get(point.key);
    return point && state ? { function: f.ir.name, range: point.range, ...state } : undefined;
  }

  functionAt(offset: number): FunctionIR | undefined {
    return this.analyzer.functionAt(offset)?.ir;
  }

  functionNamed(name: string): FunctionIR | undefined {
    return this.analyzer.functionNamed(name)?.ir;
  }

  /** Paths analysed and findings, per function (for code lenses). */
  functionSummaries(): Array<{ ir: FunctionIR; paths: number; findings: number; analysed: boolean }> {
    return (this.last?.file.functions ?? []).map((f) => ({
      ir: f.ir, paths: f.paths, findings: f.findings.filter((x) => x.severity !== 'information').length, analysed: f.analysed,
    }));
  }

  /** Frees the document's syntax tree (the document was closed, or the analyzer is dropped). */
  dispose(): void {
    this.analyzer.dispose();
  }
}
