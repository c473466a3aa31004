/**
 * One place that turns C text into findings: parse (tree-sitter), extract
 * (IR), analyse (simulator/). The CLI, the language server and the patch
 * reviewer all go through here, so they agree on every finding.
 */
import type { Finding } from '../../simulator/src/findings';
import type { JailcheckConfig } from '../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { analyzeFile, FileAnalysis } from '../../simulator/src/analysis/analyze';
import { buildLedger, Ledger } from '../../simulator/src/ledger/index';
import { createParser, CParser, ParserPreference } from './parsing/parser';
import { prepareKernelSource } from './parsing/preprocess';
import { interleavingFindings } from './interleavings';
import { simulatorFor } from './simulate';
import { regionParser } from './parsing/region';
import { ExtractedFile, extractFile } from './extract/index';
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
  /** Analyse only these functions (the rest are still read, for summaries). */
  readonly only?: ReadonlySet<string>;
  readonly recordPoints?: boolean;
  /**
   * Run the simulator's built-in scenarios of the functions that give parent
   * references back, and report their counterexamples (interleaving findings).
   */
  readonly simulate?: boolean | { readonly timeBudgetMs?: number; readonly maxPreemptions?: number };
}

export class AnalysisService {
  private constructor(readonly parser: CParser) {}

  static async create(preference: ParserPreference = 'auto'): Promise<AnalysisService> {
    return new AnalysisService(await createParser(preference));
  }

  static withParser(parser: CParser): AnalysisService {
    return new AnalysisService(parser);
  }

  /** Frees the text's syntax tree (with the WebAssembly parser it is not garbage-collected); `analysed.tree` is unusable after. */
  release(analysed: AnalysedText): void {
    this.parser.release(analysed.tree);
  }

  get backend(): CParser['backend'] {
    return this.parser.backend;
  }

  analyse(source: string, options: AnalyseOptions = {}): AnalysedText {
    const config = options.config ?? DEFAULT_CONFIG;
    const t0 = performance.now();
    const text = prepareKernelSource(source, config.vocabulary.defines);
    const tree = this.parser.parse(text);
    const t1 = performance.now();
    const regions = regionParser(this.parser);
    const ir = extractFile(tree.rootNode, text, { vocabulary: config.vocabulary, reparse: regions });
    regions.release();
    const t2 = performance.now();
    const analysis = analyzeFile(ir, config, { recordPoints: options.recordPoints, only: options.only });
    const t3 = performance.now();
    // The ledger is about the whole file: it always reads every function, and its findings are
    // kept when they touch a function asked for.
    const ledger = buildLedger(ir, config, analysis.summaries);
    const t4 = performance.now();
    const only = options.only;
    const inOnly = (r: { range: { start: number; end: number } }): boolean =>
      ir.functions.some((fn) => only!.has(fn.name) && fn.range.start <= r.range.start && r.range.end <= fn.range.end);
    const inScope = (f: Finding): boolean => !only || only.has(f.function) || f.related.some(inOnly) || f.steps.some(inOnly);
    const findings = [...analysis.findings, ...ledger.findings.filter(inScope)];
    let simulateMs = 0;
    if (options.simulate) {
      const o = options.simulate === true ? {} : options.simulate;
      const sim = simulatorFor({ ir, ledgerRows: ledger.rows, summaries: analysis.summaries }, config);
      const run = interleavingFindings(sim, ledger.rows, config, o);
      // Like the ledger's, these are about the whole file: a schedule runs many functions.
      findings.push(...run.findings);
      simulateMs = run.elapsedMs;
    }
    for (const p of ir.problems) {
      findings.push({
        rule: 'parse-problem', severity: 'information', function: '', range: p.range, message: p.message, steps: [], related: [],
      });
    }
    findings.sort((a, b) => a.range.start - b.range.start);
    return { text, ir, analysis, ledger, findings, tree, timings: { parseMs: t1 - t0, extractMs: t2 - t1, analyseMs: t3 - t2, ledgerMs: t4 - t3, simulateMs } };
  }
}
