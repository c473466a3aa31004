/**
 * The path-sensitive dataflow over one function. Each program point holds a
 * set of abstract states, one per class of paths that the checks can tell
 * apart; a path that reaches a point in a state already there is merged
 * into it. Every state keeps a witness: the path that first produced it,
 * which is what a finding shows.
 */
import type { FunctionIR, SourceRange } from '../ir';
import type { FunctionContext } from './context';
import { refine } from './conditions';
import { computeLiveness, Liveness } from './liveness';
import { AState, LockHold, cachedFactsKey, derive, emptyState, joinStates, propertyKey, registerProjections, setVar, stateKey, Value } from './state';
import type { Symbols } from './pmap';
import { Message, Note, RawFinding, Transfer } from './transfer';
import type { LockMode } from '../ir';

export interface StepInfo {
  readonly range: SourceRange;
  /** Made into text only when a path is shown (see messageText). */
  readonly message: Message;
}

/** The key of a program point: op `index` of `block`, or its terminator for -1. */
export function pointKey(block: number, index: number): number {
  return block * 65536 + (index < 0 ? 65535 : index);
}

/** The step a path takes through a branch (one object per branch and side, made once). */
const BRANCH_STEPS = new WeakMap<object, [StepInfo, StepInfo]>();

function branchStep(term: Extract<FunctionIR['blocks'][number]['term'], { kind: 'branch' }>, value: boolean): StepInfo {
  let steps = BRANCH_STEPS.get(term);
  if (!steps) {
    const label = (v: boolean): string => (term.origin === 'macro-loop'
      ? (v ? `${term.condText}: another trip` : `${term.condText}: loop ends`)
      : term.origin === 'preprocessor' ? `${term.condText} ${v ? 'compiled in' : 'compiled out'}`
      : `${term.condText} is ${v ? 'true' : 'false'}`);
    steps = [{ range: term.range, message: () => label(true) }, { range: term.range, message: () => label(false) }];
    BRANCH_STEPS.set(term, steps);
  }
  return steps[value ? 0 : 1];
}

/** A state with the path that produced it. */
export interface WNode {
  readonly state: AState;
  readonly prev: WNode | null;
  readonly step?: StepInfo;
}

export interface ExitRecord {
  readonly node: WNode;
  readonly range: SourceRange;
  readonly ret: Value;
  readonly retText?: string;
}

export interface Mismatch {
  readonly block: number;
  readonly key: string;
  readonly range: SourceRange;
  /** The path that holds the lock, and the one that does not. */
  readonly holding: WNode;
  readonly notHolding: WNode;
}

export interface RunResult {
  readonly exits: ExitRecord[];
  readonly findings: Array<{ readonly finding: RawFinding; readonly node: WNode }>;
  readonly notes: Array<{ readonly note: Note; readonly node: WNode }>;
  readonly mismatches: Mismatch[];
  /** States before each op and terminator, by pointKey(block, index). */
  readonly points: Map<number, WNode[]>;
  incomplete?: string;
  steps: number;
  /** Blurred locks that some operation later touched. */
  readonly touchedMaybe: Set<string>;
}

export interface FlagSpec {
  readonly set: readonly string[];
  readonly clear: readonly string[];
}

export interface RunOptions {
  readonly recordPoints: boolean;
  /** Bits the caller fixes for the flag parameter. */
  readonly spec?: FlagSpec;
  /** Locks assumed held on entry, by contract label (learnt from an earlier run). */
  readonly assumptions?: ReadonlyMap<string, ReadonlyMap<string, LockMode>>;
  /** Locks whose state is blurred when entering a block (after a join mismatch there). */
  readonly blur?: ReadonlyMap<number, ReadonlySet<string>>;
  /** Asked every few thousand steps: true stops the run with a Cancelled error. */
  readonly shouldStop?: () => boolean;
}

/** Thrown when a run is stopped from outside (a newer edit makes its result useless); not a bug. */
export class Cancelled extends Error {
  constructor() {
    super('analysis cancelled');
  }
}

