/**
 * Analysis of one version of a file, reusing what an earlier version (or
 * another file: a patch's base, HEAD's blob) already computed. The scheme is
 * the early cutoff of incremental compilers (salsa, rust-analyzer):
 *
 * - a function's analysis is cached under its IR with the ranges left out
 *   (a function that only moved, or changed only in spacing and comments, is
 *   the same function), the shape of the file's functions it calls, and the
 *   summaries of the callees it consulted, as they were;
 * - a cached analysis is valid for a new version when each of those
 *   callees' summaries is still the same (asked again, in the same order, so
 *   the check itself sees what an analysis would see): a function whose
 *   summary came out equal after an edit therefore leaves its callers alone;
 * - a valid analysis is moved to where the function now stands
 *   (shift.ts offsetMap), not recomputed.
 *
 * Within one version, summaries are what SummaryCache made them before this
 * module existed: the first analysis of a function in that version gives its
 * summary (its own, in callees-first order, or one made on demand for a
 * caller in a cycle), so findings do not depend on what was cached.
 */
import type { JailcheckConfig } from '../config';
import type { Finding } from '../findings';
import type { FileIR, FunctionIR, TypeInfo } from '../ir';
import type { LedgerRow } from '../ledger/records';
import { offsetMap, remapRanges } from '../shift';
import { analyzeOne, fileFacts, FunctionAnalysis, summaryFromExits, withDuplicates } from './analyze';
import { pointStates, PointState } from './lockState';
import type { FileFacts } from './context';
import { Cancelled } from './engine';
import type { CallEnv, Summary } from './summaries';
import type { Value } from './state';

/** One function's results in one version of the file. */
export interface FunctionResult {
  /** The function as it is in this version. */
  readonly ir: FunctionIR;
  /** In this version's positions. */
  readonly findings: readonly Finding[];
  readonly ledgerRows: readonly LedgerRow[];
  /** Whether the function was analysed (it could be read); `paths` then says over how many abstract paths. */
  readonly analysed: boolean;
  readonly paths: number;
  /**
   * Identifies the analysis behind this result: a result reused from an
   * earlier version (the same function, moved or respaced) has the same id,
   * and so the same hover states.
   */
  readonly id: number;
  /**
   * Hover's state at each program point (engine.pointKey), computed on first
   * asking when the analysis kept its points (then the analysis itself is
   * let go: the states are all hover needs of it). Undefined for a function
   * not analysed or analysed without points.
   */
  states(): Map<number, PointState> | undefined;
  /** Its summary for callers (undefined when it could not be analysed). */
  readonly summary?: Summary;
  /** Whether this version's result was taken from the cache. */
  readonly reused: boolean;
  /** The ledger's own run of it is still to come (an early result, VersionOptions.onFirst): `ledgerRows` is empty meanwhile. */
  readonly ledgerPending?: boolean;
}

interface CacheEntry {
  readonly id: number;
  /** The consulted callees and their summaries' signatures, in the order they were asked for. */
  readonly deps: ReadonlyArray<readonly [string, string]>;
  readonly ir: FunctionIR;
  readonly findings: readonly Finding[];
  ledgerRows: readonly LedgerRow[];
  /** The ledger's own run, deferred (see analyze.ts deferLedger); until made, the entry is not reused. */
  ledgerLater?: () => LedgerRow[];
  readonly paths: number;
  readonly analysed: boolean;
  /** The whole analysis, until hover's states are drawn from it. */
  analysis?: FunctionAnalysis;
  states?: Map<number, PointState>;
  readonly summary?: Summary;
  readonly points: boolean;
  /** When it was last used (a count of versions analysed), for eviction. */
  used: number;
}

let nextEntryId = 1;

/** The entry's hover states: drawn from its analysis once, after which the analysis is let go. */
function statesOf(e: CacheEntry): Map<number, PointState> | undefined {
  if (!e.states && e.analysis && e.points) {
    e.states = pointStates(e.analysis);
    e.analysis = undefined;
  }
  return e.states;
}

const irKeys = new WeakMap<FunctionIR, string>();

/** A fingerprint of a function's IR without its ranges (memoised per IR object). */
export function irKeyOf(fn: FunctionIR): string {
  let k = irKeys.get(fn);
  if (k === undefined) {
    k = fingerprint(JSON.stringify(fn, (key, v) => (key === 'range' || key === 'nameRange' ? undefined : v)));
    irKeys.set(fn, k);
  }
  return k;
}

