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
import { AState, LockHold, cachedFactsKey, emptyState, joinStates, propertyKey, setVar, stateKey, Value } from './state';
import { Note, RawFinding, Transfer } from './transfer';
import type { LockMode } from '../ir';

export interface StepInfo {
  readonly range: SourceRange;
  readonly message: string;
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
  /** States before each op (`block:index`) and terminator (`block:T`). */
  readonly points: Map<string, WNode[]>;
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
  let base = emptyState();
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
        const locks = new Map(st.locks);
        const known = new Set(st.known);
        const assumed = new Set(st.assumed);
        const entryHeld = new Map(st.entryHeld);
        known.add(group[0]!.key);
        assumed.add(group[0]!.key);
        if (choice) {
          locks.set(choice.key, { mode: choice.mode, lockClass: choice.lockClass, certainty: 'held', text: choice.bit });
          entryHeld.set(choice.key, choice.mode);
        }
        const contract = [st.contract === '-' ? '' : st.contract, choice?.bit ?? ''].filter(Boolean).join(',') || '-';
        next.push({ ...st, locks, known, assumed, entryHeld, contract });
      }
    }
    states = next;
  }
  if (opts.assumptions) {
    states = states.map((s) => {
      const extra = opts.assumptions!.get(s.contract);
      if (!extra) return s;
      const locks = new Map(s.locks);
      const known = new Set(s.known);
      const entryHeld = new Map(s.entryHeld);
      for (const [key, mode] of extra) {
        if (known.has(key)) continue;
        locks.set(key, { mode, lockClass: 'mtx', certainty: 'held', text: key });
        known.add(key);
        entryHeld.set(key, mode);
      }
      return { ...s, locks, known, entryHeld };
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
function project(s: AState, live: Liveness, block: number, keep: ReadonlySet<string>): AState {
  const lv = live.vars[block]!;
  const lt = live.temps[block]!;
  const lc = live.counters[block]!;
  let counters: Map<string, import('./state').CounterFact> | undefined;
  for (const [key, f] of s.counters) {
    const live = lc.has(key.slice(key.lastIndexOf('.') + 1));
    const ancestor = key.includes('^');
    // An ancestor's entry with nothing known about its value says nothing at all.
    if (ancestor && (!live || (f.lo === 0 && f.hi === Infinity))) {
      counters ??= new Map(s.counters);
      counters.delete(key);
      continue;
    }
    if (live || (f.lo === 0 && f.hi === Infinity)) continue;
    counters ??= new Map(s.counters);
    counters.set(key, { ...f, lo: 0, hi: Infinity });
  }
  let vars: Map<string, Value> | undefined;
  for (const name of s.vars.keys()) {
    if (lv.has(name) || name.startsWith('@') || name.startsWith('^') || keep.has(name)) continue;
    vars ??= new Map(s.vars);
    vars.delete(name);
  }
  let temps: Map<number, Value> | undefined;
  for (const id of s.temps.keys()) {
    if (lt.has(id)) continue;
    temps ??= new Map(s.temps);
    temps.delete(id);
  }
  // Whether a lock of an object made on this path was released matters only while some variable still names it.
  let known: Set<string> | undefined;
  let namedObjects: Set<string> | undefined;
  for (const key of s.known) {
    if (key.startsWith('p:') || key.startsWith('g:') || key.startsWith('v:') || s.locks.has(key)) continue;
    if (!namedObjects) {
      namedObjects = new Set();
      for (const v of (vars ?? s.vars).values()) if (v.k === 'ptr') namedObjects.add(v.obj);
      for (const v of (temps ?? s.temps).values()) if (v.k === 'ptr') namedObjects.add(v.obj);
    }
    if (namedObjects.has(key.slice(0, key.lastIndexOf('#')))) continue;
    known ??= new Set(s.known);
    known.delete(key);
  }
  // Facts and counter values of an object this path made or found are worth keeping only while a
  // variable still names it (or a lock of it is held).
  const named = (obj: string): boolean => {
    if (obj.startsWith('p:') || obj.startsWith('g:')) return true;
    if (!namedObjects) {
      namedObjects = new Set();
      for (const v of (vars ?? s.vars).values()) if (v.k === 'ptr') namedObjects.add(v.obj);
      for (const v of (temps ?? s.temps).values()) if (v.k === 'ptr') namedObjects.add(v.obj);
      for (const k of s.locks.keys()) namedObjects.add(k.slice(0, k.lastIndexOf('#')));
    }
    const base = obj.split('.')[0]!.split('^')[0]!;
    return namedObjects.has(obj) || [...namedObjects].some((o) => o.split('^')[0] === base);
  };
  let facts: Map<string, boolean> | undefined;
  for (const key of s.facts.keys()) {
    // Field facts are `<object>.<field>&<BIT>`, possibly marked `w:`; `freed:<object>` names the object whole.
    const bare = key.startsWith('w:') ? key.slice(2) : key;
    const obj = bare.startsWith('freed:') ? bare.slice(6) : bare.startsWith('escaped:') ? bare.slice(8) : bare.slice(0, bare.lastIndexOf('.'));
    if (bare.startsWith('v:') || named(obj)) continue;
    facts ??= new Map(s.facts);
    facts.delete(key);
  }
  for (const [key, f] of (counters ?? s.counters)) {
    if (f.delta !== 0 || named(key.slice(0, key.lastIndexOf('.')))) continue;
    counters ??= new Map(s.counters);
    counters.delete(key);
  }
  if (!vars && !temps && !counters && !known && !facts) return s;
  return { ...s, vars: vars ?? s.vars, temps: temps ?? s.temps, counters: counters ?? s.counters, known: known ?? s.known, facts: facts ?? s.facts };
}

function blurLocks(s: AState, keys: ReadonlySet<string>): AState {
  let locks: Map<string, LockHold> | undefined;
  for (const key of keys) {
    const held = s.locks.get(key);
    if (held?.certainty === 'maybe') continue;
    locks ??= new Map(s.locks);
    locks.set(key, held ? { ...held, certainty: 'maybe' } : { mode: 'exclusive', lockClass: 'mtx', certainty: 'maybe', text: key });
  }
  return locks ? { ...s, locks } : s;
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

/** A priority queue of (block, property key), smallest reverse-postorder number first. */
class BlockQueue {
  private readonly heap: Array<{ block: number; key: string; seq: number }> = [];
  private readonly queued = new Set<string>();
  private seq = 0;

  constructor(private readonly rpo: Int32Array) {}

  push(block: number, key: string): void {
    const id = `${block}|${key}`;
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.heap.push({ block, key, seq: this.seq++ });
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
  }

  pop(): { block: number; key: string } | undefined {
    if (this.heap.length === 0) return undefined;
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.heap.length && this.less(l, m)) m = l;
        if (r < this.heap.length && this.less(r, m)) m = r;
        if (m === i) break;
        [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
        i = m;
      }
    }
    this.queued.delete(`${top.block}|${top.key}`);
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return this.rpo[x.block]! - this.rpo[y.block]! || x.seq - y.seq ? (this.rpo[x.block]! - this.rpo[y.block]! || x.seq - y.seq) < 0 : false;
  }
}

export class Engine {
  private readonly live: Liveness;
  private readonly preds: number[];
  private readonly rpo: Int32Array;
  private readonly transfer: Transfer;

  /** Variables the paths are kept apart by: pointers naming objects, flag words, entry flags. */
  private readonly isPropertyVar = (name: string, v: Value): boolean =>
    name.startsWith('@') || name.startsWith('^') || v.k === 'bits' || this.ctx.flagVars.has(name)
    || ((v.k === 'ptr' || v.k === 'null') && this.ctx.isObjectPointer(name));

  constructor(private readonly ctx: FunctionContext, transfer: Transfer) {
    this.live = computeLiveness(ctx.fn, ctx.vocabulary.counterFields, (callee) => ctx.file.functions.has(callee));
    this.preds = predecessorCounts(ctx.fn);
    this.rpo = reversePostorder(ctx.fn);
    this.transfer = transfer;
  }

  run(opts: RunOptions): RunResult {
    const fn = this.ctx.fn;
    const bounds = this.ctx.config.bounds;
    const result: RunResult = { exits: [], findings: [], notes: [], mismatches: [], points: new Map(), steps: 0, touchedMaybe: new Set() };
    const visited: Array<Map<string, WNode>> = fn.blocks.map(() => new Map());
    const byFacts: Array<Map<string, WNode[]>> = fn.blocks.map(() => new Map());
    // Work is taken in reverse postorder, so paths meeting at a block are joined before the
    // block's successors see them (a FIFO would re-propagate every intermediate join).
    const queue = new BlockQueue(this.rpo);
    const keep = new Set(this.ctx.params);
    const seenMismatch = new Set<string>();

    const push = (block: number, node: WNode): void => {
      let s = project(node.state, this.live, block, keep);
      const blurred = opts.blur?.get(block);
      if (blurred) s = blurLocks(s, blurred);
      let n: WNode = s === node.state ? node : { ...node, state: s };
      const here = visited[block]!;
      const key = propertyKey(s, this.isPropertyVar);
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
      const fk = cachedFactsKey(s);
      const sameFacts = byFacts[block]!.get(fk);
      if (this.preds[block]! > 1 && sameFacts) this.checkJoin(block, n, sameFacts, result, seenMismatch);
      if (here.size >= bounds.maxStatesPerPoint) {
        result.incomplete ??= `more than ${bounds.maxStatesPerPoint} distinct path states reach one point; raise jailcheck.bounds.maxStatesPerPoint to explore further`;
        return;
      }
      here.set(key, n);
      if (sameFacts) sameFacts.push(n);
      else byFacts[block]!.set(fk, [n]);
      queue.push(block, key);
    };

    for (const s of entryStates(this.ctx, opts)) push(fn.entry, { state: s, prev: null });

    for (let item = queue.pop(); item; item = queue.pop()) {
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
    const record = (label: string, nodes: WNode[]): void => {
      if (!opts.recordPoints) return;
      const k = `${block}:${label}`;
      const list = result.points.get(k);
      if (list) list.push(...nodes);
      else result.points.set(k, [...nodes]);
    };
    b.ops.forEach((op, i) => {
      record(String(i), current);
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
          next.push({ state: succ.state, prev: node, step: succ.message ? { range: op.range, message: succ.message } : undefined });
        }
      }
      current = next;
    });
    record('T', current);
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
          const label = (v: boolean): string => (term.origin === 'macro-loop'
            ? (v ? `${term.condText}: another trip` : `${term.condText}: loop ends`)
            : term.origin === 'preprocessor' ? `${term.condText} ${v ? 'compiled in' : 'compiled out'}`
            : `${term.condText} is ${v ? 'true' : 'false'}`);
          if (t) push(term.whenTrue, { state: t, prev: node, step: chose ? { range: term.range, message: label(true) } : undefined });
          if (f) push(term.whenFalse, { state: f, prev: node, step: chose ? { range: term.range, message: label(false) } : undefined });
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