type ContractGroup = Array<{ bit: string; key: string; mode: LockMode; lockClass: LockHold['lockClass'] }>;
const groupCache = new WeakMap<FunctionContext, ContractGroup[]>();

/** The contract bits that apply to a function, grouped by the lock each promises. */
export function contractGroups(ctx: FunctionContext): ContractGroup[] {
  let cached = groupCache.get(ctx);
  if (!cached) {
    cached = computeContractGroups(ctx);
    groupCache.set(ctx, cached);
  }
  return cached;
}

function computeContractGroups(ctx: FunctionContext): ContractGroup[] {
  const flagParam = flagParamOf(ctx);
  if (flagParam === undefined) return [];
  const mentioned = new Set<string>();
  const visitMasks = (fn: FunctionIR): void => {
    const words = JSON.stringify(fn.blocks).match(/"name":"([A-Z_][A-Z0-9_]*)"/g) ?? [];
    for (const w of words) {
      const name = w.slice(8, -1);
      const m = ctx.maskOf({ kind: 'name', name });
      if (m) m.forEach((b) => mentioned.add(b));
    }
  };
  visitMasks(ctx.fn);
  const groups = new Map<string, Array<{ bit: string; key: string; mode: LockMode; lockClass: LockHold['lockClass'] }>>();
  for (const c of ctx.vocabulary.flagContracts) {
    if (!mentioned.has(c.bit)) continue;
    let key: string;
    if (c.lock.kind === 'global') key = `g:${c.lock.name}`;
    else {
      const lock = c.lock;
      const param = ctx.fn.params.find((p) => p.type.pointer > 0 && p.type.struct === lock.struct);
      if (!param) continue;
      key = `p:${param.name}#${lock.field}`;
    }
    const list = groups.get(key) ?? [];
    list.push({ bit: c.bit, key, mode: c.mode, lockClass: c.lockClass });
    groups.set(key, list);
  }
  return [...groups.values()];
}

/** The parameter that carries flag bits (`flags` of prison_deref). */
export function flagParamOf(ctx: FunctionContext): string | undefined {
  return ctx.fn.params.find((p) => p.type.pointer === 0 && ctx.flagVars.has(p.name))?.name;
}

/** One entry state per combination of contract bits the caller could pass. */
export function entryStates(ctx: FunctionContext, opts: RunOptions): AState[] {
  let base = emptyState(ctx.symbols);
  for (const p of ctx.fn.params) {
    if (p.type.pointer > 0) base = setVar(base, p.name, { k: 'ptr', obj: `p:${p.name}`, nullness: p.type.struct === ctx.vocabulary.objectStruct ? 'nonnull' : 'maybe' });
  }
  const flagParam = flagParamOf(ctx);
  const specSet = opts.spec?.set ?? [];
  const specClear = opts.spec?.clear ?? [];
  if (flagParam !== undefined) {
    const bits: Value = { k: 'bits', set: [...specSet].sort(), clear: [...specClear].sort(), exact: false, entry: flagParam };
    base = setVar(base, flagParam, bits);
    base = setVar(base, `@entry:${flagParam}`, { ...bits, entry: undefined });
  }
  let states: AState[] = [base];
  for (const group of contractGroups(ctx)) {
    const next: AState[] = [];
    for (const s of states) {
      // Either no bit of the group is set, or exactly one is (PD_LIST_SLOCKED and PD_LIST_XLOCKED exclude each other).
      const choices: Array<typeof group[number] | undefined> = [undefined, ...group];
      for (const choice of choices) {
        const set = choice ? [choice.bit] : [];
        const clear = group.map((g) => g.bit).filter((b) => b !== choice?.bit);
        if (set.some((b) => specClear.includes(b)) || clear.some((b) => specSet.includes(b))) continue;
        let st = s;
        const fv = st.vars.get(flagParam!) as Extract<Value, { k: 'bits' }>;
        const merge = (v: Extract<Value, { k: 'bits' }>): Value => ({
          ...v, set: [...new Set([...v.set, ...set])].sort(), clear: [...new Set([...v.clear, ...clear])].sort(),
        });
        st = setVar(st, flagParam!, merge(fv));
        st = setVar(st, `@entry:${flagParam}`, merge(st.vars.get(`@entry:${flagParam}`) as Extract<Value, { k: 'bits' }>));
        let locks = st.locks;
        let entryHeld = st.entryHeld;
        const known = st.known.with(group[0]!.key);
        const assumed = st.assumed.with(group[0]!.key);
        if (choice) {
          locks = locks.with(choice.key, { mode: choice.mode, lockClass: choice.lockClass, certainty: 'held', text: choice.bit });
          entryHeld = entryHeld.with(choice.key, choice.mode);
        }
        const contract = [st.contract === '-' ? '' : st.contract, choice?.bit ?? ''].filter(Boolean).join(',') || '-';
        next.push(derive(st, { locks, known, assumed, entryHeld, contract }));
      }
    }
    states = next;
  }
  if (opts.assumptions) {
    states = states.map((s) => {
      const extra = opts.assumptions!.get(s.contract);
      if (!extra) return s;
      let { locks, known, entryHeld } = s;
      for (const [key, mode] of extra) {
        if (known.has(key)) continue;
        locks = locks.with(key, { mode, lockClass: 'mtx', certainty: 'held', text: key });
        known = known.with(key);
        entryHeld = entryHeld.with(key, mode);
      }
      return derive(s, { locks, known, entryHeld });
    });
  }
  return states;
}

