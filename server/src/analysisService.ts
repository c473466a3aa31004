/**
 * Text in, every finding out, for the CLI and the reviewer: one
 * FileAnalyzer run (the pipeline the language server uses too) plus, when
 * asked, the simulator's interleaving findings. Analyses share one
 * AnalysisCache per configuration, so a second version of the same code (a
 * patch's result after its base) only analyses what changed.
 */
import type { Finding } from '../../simulator/src/findings';
import type { JailcheckConfig } from '../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { AnalysisCache, FileAnalysis } from '../../simulator/src/analysis/incremental';
import type { Ledger } from '../../simulator/src/ledger/index';
import { createParser, CParser, ParserPreference } from './parsing/parser';
import { interleavingFindings } from './interleavings';
import { simulatorFor } from './simulate';
import { ExtractedFile, FunctionPlace, placesOf } from './extract/index';
import { findFunctions } from './extract/functions';
import { prepareKernelSource } from './parsing/preprocess';
import { regionParser } from './parsing/region';
import { FileAnalyzer } from './fileAnalyzer';
import type { SyntaxTree } from './parsing/syntax';

export interface Timings {
  readonly parseMs: number;
  readonly extractMs: number;
  readonly analyseMs: number;
  readonly ledgerMs: number;
  /** 0 when the simulator did not run. */
  readonly simulateMs: number;
}

export interface AnalysedText {
  /** The text as analysed (offsets are the original's; see prepareKernelSource). */
  readonly text: string;
  readonly ir: ExtractedFile;
  readonly analysis: FileAnalysis;
  /** The file's reference ledger (its asymmetry findings are among `findings`). */
  readonly ledger: Ledger;
  /** Every finding: the checks', and one note per function the front end could not read. */
  readonly findings: Finding[];
  readonly timings: Timings;
  readonly tree: SyntaxTree;
}

export interface AnalyseOptions {
  readonly config?: JailcheckConfig;
  /** Report only these functions' findings (every function is still analysed: the ledger is the file's). */
  readonly only?: ReadonlySet<string>;
  readonly recordPoints?: boolean;
  /**
   * Run the simulator's built-in scenarios of the functions that give parent
   * references back, and report their counterexamples (interleaving findings).
   */
  readonly simulate?: boolean | { readonly timeBudgetMs?: number; readonly maxPreemptions?: number };
  /** Asked between functions and inside long ones: true abandons the analysis (Cancelled is thrown). */
  readonly shouldStop?: () => boolean;
}

export class AnalysisService {
  private readonly caches = new Map<JailcheckConfig, AnalysisCache>();
  private readonly analyzers = new WeakMap<AnalysedText, FileAnalyzer>();

  private constructor(readonly parser: CParser, private readonly caching?: (config: JailcheckConfig) => AnalysisCache) {}

  static async create(preference: ParserPreference = 'auto'): Promise<AnalysisService> {
    return new AnalysisService(await createParser(preference));
  }

  /** `caches` gives the cache for a configuration (the language server shares its documents' with reviews and HEAD). */
  static withParser(parser: CParser, caches?: (config: JailcheckConfig) => AnalysisCache): AnalysisService {
    return new AnalysisService(parser, caches);
  }

  /** The cache of function analyses for `config`, shared by every analysis with it. */
  cacheFor(config: JailcheckConfig): AnalysisCache {
    if (this.caching) return this.caching(config);
    let c = this.caches.get(config);
    if (!c) {
      c = new AnalysisCache(config);
      this.caches.set(config, c);
    }
    return c;
  }

  /** Frees the text's syntax tree (with the WebAssembly parser it is not garbage-collected); `analysed.tree` is unusable after. */
  release(analysed: AnalysedText): void {
    this.analyzers.get(analysed)?.dispose();
  }

  get backend(): CParser['backend'] {
    return this.parser.backend;
  }

  /** Where the text's functions are (the front end's finding of them, with nothing extracted or analysed). */
  functionSites(source: string, config: JailcheckConfig = DEFAULT_CONFIG): FunctionPlace[] {
    const text = prepareKernelSource(source, config.vocabulary.defines);
    const tree = this.parser.parse(text);
    const regions = regionParser(this.parser);
    try {
      return placesOf(findFunctions(tree.rootNode, text, regions));
    } finally {
      regions.release();
      this.parser.release(tree);
    }
  }

  analyse(source: string, options: AnalyseOptions = {}): AnalysedText {
    const config = options.config ?? DEFAULT_CONFIG;
    const analyzer = new FileAnalyzer(this.parser, this.cacheFor(config));
    const r = analyzer.update(source, 0, { recordPoints: options.recordPoints, shouldStop: options.shouldStop });
    const only = options.only;
    const inOnly = (x: { range: { start: number; end: number } }): boolean =>
      r.ir.functions.some((fn) => only!.has(fn.name) && fn.range.start <= x.range.start && x.range.end <= fn.range.end);
    // The ledger's findings are about the whole file: kept when they touch a function asked for.
    const ledgerFindings = new Set(r.ledger.findings);
    const inScope = (f: Finding): boolean => !only || only.has(f.function) || (ledgerFindings.has(f) && (f.related.some(inOnly) || f.steps.some(inOnly)));
    const findings = r.findings.filter((f) => f.rule === 'parse-problem' && f.function === '' ? true : inScope(f));
    let simulateMs = 0;
    if (options.simulate) {
      const o = options.simulate === true ? {} : options.simulate;
      const sim = simulatorFor({ ir: r.ir, ledgerRows: r.ledger.rows, summaries: r.analysis.summaries }, config);
      const run = interleavingFindings(sim, r.ledger.rows, config, o);
      // Like the ledger's, these are about the whole file: a schedule runs many functions.
      findings.push(...run.findings);
      simulateMs = run.elapsedMs;
      findings.sort((a, b) => a.range.start - b.range.start);
    }
    const analysis: FileAnalysis = only ? { ...r.analysis, findings: r.analysis.findings.filter((f) => only.has(f.function)) } : r.analysis;
    const analysed: AnalysedText = {
      text: r.text, ir: r.ir, analysis, ledger: r.ledger, findings, tree: analyzer.tree!,
      timings: { ...r.timings, simulateMs },
    };
    this.analyzers.set(analysed, analyzer);
    return analysed;
  }
}
