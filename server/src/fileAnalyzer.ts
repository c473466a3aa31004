/**
 * The one pipeline from C text to every static finding, for the CLI, the
 * patch reviewer and the language server alike: prepare the kernel source,
 * parse it (incrementally, from the previous version's tree), find the
 * functions, extract the IR of those whose text changed, analyse the
 * version with early cutoff (simulator/src/analysis/incremental.ts), and
 * put the file's reference ledger together from the functions' rows.
 *
 * A FileAnalyzer follows one document through its versions; an
 * AnalysisCache can be shared by several (the editor's open file, its HEAD,
 * a patch's base and result), so that what one analysed another reuses.
 */
import type { Finding } from '../../simulator/src/findings';
import type { FunctionIR } from '../../simulator/src/ir';
import type { JailcheckConfig } from '../../simulator/src/config';
import { AnalysisCache, analyzeVersion, FunctionResult, sameIrKey, VersionAnalysis } from '../../simulator/src/analysis/incremental';
import { ledgerOf, Ledger } from '../../simulator/src/ledger/index';
import { shiftRanges } from '../../simulator/src/shift';
import type { CParser } from './parsing/parser';
import { prepareKernelSource } from './parsing/preprocess';
import { pointAt, regionParser } from './parsing/region';
import type { SyntaxTree } from './parsing/syntax';
import { extractFunction, fileDefinesOf, fileGlobalsOf, ExtractedFile, placesOf } from './extract/index';
import { findFunctions, FunctionSite } from './extract/functions';

export interface FileTimings {
  readonly parseMs: number;
  readonly extractMs: number;
  /** The static checks and the ledger's rows (one engine run per function; see analyze.ts). */
  readonly analyseMs: number;
  /** Putting the ledger's rows together and drawing its findings. */
  readonly ledgerMs: number;
}

export interface FileResult {
  readonly version: number;
  /** The text as analysed (offsets are the original's; see prepareKernelSource). */
  readonly text: string;
  readonly ir: ExtractedFile;
  /** Every function's result, in file order (the same order as `ir.functions`). */
  readonly functions: readonly FunctionResult[];
  readonly analysis: VersionAnalysis;
  readonly ledger: Ledger;
  /** The static checks' findings, the ledger's, and the file's parse problems, by position. */
  readonly findings: Finding[];
  /** Functions whose IR was extracted anew for this version, and analysed anew (the rest was reused). */
  readonly reextracted: number;
  /** The functions whose text is the previous version's (moved, at most): their program points are too. */
  readonly sameText: ReadonlySet<FunctionIR>;
  readonly reanalysed: number;
  readonly timings: FileTimings;
}

export interface UpdateOptions {
  readonly recordPoints?: boolean;
  /** Asked between functions and inside long ones: true abandons the version (Cancelled is thrown). */
  readonly shouldStop?: () => boolean;
  /**
   * When some functions changed and their callers must be analysed again,
   * called with the result where only the changed ones are new (the others
   * keep the previous version's findings, moved): the editor publishes it at
   * once and the complete result when it comes.
   */
  readonly onFirst?: (partial: FileResult) => void;
}

interface FunctionEntry {
  readonly text: string;
  readonly start: number;
  readonly ir: FunctionIR;
}

export class FileAnalyzer {
  private tree_?: SyntaxTree;
  private text = '';
  private entries: FunctionEntry[] = [];
  private last?: FileResult;

  constructor(private readonly parser: CParser, private readonly cache: AnalysisCache) {}

  get config(): JailcheckConfig {
    return this.cache.config;
  }

  get result(): FileResult | undefined {
    return this.last;
  }

  /** The latest version's syntax tree (until dispose()). */
  get tree(): SyntaxTree | undefined {
    return this.tree_;
  }