function predecessorCounts(fn: FunctionIR): number[] {
  const counts = fn.blocks.map(() => 0);
  for (const b of fn.blocks) {
    if (b.term.kind === 'jump') counts[b.term.target]!++;
    else if (b.term.kind === 'branch') {
      counts[b.term.whenTrue]!++;
      counts[b.term.whenFalse]!++;
    }
  }
  return counts;
}

/**
 * Drops what the block can no longer observe: variables and temps it cannot
 * read, and the values of counters no later code reads (their changes are
 * kept: the summary and the path-pair check need them).
 */
export function project(s: AState, live: Liveness, block: number, keys: KeyInfo, keep: ReadonlySet<number>): AState {
  let counters = s.counters;
  for (let i = 0; i < s.counters.ks.length; i++) {
    const sym = s.counters.ks[i]!;
    const f = s.counters.vs[i]!;
    const info = keys.counter(sym);
    const isLive = live.counterLive(block, info.field);
    // An ancestor's entry with nothing known about its value says nothing at all.
    if (info.ancestor && (!isLive || (f.lo === 0 && f.hi === Infinity))) {
      counters = counters.withoutSym(sym);
      continue;
    }
    if (isLive || (f.lo === 0 && f.hi === Infinity)) continue;
    counters = counters.withSym(sym, { ...f, lo: 0, hi: Infinity });
  }
  const vars = s.vars.filter((sym) => live.varLive(block, sym) || keys.isSpecialVar(sym) || keep.has(sym));
  const temps = s.temps.filter((id) => live.tempLive(block, id));
  // Whether a lock of an object made on this path was released matters only while some variable still names it.
  let named: NamedObjects | undefined;
  const known = s.known.filter((sym) => {
    const info = keys.lock(sym);
    if (info.rooted || s.locks.getSym(sym) !== undefined) return true;
    named ??= namedObjects(vars, temps, undefined);
    return named.objects.has(info.object);
  });
  // Facts and counter values of an object this path made or found are worth keeping only while a
  // variable still names it (or a lock of it is held).
  const isNamed = (obj: string): boolean => {
    if (obj.startsWith('p:') || obj.startsWith('g:')) return true;
    named ??= namedObjects(vars, temps, s.locks);
    return named.objects.has(obj) || named.bases.has(keys.baseOf(obj));
  };
  const facts = s.facts.filter((sym) => {
    const info = keys.fact(sym);
    return info.variable || isNamed(info.object);
  });
  counters = counters.filter((sym, f) => f.delta !== 0 || isNamed(keys.counter(sym).object));
  if (vars === s.vars && temps === s.temps && counters === s.counters && known === s.known && facts === s.facts) return s;
  return derive(s, { vars, temps, counters, known, facts });
}

