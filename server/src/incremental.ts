/**
 * Analysis of one open document across edits, for the language server.
 *
 * - The tree is re-parsed incrementally: the edit given to tree-sitter is the
 *   one range where the prepared text changed (prepareKernelSource can blank
 *   a line away from the user's edit, so the user's edit alone is not enough).
 * - A function whose text did not change keeps its IR; if it only moved, the
 *   IR is moved (shiftRanges), not re-extracted.
 * - A function is re-analysed only when its text or the text of a function it
 *   calls (transitively) changed; moved results are moved.
 * - Findings of the whole file are then put together from the per-function
 *   results; the pr_uref ledger, which is about the whole file, is put
 *   together from per-function rows cached the same way.
 */
import type { Finding } from '../../simulator/src/findings';
import type { FunctionIR } from '../../simulator/src/ir';
import type { JailcheckConfig } from '../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { analyzeOne, bottomUp, fileFacts, FunctionAnalysis, SummaryCache } from '../../simulator/src/analysis/analyze';
import type { CallEnv, Summary } from '../../simulator/src/analysis/summaries';
import { shiftRanges } from '../../simulator/src/shift';
import { ledgerOf, ledgerRowsOf, LedgerRow } from '../../simulator/src/ledger/index';
import type { CParser } from './parsing/parser';
import { prepareKernelSource } from './parsing/preprocess';
import { pointAt, regionParser } from './parsing/region';
import type { SyntaxTree } from './parsing/syntax';
import { extractFunction, fileDefinesOf, fileGlobalsOf, ExtractedFile, placesOf } from './extract/index';
import { findFunctions } from './extract/functions';

interface FunctionEntry {
  readonly text: string;
  readonly start: number;
  readonly ir: FunctionIR;
  /** Own text plus the texts of everything it calls, hashed: what its analysis depends on. */
  depKey?: string;
  findings?: Finding[];
  /** The function's rows of the file's reference ledger (computed with its findings). */
  ledgerRows?: LedgerRow[];
  analysis?: FunctionAnalysis;
  /** Where the analysis (its hover points) was computed; hover offsets are translated by the difference. */
  analysisStart?: number;
}

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
}

/** FNV-1a, twice with different seeds: a 64-bit fingerprint of a text. */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(36) + (b >>> 0).toString(36);
}

export class DocumentAnalyzer {
  private tree?: SyntaxTree;
  private text = '';
  private entries: FunctionEntry[] = [];
  private readonly summaries = new Map<string, Summary | undefined>();
  private last?: DocumentResult;

  constructor(private readonly parser: CParser, private config: JailcheckConfig = DEFAULT_CONFIG) {}

  /** New settings invalidate every cached result. */
  setConfig(config: JailcheckConfig): void {
    this.config = config;
    this.entries = [];
    this.summaries.clear();
  }

  get result(): DocumentResult | undefined {
    return this.last;
  }

  update(source: string, version: number): DocumentResult {
    const t0 = performance.now();
    const text = prepareKernelSource(source, this.config.vocabulary.defines);
    this.tree = this.reparse(text);
    const t1 = performance.now();

    const reparse = regionParser(this.parser);
    const sites = findFunctions(this.tree.rootNode, text, reparse);
    const byText = new Map<string, FunctionEntry[]>();
    for (const e of this.entries) {
      const list = byText.get(e.text);
      if (list) list.push(e);
      else byText.set(e.text, [e]);
    }
    let reextracted = 0;
    const entries: FunctionEntry[] = sites.map((site) => {
      const slice = text.slice(site.start, site.end);
      const candidates = byText.get(slice);
      const old = candidates?.shift();
      if (old) {
        if (old.start === site.start) return old;
        const delta = site.start - old.start;
        return {
          ...old, start: site.start, ir: shiftRanges(old.ir, delta),
          findings: old.findings && shiftRanges(old.findings, delta),
          ledgerRows: old.ledgerRows && shiftRanges(old.ledgerRows, delta),
        };
      }
      reextracted++;
      return { text: slice, start: site.start, ir: extractFunction(site, text, { vocabulary: this.config.vocabulary, reparse }) };
    });
    reparse.release();
    const t2 = performance.now();

    const defines = fileDefinesOf(this.tree.rootNode);
    const ir: ExtractedFile = {
      functions: entries.map((e) => e.ir), problems: [], constants: defines.constants, globals: fileGlobalsOf(this.tree.rootNode), sites: placesOf(sites), flagGroups: defines.groups,
    };
    const depKeys = this.dependencyKeys(entries);
    const facts = fileFacts(ir);
    const env = new SummaryCache(ir, this.config, facts, this.summaries, (name) => depKeys.get(name) ?? '');
    let reanalysed = 0;
    // Callees before callers, as analyzeFile does: a function's own analysis is then also the
    // summary its callers use (env.record), instead of a second analysis made for the first caller.
    const entryOf = new Map(entries.map((e) => [e.ir, e]));
    const ordered = bottomUp(entries.map((e) => e.ir));
    // bottomUp() lists each name once; a second function of the same name (two #ifdef sides,
    // a copy being edited) is analysed after, as before.
    const listed = new Set(ordered);
    for (const fn of [...ordered, ...entries.map((e) => e.ir).filter((f) => !listed.has(f))]) {
      const e = entryOf.get(fn)!;
      const key = depKeys.get(e.ir.name)!;
      if (e.depKey === key && e.findings) continue;
      reanalysed++;
      const r = analyzeOne(e.ir, this.config, facts, env, true);
      if (r.analysis) env.record(e.ir, r.analysis);
      e.depKey = key;
      e.findings = r.findings;
      e.ledgerRows = ledgerRowsOf(e.ir, this.config, facts, env);
      e.analysis = r.analysis;
      e.analysisStart = e.start;
    }
    const ledger = ledgerOf(entries.flatMap((e) => e.ledgerRows ?? []), this.config);
    const t3 = performance.now();
    this.entries = entries;
    this.text = text;
    const findings = [...entries.flatMap((e) => e.findings ?? []), ...ledger.findings].sort((a, b) => a.range.start - b.range.start);
    this.last = {
      version, text, ir, findings, ledgerRows: ledger.rows, summaries: env, reextracted, reanalysed,
      timings: { parseMs: t1 - t0, extractMs: t2 - t1, analyseMs: t3 - t2 },
    };
    return this.last;
  }