  /** Analyses a new version of the document. */
  update(source: string, version = 0, options: UpdateOptions = {}): FileResult {
    const config = this.config;
    const t0 = performance.now();
    const text = prepareKernelSource(source, config.vocabulary.defines);
    const tree = this.reparse(text);
    const t1 = performance.now();

    const reparse = regionParser(this.parser);
    let sites: FunctionSite[];
    let reextracted = 0;
    const problems: ExtractedFile['problems'][number][] = [];
    const byText = new Map<string, FunctionEntry[]>();
    for (const e of this.entries) {
      const list = byText.get(e.text);
      if (list) list.push(e);
      else byText.set(e.text, [e]);
    }
    const entries: FunctionEntry[] = [];
    const changed = new Set<string>();
    const sameText = new Set<FunctionIR>();
    try {
      sites = findFunctions(tree.rootNode, text, reparse);
      for (const site of sites) {
        const slice = text.slice(site.start, site.end);
        const old = byText.get(slice)?.shift();
        if (old) {
          if (old.start === site.start) entries.push(old);
          else {
            const ir = shiftRanges(old.ir, site.start - old.start);
            sameIrKey(ir, old.ir);
            entries.push({ text: slice, start: site.start, ir });
          }
          sameText.add(entries[entries.length - 1]!.ir);
          continue;
        }
        reextracted++;
        changed.add(site.name);
        try {
          entries.push({ text: slice, start: site.start, ir: extractFunction(site, text, { vocabulary: config.vocabulary, reparse }) });
        } catch (err) {
          // A bug in the front end costs one function, not the file.
          problems.push({
            message: `internal error while reading ${site.name}: ${err instanceof Error ? err.message : String(err)}`,
            range: { start: site.start, end: site.end },
          });
        }
      }
    } finally {
      reparse.release();
    }
    const defines = fileDefinesOf(tree.rootNode);
    const ir: ExtractedFile = {
      functions: entries.map((e) => e.ir), problems, constants: defines.constants, globals: fileGlobalsOf(tree.rootNode),
      sites: placesOf(sites), flagGroups: defines.groups,
    };
    const t2 = performance.now();

    const finish = (analysis: VersionAnalysis, t3: number): FileResult => {
      const ledger = ledgerOf(analysis.ledgerRows, config);
      const findings = [...analysis.findings, ...ledger.findings];
      for (const p of ir.problems) {
        findings.push({ rule: 'parse-problem', severity: 'information', function: '', range: p.range, message: p.message, steps: [], related: [] });
      }
      findings.sort((a, b) => a.range.start - b.range.start);
      return {
        version, text, ir, functions: analysis.results, analysis, ledger, findings, reextracted, sameText, reanalysed: analysis.analysed,
        timings: { parseMs: t1 - t0, extractMs: t2 - t1, analyseMs: t3 - t2, ledgerMs: performance.now() - t3 },
      };
    };
    const previous = this.last;
    const analysis = analyzeVersion(ir, this.cache, {
      recordPoints: options.recordPoints, shouldStop: options.shouldStop,
      first: previous && changed.size > 0 ? changed : undefined,
      onFirst: options.onFirst && ((done) => options.onFirst!(finish(partialVersion(ir, done, previous!), performance.now()))),
    });
    const result = finish(analysis, performance.now());
    this.entries = entries;
    this.text = text;
    this.last = result;
    return result;
  }

  /** The result of the function containing `offset` in the latest version. */
  functionAt(offset: number): FunctionResult | undefined {
    return this.last?.functions.find((f) => f.ir.range.start <= offset && offset <= f.ir.range.end);
  }

  functionNamed(name: string): FunctionResult | undefined {
    return this.last?.functions.find((f) => f.ir.name === name);
  }

  /** Frees the syntax tree (the document was closed, or the analyzer is dropped). */
  dispose(): void {
    if (this.tree_) this.parser.release(this.tree_);
    this.tree_ = undefined;
  }

  private reparse(text: string): SyntaxTree {
    const old = this.tree_;
    if (!old || !this.text) {
      if (old) this.parser.release(old);
      this.tree_ = this.parser.parse(text);
      return this.tree_;
    }
    // The one changed range between the texts tree-sitter saw last time and now (prepareKernelSource
    // can blank a line away from the user's edit, so the user's edit alone is not enough).
    const prev = this.text;
    let start = 0;
    const min = Math.min(prev.length, text.length);
    while (start < min && prev.charCodeAt(start) === text.charCodeAt(start)) start++;
    if (start === prev.length && start === text.length) return old;
    let oldEnd = prev.length;
    let newEnd = text.length;
    while (oldEnd > start && newEnd > start && prev.charCodeAt(oldEnd - 1) === text.charCodeAt(newEnd - 1)) {
      oldEnd--;
      newEnd--;
    }
    old.edit({
      startIndex: start, oldEndIndex: oldEnd, newEndIndex: newEnd,
      startPosition: pointAt(prev, start), oldEndPosition: pointAt(prev, oldEnd), newEndPosition: pointAt(text, newEnd),
    });
    this.tree_ = this.parser.parse(text, old);
    // Nothing keeps the old tree's nodes (the IR is plain data): free it (see CParser.release).
    this.parser.release(old);
    return this.tree_;
  }
}

/**
 * A version where only the functions in `done` have new results: the
 * others keep the previous version's (by name and order), moved with their
 * text, or have none yet.
 */
function partialVersion(ir: ExtractedFile, done: ReadonlyMap<FunctionIR, FunctionResult>, previous: FileResult): VersionAnalysis {
  const old = new Map<string, FunctionResult[]>();
  for (const r of previous.functions) old.set(r.ir.name, [...(old.get(r.ir.name) ?? []), r]);
  const results = ir.functions.map((fn): FunctionResult => {
    const d = done.get(fn);
    const o = old.get(fn.name)?.shift();
    // Its ledger's own run is still to come: the previous version's rows stand in until then.
    if (d?.ledgerPending && o) return { ...d, ledgerRows: shiftRanges(o.ledgerRows, fn.range.start - o.ir.range.start) };
    if (d) return d;
    if (!o) return { ir: fn, findings: [], ledgerRows: [], analysed: false, paths: 0, id: 0, states: () => undefined, reused: true };
    const delta = fn.range.start - o.ir.range.start;
    return { ...o, ir: fn, findings: shiftRanges(o.findings, delta), ledgerRows: shiftRanges(o.ledgerRows, delta) };
  });
  const findings = results.flatMap((r) => r.findings).sort((a, b) => a.range.start - b.range.start || a.rule.localeCompare(b.rule));
  return {
    ...previous.analysis, results, findings, ledgerRows: results.flatMap((r) => r.ledgerRows),
    analysed: done.size, reused: 0,
  };
}