interface NamedObjects {
  readonly objects: ReadonlySet<string>;
  /** Each object's chain base (`p:pr` for `p:pr^2`), for "an ancestor of a named object is named". */
  readonly bases: ReadonlySet<string>;
}

/** One remembered answer per variables map: paths share their maps, and ask again and again. */
const NAMED = new WeakMap<object, { temps: object; locks: object | undefined; named: NamedObjects }>();

/** The objects some variable or temp points to (and, when `locks` is given, whose lock is held). */
function namedObjects(vars: AState['vars'], temps: AState['temps'], locks: AState['locks'] | undefined): NamedObjects {
  const memo = NAMED.get(vars);
  if (memo && memo.temps === temps && memo.locks === locks) return memo.named;
  const named = computeNamedObjects(vars, temps, locks);
  NAMED.set(vars, { temps, locks, named });
  return named;
}

function computeNamedObjects(vars: AState['vars'], temps: AState['temps'], locks: AState['locks'] | undefined): NamedObjects {
  const objects = new Set<string>();
  for (const v of vars.vs) if (v.k === 'ptr') objects.add(v.obj);
  for (const v of temps.vs) if (v.k === 'ptr') objects.add(v.obj);
  if (locks) for (const k of locks.keys()) objects.add(k.slice(0, k.lastIndexOf('#')));
  const bases = new Set<string>();
  for (const o of objects) bases.add(o.split('^')[0]!);
  return { objects, bases };
}

/**
 * What project() needs to know about a key, parsed once per interned key
 * (keys are strings such as `p:pr^1.pr_uref`; see objects.ts).
 */
class KeyInfo {
  private readonly counters: Array<{ field: string; ancestor: boolean; object: string } | undefined> = [];
  private readonly locks: Array<{ rooted: boolean; object: string } | undefined> = [];
  private readonly facts: Array<{ variable: boolean; object: string } | undefined> = [];
  private readonly special: Array<boolean | undefined> = [];
  private readonly bases = new Map<string, string>();

  constructor(private readonly table: Symbols) {}

  counter(sym: number): { field: string; ancestor: boolean; object: string } {
    let info = this.counters[sym];
    if (!info) {
      const key = this.table.name(sym);
      const dot = key.lastIndexOf('.');
      info = { field: key.slice(dot + 1), ancestor: key.includes('^'), object: key.slice(0, dot) };
      this.counters[sym] = info;
    }
    return info;
  }

  lock(sym: number): { rooted: boolean; object: string } {
    let info = this.locks[sym];
    if (!info) {
      const key = this.table.name(sym);
      info = { rooted: key.startsWith('p:') || key.startsWith('g:') || key.startsWith('v:'), object: key.slice(0, key.lastIndexOf('#')) };
      this.locks[sym] = info;
    }
    return info;
  }

  /** Field facts are `<object>.<field>&<BIT>`, possibly marked `w:`; `freed:<object>` names the object whole. */
  fact(sym: number): { variable: boolean; object: string } {
    let info = this.facts[sym];
    if (!info) {
      const key = this.table.name(sym);
      const bare = key.startsWith('w:') ? key.slice(2) : key;
      const object = bare.startsWith('freed:') ? bare.slice(6) : bare.startsWith('escaped:') ? bare.slice(8) : bare.slice(0, bare.lastIndexOf('.'));
      info = { variable: bare.startsWith('v:'), object };
      this.facts[sym] = info;
    }
    return info;
  }

  /** `@entry:flags` and `^<object>` are the analysis's own, never dropped. */
  isSpecialVar(sym: number): boolean {
    let v = this.special[sym];
    if (v === undefined) {
      const name = this.table.name(sym);
      v = name.startsWith('@') || name.startsWith('^');
      this.special[sym] = v;
    }
    return v;
  }