/** `to` has the same IR as `from` but for its ranges (a function moved): it has the same key. */
export function sameIrKey(to: FunctionIR, from: FunctionIR): void {
  const k = irKeys.get(from);
  if (k !== undefined) irKeys.set(to, k);
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

const summarySigs = new WeakMap<Summary, string>();

function summarySig(s: Summary | undefined): string {
  if (!s) return '-';
  let sig = summarySigs.get(s);
  if (sig === undefined) {
    sig = fingerprint(JSON.stringify([s.params, s.flagParam ?? null, s.outcomes.map((o) => o.signature)]));
    summarySigs.set(s, sig);
  }
  return sig;
}

/**
 * Function analyses kept across versions, for one configuration. Shared by
 * everything that analyses versions of the same code: the editor's open
 * document, its HEAD, a patch's base and result.
 */
export class AnalysisCache {
  private readonly entries = new Map<string, CacheEntry[]>();
  private clock = 0;

  constructor(readonly config: JailcheckConfig, private readonly keepPerFunction = 2) {}

  /** Starts a version: entries used from now on are its. */
  tick(): number {
    return ++this.clock;
  }

  candidates(key: string): CacheEntry[] {
    return this.entries.get(key) ?? [];
  }

  store(key: string, entry: CacheEntry): void {
    const list = this.entries.get(key) ?? [];
    list.unshift(entry);
    this.entries.set(key, list);
  }

  /**
   * Drops entries not used by the last few versions, keeping a few per
   * function: a function being typed in makes a new entry at every
   * keystroke, and memory must not grow with the edits.
   */
  evict(): void {
    for (const [key, list] of this.entries) {
      const kept = list.filter((e, i) => i < this.keepPerFunction && this.clock - e.used < 16);
      if (kept.length === 0) this.entries.delete(key);
      else if (kept.length !== list.length) this.entries.set(key, kept);
    }
    this.groupsByName();
  }

  /** At most `keepPerFunction` IR versions per function name survive, the most recently used. */
  private groupsByName(): void {
    const byName = new Map<string, Array<[string, number]>>();
    for (const [key, list] of this.entries) {
      const name = key.slice(0, key.indexOf('|'));
      const arr = byName.get(name) ?? [];
      arr.push([key, Math.max(...list.map((e) => e.used))]);
      byName.set(name, arr);
    }
    for (const arr of byName.values()) {
      if (arr.length <= this.keepPerFunction) continue;
      arr.sort((a, b) => b[1] - a[1]);
      for (const [key] of arr.slice(this.keepPerFunction)) this.entries.delete(key);
    }
  }

  /** Entries held (for tests and the benchmark's memory figures). */
  get size(): number {
    let n = 0;
    for (const list of this.entries.values()) n += list.length;
    return n;
  }
}

export interface VersionOptions {
  /** Keep hover's program points (the editor does; the CLI does not). */
  readonly recordPoints?: boolean;
  /** Asked between functions and inside long ones: true stops the version with a Cancelled error. */
  readonly shouldStop?: () => boolean;
  /** Functions to analyse first (the edited ones), so that `onFirst` can report them early. */
  readonly first?: ReadonlySet<string>;
  /**
   * Called once those are done, when other functions are still to come
   * (their callers, if a summary changed): the results so far, the others
   * as the cache has them from an earlier version (the editor publishes the
   * edited function's diagnostics at once, its callers' follow).
   */
  readonly onFirst?: (done: ReadonlyMap<FunctionIR, FunctionResult>) => void;
}

export interface VersionAnalysis {
  /** Every function's result, in file order. */
  readonly results: readonly FunctionResult[];
  /** Every finding of the static checks (the ledger's are separate: ledger/index.ts). */
  readonly findings: Finding[];
  readonly ledgerRows: LedgerRow[];
  /** Summaries of this version's functions, for the simulator. */
  readonly summaries: CallEnv;
  readonly analysed: number;
  readonly reused: number;
}

/**
 * Analyses a version of a file, with `cache` (the same configuration's).
 */
export function analyzeVersion(file: FileIR & { flagGroups?: Readonly<Record<string, readonly string[]>> }, cache: AnalysisCache,
  options: VersionOptions = {}): VersionAnalysis {
  return new Version(file, cache, options).run();
}

class Version implements CallEnv {
  private readonly facts: FileFacts;
  private readonly byName = new Map<string, FunctionIR>();
  /** Summaries of this version, by name: the first analysis of each gives it. */
  private readonly summaries = new Map<string, Summary | undefined>();
  private readonly inProgress = new Set<string>();
  /** Dependencies of the analyses under way, innermost last. */
  private readonly recording: Array<Array<readonly [string, string]>> = [];
  private readonly own = new Map<FunctionIR, FunctionResult>();
  private readonly shape = new Map<FunctionIR, string>();
  private readonly config: JailcheckConfig;
  private readonly clock: number;
  private analysed = 0;
  private reused = 0;

  constructor(private readonly file: FileIR & { flagGroups?: Readonly<Record<string, readonly string[]>> },
    private readonly cache: AnalysisCache, private readonly options: VersionOptions) {
    this.config = cache.config;
    this.facts = fileFacts(file);
    for (const fn of file.functions) if (fn.problems.length === 0) this.byName.set(fn.name, fn);
    this.clock = cache.tick();
  }

  run(): VersionAnalysis {
    const order = withDuplicates(this.file.functions);
    const first = this.options.first;
    if (first && first.size > 0) {
      const early = order.filter((fn) => first.has(fn.name));
      for (const fn of early) this.ownTurn(fn, !!this.options.onFirst);
      const pending = [...this.own.values()].some((r) => r.ledgerPending);
      if (this.options.onFirst && (pending || order.some((fn) => !this.own.has(fn) && !this.validNow(fn)))) this.options.onFirst(this.own);
      // The ledger's runs that were left for after the early report.
      for (const [fn, r] of this.own) {
        if (!r.ledgerPending) continue;
        this.checkStop();
        const e = this.entryOf.get(r)!;
        e.ledgerRows = e.ledgerLater!();
        e.ledgerLater = undefined;
        this.own.set(fn, this.resultOf(e, fn, r.findings, e.ledgerRows, r.reused));
      }
    }
    for (const fn of order) this.ownTurn(fn);
    this.cache.evict();
    const results = this.file.functions.map((fn) => this.own.get(fn)!);
    const findings: Finding[] = [];
    const ledgerRows: LedgerRow[] = [];
    for (const fn of order) {
      const r = this.own.get(fn)!;
      findings.push(...r.findings);
      ledgerRows.push(...r.ledgerRows);
    }
    findings.sort((a, b) => a.range.start - b.range.start || a.rule.localeCompare(b.rule));
    return { results, findings, ledgerRows, summaries: this, analysed: this.analysed, reused: this.reused };
  }

  /** The callee's summary in this version (see the module comment). */
  summaryOf(callee: string, args: readonly Value[]): Summary | undefined {
    void args;
    const s = this.summaryFor(callee);
    this.recording[this.recording.length - 1]?.push([callee, summarySig(s)]);
    return s;
  }

  private summaryFor(callee: string): Summary | undefined {
    const fn = this.byName.get(callee);
    if (!fn) return undefined;
    if (this.summaries.has(callee)) return this.summaries.get(callee);
    if (this.inProgress.has(callee)) return undefined;
    this.inProgress.add(callee);
    try {
      const r = this.analyse(fn, false);
      this.summaries.set(callee, r.summary);
      return r.summary;
    } finally {
      this.inProgress.delete(callee);
    }
  }

  private ownTurn(fn: FunctionIR, deferLedger = false): void {
    if (this.own.has(fn)) return;
    this.checkStop();
    const r = this.analyse(fn, this.options.recordPoints ?? false, deferLedger);
    // A function analysed on its own is also its summary for callers, if none was made yet.
    if (!this.summaries.has(fn.name) && r.analysed) this.summaries.set(fn.name, r.summary);
    this.own.set(fn, r);
  }

  /** Whether a cached analysis would serve `fn` now, without analysing anything. */
  private validNow(fn: FunctionIR): boolean {
    const key = this.keyOf(fn);
    return this.cache.candidates(key).some((e) => e.deps.every(([callee, sig]) => {
      if (!this.summaries.has(callee) && this.byName.has(callee)) return false;
      return summarySig(this.summaries.get(callee)) === sig;
    }));
  }

  private keyOf(fn: FunctionIR): string {
    let shape = this.shape.get(fn);
    if (shape === undefined) {
      // What the analysis reads of the rest of the file: which callees are the file's functions,
      // and their parameters' types (relevance follows those), and the file's flag groups.
      const callees = new Map<string, readonly TypeInfo[] | null>();
      for (const b of fn.blocks) for (const op of b.ops) if (op.kind === 'call') callees.set(op.callee, this.facts.paramTypes?.get(op.callee) ?? null);
      shape = fingerprint(JSON.stringify([[...callees].sort((a, b) => (a[0] < b[0] ? -1 : 1)), this.facts.flagGroups]));
      this.shape.set(fn, shape);
    }
    return `${fn.name}|${irKeyOf(fn)}|${shape}`;
  }

  /** The function's result in this version: from the cache when still valid, else analysed. */
  private analyse(fn: FunctionIR, points: boolean, deferLedger = false): FunctionResult {
    const key = this.keyOf(fn);
    for (const e of this.cache.candidates(key)) {
      if ((points && !e.points) || e.ledgerLater) continue;
      if (!this.depsHold(e.deps)) continue;
      e.used = this.clock;
      this.reused++;
      return this.moved(e, fn);
    }
    this.analysed++;
    const deps: Array<readonly [string, string]> = [];
    this.recording.push(deps);
    let r: ReturnType<typeof analyzeOne>;
    try {
      r = analyzeOne(fn, this.config, this.facts, this, points, () => this.shouldStop(), deferLedger);
    } finally {
      this.recording.pop();
    }
    const a = r.analysis;
    const summary = a ? summaryFromExits(a.context, a.exits, this.config, a.cut) : undefined;
    // What the analysis's content ids needed is no longer: the states it keeps are read, not compared.
    a?.context.symbols.forgetContents();
    const entry: CacheEntry = {
      id: nextEntryId++, deps, ir: fn, findings: r.findings, ledgerRows: a?.ledgerRows ?? [], paths: a?.paths ?? 0, analysed: !!a,
      ...(a?.ledgerLater ? { ledgerLater: a.ledgerLater } : {}), ...(a && points ? { analysis: a } : {}), summary, points, used: this.clock,
    };
    this.cache.store(key, entry);
    return this.resultOf(entry, fn, entry.findings, entry.ledgerRows, false);
  }

  /** Which entry a result of this version came from (the deferred ledger runs are made on it). */
  private readonly entryOf = new WeakMap<FunctionResult, CacheEntry>();

  private resultOf(e: CacheEntry, fn: FunctionIR, findings: readonly Finding[], ledgerRows: readonly LedgerRow[], reused: boolean): FunctionResult {
    const r: FunctionResult = {
      ir: fn, findings, ledgerRows, analysed: e.analysed, paths: e.paths, id: e.id, states: () => statesOf(e), summary: e.summary, reused,
      ...(e.ledgerLater ? { ledgerPending: true } : {}),
    };
    this.entryOf.set(r, e);
    return r;
  }

  /** Whether the callees an analysis consulted still have the summaries it saw (asked in its order). */
  private depsHold(deps: ReadonlyArray<readonly [string, string]>): boolean {
    for (const [callee, sig] of deps) if (summarySig(this.summaryFor(callee)) !== sig) return false;
    return true;
  }

  private moved(e: CacheEntry, fn: FunctionIR): FunctionResult {
    if (e.ir === fn) return this.resultOf(e, fn, e.findings, e.ledgerRows, true);
    const f = offsetMap(e.ir, fn);
    return this.resultOf(e, fn, remapRanges(e.findings, f), remapRanges(e.ledgerRows, f), true);
  }

  private shouldStop(): boolean {
    return this.options.shouldStop?.() ?? false;
  }

  private checkStop(): void {
    if (this.shouldStop()) throw new Cancelled();
  }
}

/** The analysis of a file on its own (the CLI's, a test's): one version, with a cache of its own unless given one. */
export interface FileAnalysis extends VersionAnalysis {}

export function analyzeFile(file: FileIR & { flagGroups?: Readonly<Record<string, readonly string[]>> }, config: JailcheckConfig,
  options: { recordPoints?: boolean; only?: ReadonlySet<string>; cache?: AnalysisCache } = {}): FileAnalysis {
  const cache = options.cache && options.cache.config === config ? options.cache : new AnalysisCache(config);
  const v = analyzeVersion(file, cache, { recordPoints: options.recordPoints });
  // Every function is analysed, `only` or not: the ledger is about the whole file.
  const only = options.only;
  return only ? { ...v, findings: v.findings.filter((f) => only.has(f.function)) } : v;
}