  /**
   * The analysis of the function containing `offset`, and the offset to ask
   * it about (a function that moved since it was analysed answers in its old
   * coordinates). Re-analyses if the cached one was dropped.
   */
  analysisAt(offset: number): { analysis: FunctionAnalysis; offset: number } | undefined {
    const e = this.entries.find((x) => x.ir.range.start <= offset && offset <= x.ir.range.end);
    if (!e?.analysis || e.analysisStart === undefined) return undefined;
    return { analysis: e.analysis, offset: offset - (e.start - e.analysisStart) };
  }

  functionAt(offset: number): FunctionIR | undefined {
    return this.entries.find((x) => x.ir.range.start <= offset && offset <= x.ir.range.end)?.ir;
  }

  functionNamed(name: string): FunctionIR | undefined {
    return this.entries.find((x) => x.ir.name === name)?.ir;
  }

  /** Paths analysed and findings, per function (for code lenses). */
  functionSummaries(): Array<{ ir: FunctionIR; paths: number; findings: number; analysed: boolean }> {
    return this.entries.map((e) => ({
      ir: e.ir, paths: e.analysis?.paths ?? 0,
      findings: (e.findings ?? []).filter((f) => f.severity !== 'information').length, analysed: !!e.analysis,
    }));
  }

  /** Frees the document's syntax tree (the document was closed, or the analyzer is dropped). */
  dispose(): void {
    if (this.tree) this.parser.release(this.tree);
    this.tree = undefined;
  }

  private reparse(text: string): SyntaxTree {
    const old = this.tree;
    if (!old || !this.text) {
      if (old) this.parser.release(old);
      return this.parser.parse(text);
    }
    // The one changed range between the texts tree-sitter saw last time and now.
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
    const tree = this.parser.parse(text, old);
    // Nothing keeps the old tree's nodes (the IR is plain data): free it (see CParser.release).
    this.parser.release(old);
    return tree;
  }

  /** For each function: its text's fingerprint and those of every function it calls, transitively. */
  private dependencyKeys(entries: readonly FunctionEntry[]): Map<string, string> {
    const own = new Map<string, string>();
    const calls = new Map<string, Set<string>>();
    for (const e of entries) {
      own.set(e.ir.name, fingerprint(e.text));
      const callees = new Set<string>();
      for (const b of e.ir.blocks) for (const op of b.ops) if (op.kind === 'call') callees.add(op.callee);
      calls.set(e.ir.name, callees);
    }
    const keys = new Map<string, string>();
    for (const name of own.keys()) {
      const seen = new Set<string>([name]);
      const stack = [name];
      while (stack.length) {
        for (const c of calls.get(stack.pop()!) ?? []) {
          if (own.has(c) && !seen.has(c)) {
            seen.add(c);
            stack.push(c);
          }
        }
      }
      keys.set(name, [...seen].sort().map((n) => `${n}:${own.get(n)}`).join(','));
    }
    return keys;
  }
}