  baseOf(obj: string): string {
    let b = this.bases.get(obj);
    if (b === undefined) {
      b = obj.split('.')[0]!.split('^')[0]!;
      this.bases.set(obj, b);
    }
    return b;
  }
}

function blurLocks(s: AState, keys: ReadonlySet<string>): AState {
  let locks = s.locks;
  for (const key of keys) {
    const held = locks.get(key);
    if (held?.certainty === 'maybe') continue;
    locks = locks.with(key, held ? { ...held, certainty: 'maybe' } : { mode: 'exclusive', lockClass: 'mtx', certainty: 'maybe', text: key });
  }
  return locks === s.locks ? s : derive(s, { locks });
}

/** Reverse postorder numbers of the blocks (unreachable ones last). */
function reversePostorder(fn: FunctionIR): Int32Array {
  const n = fn.blocks.length;
  const order = new Int32Array(n).fill(n);
  const seen = new Uint8Array(n);
  const post: number[] = [];
  const stack: Array<[number, number]> = [[fn.entry, 0]];
  seen[fn.entry] = 1;
  const succ = (b: number): number[] => {
    const t = fn.blocks[b]!.term;
    return t.kind === 'jump' ? [t.target] : t.kind === 'branch' ? [t.whenTrue, t.whenFalse] : [];
  };
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const ss = succ(top[0]);
    if (top[1] < ss.length) {
      const s = ss[top[1]++]!;
      if (!seen[s]) {
        seen[s] = 1;
        stack.push([s, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  post.reverse().forEach((b, i) => (order[b] = i));
  return order;
}

/**
 * The work list: (block, property key) pairs, smallest reverse-postorder
 * number first and, within a block, first come first served. One FIFO per
 * block and a moving minimum give that order without a heap: a pair waiting
 * already is not queued twice.
 */
class BlockQueue {
  private readonly items: number[][];
  private readonly heads: Int32Array;
  private readonly queued: Array<Set<number>>;
  private readonly blockAt: Int32Array;
  private min: number;

  constructor(private readonly rpo: Int32Array) {
    const n = rpo.length + 1;
    this.items = Array.from({ length: n }, () => []);
    this.heads = new Int32Array(n);
    this.queued = Array.from({ length: n }, () => new Set<number>());
    this.blockAt = new Int32Array(n).fill(-1);
    this.min = n;
  }

  push(block: number, key: number): void {
    const r = this.rpo[block]!;
    const queued = this.queued[r]!;
    if (queued.has(key)) return;
    queued.add(key);
    this.items[r]!.push(key);
    this.blockAt[r] = block;
    if (r < this.min) this.min = r;
  }

  pop(): { block: number; key: number } | undefined {
    const n = this.items.length;
    while (this.min < n && this.heads[this.min]! >= this.items[this.min]!.length) {
      // Drained: reset the FIFO so it does not grow for ever round a loop.
      this.items[this.min] = [];
      this.heads[this.min] = 0;
      this.min++;
    }
    if (this.min >= n) return undefined;
    const r = this.min;
    const key = this.items[r]![this.heads[r]!++]!;
    this.queued[r]!.delete(key);
    return { block: this.blockAt[r]!, key };
  }
}

/** What depends on a function's CFG alone, computed once per context (a function is run several times: rounds, summaries). */
interface CfgFacts {
  readonly live: Liveness;
  readonly preds: number[];
  readonly rpo: Int32Array;
  readonly keys: KeyInfo;
  /** The parameters' variable numbers: never dropped (their entry objects matter at every return). */
  readonly params: ReadonlySet<number>;
}

const CFG_FACTS = new WeakMap<FunctionContext, CfgFacts>();

export function cfgFacts(ctx: FunctionContext): CfgFacts {
  let cfg = CFG_FACTS.get(ctx);
  if (!cfg) {
    const table = ctx.symbols;
    cfg = {
      live: computeLiveness(ctx.fn, (name) => table.peek(name) ?? -1, ctx.variableCount, ctx.vocabulary.counterFields,
        (callee) => ctx.file.functions.has(callee)),
      preds: predecessorCounts(ctx.fn),
      rpo: reversePostorder(ctx.fn),
      keys: new KeyInfo(table),
      params: new Set([...ctx.params].map((p) => table.id(p))),
    };
    // Variables the paths are kept apart by: pointers naming objects, flag words, entry flags.
    registerProjections(table, (name, v) => name.startsWith('@') || name.startsWith('^') || v.k === 'bits' || ctx.flagVars.has(name)
      || ((v.k === 'ptr' || v.k === 'null') && ctx.isObjectPointer(name)));
    CFG_FACTS.set(ctx, cfg);
  }
  return cfg;
}

export class Engine {
  private readonly cfg: CfgFacts;
  private readonly transfer: Transfer;

  constructor(private readonly ctx: FunctionContext, transfer: Transfer) {
    this.cfg = cfgFacts(ctx);
    this.transfer = transfer;
  }

  run(opts: RunOptions): RunResult {
    const fn = this.ctx.fn;
    const bounds = this.ctx.config.bounds;
    const result: RunResult = { exits: [], findings: [], notes: [], mismatches: [], points: new Map(), steps: 0, touchedMaybe: new Set() };
    const visited: Array<Map<number, WNode>> = fn.blocks.map(() => new Map());
    const byFacts: Array<Map<number, WNode[]>> = fn.blocks.map(() => new Map());
    // Work is taken in reverse postorder, so paths meeting at a block are joined before the
    // block's successors see them (a FIFO would re-propagate every intermediate join).
    const { live, preds, rpo, keys, params } = this.cfg;
    const queue = new BlockQueue(rpo);
    const seenMismatch = new Set<string>();

    const push = (block: number, node: WNode): void => {
      let s = project(node.state, live, block, keys, params);
      const blurred = opts.blur?.get(block);
      if (blurred) s = blurLocks(s, blurred);
      let n: WNode = s === node.state ? node : { ...node, state: s };
      const here = visited[block]!;
      const key = propertyKey(s);
      const existing = here.get(key);
      if (existing) {
        // Same property state: join the data facts; go on only if that lost something. Facts only
        // ever get fewer, so this ends.
        const joined = joinStates(existing.state, s);
        if (joined === existing.state || stateKey(joined) === stateKey(existing.state)) return;
        n = { ...existing, state: joined };
        here.set(key, n);
        queue.push(block, key);
        return;
      }
      // Paths that the code cannot tell apart can only meet where two edges join.
      const join = preds[block]! > 1;
      const fk = join ? cachedFactsKey(s) : 0;
      const sameFacts = join ? byFacts[block]!.get(fk) : undefined;
      if (sameFacts) this.checkJoin(block, n, sameFacts, result, seenMismatch);
      if (here.size >= bounds.maxStatesPerPoint) {
        result.incomplete ??= `more than ${bounds.maxStatesPerPoint} distinct path states reach one point; raise jailcheck.bounds.maxStatesPerPoint to explore further`;
        return;
      }
      here.set(key, n);
      if (sameFacts) sameFacts.push(n);
      else if (join) byFacts[block]!.set(fk, [n]);
      queue.push(block, key);
    };

    for (const s of entryStates(this.ctx, opts)) push(fn.entry, { state: s, prev: null });

    let nextCheck = 4096;
    for (let item = queue.pop(); item; item = queue.pop()) {
      if (opts.shouldStop && result.steps >= nextCheck) {
        nextCheck = result.steps + 4096;
        if (opts.shouldStop()) throw new Cancelled();
      }
      if (result.steps > bounds.maxSteps) {
        result.incomplete ??= `more than ${bounds.maxSteps} steps; raise jailcheck.bounds.maxSteps to explore further`;
        break;
      }
      const node = visited[item.block]!.get(item.key);
      if (node) this.runBlock(item.block, node, opts, result, push);
    }
    return result;
  }

  private runBlock(block: number, start: WNode, opts: RunOptions, result: RunResult, push: (b: number, n: WNode) => void): void {
    const b = this.ctx.fn.blocks[block]!;
    let current: WNode[] = [start];
    const record = (index: number, nodes: WNode[]): void => {
      if (!opts.recordPoints) return;
      const k = pointKey(block, index);
      const list = result.points.get(k);
      if (list) for (const n of nodes) list.push(n);
      else result.points.set(k, nodes.slice());
    };
    b.ops.forEach((op, i) => {
      record(i, current);
      const next: WNode[] = [];
      for (const node of current) {
        result.steps++;
        if (opts.blur && (op.kind === 'lock' || op.kind === 'scope-lock')) {
          const key = this.ctx.lockKey(op.lock, node.state);
          if (key !== undefined && node.state.locks.get(key)?.certainty === 'maybe') result.touchedMaybe.add(key);
        }
        const r = this.transfer.apply(node.state, op);
        for (const f of r.findings) result.findings.push({ finding: f, node });
        for (const n of r.notes) result.notes.push({ note: n, node });
        for (const succ of r.next) {
          // An op that changed nothing and has nothing to show adds no link to the path.
          if (succ.state === node.state && !succ.message) next.push(node);
          else next.push({ state: succ.state, prev: node, step: succ.message ? { range: op.range, message: succ.message } : undefined });
        }
      }
      current = next;
    });
    record(-1, current);
    const term = b.term;
    for (const node of current) {
      result.steps++;
      switch (term.kind) {
        case 'jump':
          push(term.target, node);
          break;
        case 'branch': {
          let t = refine(this.ctx, node.state, term.cond, true);
          let f = refine(this.ctx, node.state, term.cond, false);
          // A branch that cannot matter to the checks splits nothing: each side keeps the state as it was.
          if (!this.ctx.relevance.branches.has(block)) {
            if (t) t = node.state;
            if (f) f = node.state;
          }
          // A branch is worth showing on a path only where the path chose it.
          const chose = t !== null && f !== null;
          if (t) push(term.whenTrue, { state: t, prev: node, step: chose ? branchStep(term, true) : undefined });
          if (f) push(term.whenFalse, { state: f, prev: node, step: chose ? branchStep(term, false) : undefined });
          break;
        }
        case 'return': {
          const ret: Value = term.value ? this.ctx.valueOf(term.value, node.state, term.range.start) : { k: 'unknown' };
          result.exits.push({ node, range: term.range, ret: term.value ? ret : { k: 'int', value: undefined }, retText: term.valueText });
          break;
        }
        case 'abort':
          break;
      }
    }
  }

  /** The first statement a block leads to (an empty join block jumps on to it). */
  private firstStatement(block: number): SourceRange | undefined {
    const seen = new Set<number>();
    for (let b = block; !seen.has(b);) {
      seen.add(b);
      const info = this.ctx.fn.blocks[b]!;
      if (info.ops[0]) return info.ops[0].range;
      if (info.term.kind !== 'jump') return info.term.range;
      b = info.term.target;
    }
    return undefined;
  }

  /**
   * Two paths the code cannot tell apart (same facts, same variables) meet
   * here with a lock held on one and not on the other: nothing after this
   * point can know whether to release it.
   */
  private checkJoin(block: number, n: WNode, sameFacts: readonly WNode[], result: RunResult, seen: Set<string>): void {
    for (const other of sameFacts) {
      const keys = new Set([...n.state.locks.keys(), ...other.state.locks.keys()]);
      for (const key of keys) {
        const a = n.state.locks.get(key);
        const b = other.state.locks.get(key);
        if ((a?.certainty === 'maybe') || (b?.certainty === 'maybe')) continue;
        if (!!a === !!b) continue;
        const id = `${block}:${key}`;
        if (seen.has(id)) continue;
        seen.add(id);
        result.mismatches.push({
          block, key, range: this.firstStatement(block) ?? n.step?.range ?? this.ctx.fn.nameRange,
          holding: a ? n : other, notHolding: a ? other : n,
        });
      }
    }
  }
}
