/**
 * The lock state at a point of a function, for hover: which locks are held
 * there, on how many of the paths that reach it, and under which flags when
 * not on all of them ("allprison_lock shared when flags & PD_LIST_SLOCKED").
 */
import type { FunctionIR, SourceRange } from '../ir';
import type { FunctionAnalysis } from './analyze';
import { pointKey, WNode } from './engine';
import { describeObject } from './objects';
import { lockName } from './transfer';

export interface HeldLock {
  readonly name: string;
  readonly mode: 'exclusive' | 'shared' | 'mixed';
  /** Paths (abstract states) that hold it here, out of `paths`. */
  readonly held: number;
  /** The flag condition under which it is held, when it is not held on every path. */
  readonly when?: string;
}

export interface CounterChange {
  readonly counter: string;
  /** Distinct changes since entry across the paths here, e.g. [-1, 0]. */
  readonly deltas: ReadonlyArray<number | 'set'>;
}

export interface LockStateAt {
  readonly function: string;
  /** The statement the state is reported before. */
  readonly range: SourceRange;
  readonly paths: number;
  readonly locks: readonly HeldLock[];
  readonly counters: readonly CounterChange[];
  /** True when no path reaches this statement. */
  readonly unreachable: boolean;
}

/** `tpr->pr_mtx` when a variable of the function points to the lock's object on this path. */
function localName(a: FunctionAnalysis, n: WNode, key: string): string | undefined {
  const hash = key.lastIndexOf('#');
  if (hash < 0) return undefined;
  const obj = key.slice(0, hash);
  const candidates: string[] = [];
  for (const [name, v] of n.state.vars) {
    if (v.k === 'ptr' && v.obj === obj && !name.startsWith('@') && !name.startsWith('^')) candidates.push(name);
  }
  if (candidates.length === 0) return undefined;
  // Parameters first (pr before tpr), then the shortest name.
  candidates.sort((x, y) => Number(a.context.params.has(y)) - Number(a.context.params.has(x)) || x.length - y.length || x.localeCompare(y));
  return `${candidates[0]}->${key.slice(hash + 1)}`;
}

/** A program point of a function: its key (engine.pointKey) and the range of its op or terminator. */
export interface PointRange {
  readonly key: number;
  readonly range: SourceRange;
}

/** Every point of a function that a hover can be before: its ops and its non-jump terminators. */
export function pointRanges(fn: FunctionIR): PointRange[] {
  const out: PointRange[] = [];
  fn.blocks.forEach((b) => {
    b.ops.forEach((op, i) => out.push({ key: pointKey(b.id, i), range: op.range }));
    if (b.term.kind !== 'jump') out.push({ key: pointKey(b.id, -1), range: b.term.range });
  });
  return out;
}

/**
 * The point a hover at `offset` is about: the innermost statement containing
 * it, or on a line between statements, the next one.
 */
export function pointAt(points: readonly PointRange[], offset: number): PointRange | undefined {
  let best: PointRange | undefined;
  for (const p of points) {
    if (p.range.start <= offset && offset <= p.range.end) {
      if (!best || p.range.end - p.range.start < best.range.end - best.range.start) best = p;
    }
  }
  if (!best) {
    for (const p of points) if (p.range.start >= offset && (!best || p.range.start < best.range.start)) best = p;
  }
  return best;
}

/** What the hover says of one point, wherever the point now is. */
export type PointState = Omit<LockStateAt, 'function' | 'range'>;

/** The flag bits true on every holding path and false on every other path: "flags & PD_LOCKED". */
function condition(a: FunctionAnalysis, holding: readonly WNode[], others: readonly WNode[]): string | undefined {
  const fp = a.context.fn.params.find((p) => a.context.flagVars.has(p.name))?.name;
  if (!fp || others.length === 0) return undefined;
  const bitsOf = (n: WNode) => {
    const v = n.state.vars.get(`@entry:${fp}`);
    return v?.k === 'bits' ? v : undefined;
  };
  const candidates = new Set<string>();
  for (const n of holding) bitsOf(n)?.set.forEach((b) => candidates.add(b));
  const explains = [...candidates].filter((b) => holding.every((n) => bitsOf(n)?.set.includes(b)) && others.every((n) => bitsOf(n)?.clear.includes(b)));
  if (explains.length > 0) return `${fp} & ${explains[0]}`;
  const negated = new Set<string>();
  for (const n of holding) bitsOf(n)?.clear.forEach((b) => negated.add(b));
  const explainsNot = [...negated].filter((b) => holding.every((n) => bitsOf(n)?.clear.includes(b)) && others.every((n) => bitsOf(n)?.set.includes(b)));
  if (explainsNot.length > 0) return `!(${fp} & ${explainsNot[0]})`;
  return undefined;
}

/**
 * The state before the innermost statement containing `offset` (or, on a
 * line between statements, before the next one). Undefined outside the
 * function's body or when the analysis kept no states (see recordPoints).
 * `fn` places offsets: the function as it is now, which may be a later
 * version of the one analysed, of the same shape.
 */
export function lockStateAt(a: FunctionAnalysis, offset: number, fn: FunctionIR = a.context.fn): LockStateAt | undefined {
  if (offset < fn.range.start || offset > fn.range.end) return undefined;
  const best = pointAt(pointRanges(fn), offset);
  if (!best) return undefined;
  return { function: fn.name, range: best.range, ...pointState(a, best.key) };
}

/** Every point's state (for a front end that answers hovers without the analysis at hand). */
export function pointStates(a: FunctionAnalysis): Map<number, PointState> {
  const out = new Map<number, PointState>();
  for (const p of pointRanges(a.context.fn)) if (!out.has(p.key)) out.set(p.key, pointState(a, p.key));
  return out;
}

function pointState(a: FunctionAnalysis, key: number): PointState {
  // Every op and terminator with this range: the earliest recorded point describes "before".
  const nodes = a.points.get(key) ?? [];
  const ctx = a.context;
  // Grouped by the name the code uses here (tpr->pr_mtx is one lock to the reader, whichever
  // ancestor tpr is on a given path) and by mode.
  const locks = new Map<string, { name: string; mode: 'exclusive' | 'shared'; holders: WNode[] }>();
  for (const n of nodes) {
    for (const [lock, hold] of n.state.locks) {
      if (hold.certainty !== 'held') continue;
      const name = localName(a, n, lock) ?? lockName(ctx, lock, hold);
      const id = `${name}|${hold.mode}`;
      const entry = locks.get(id) ?? { name, mode: hold.mode, holders: [] };
      if (!entry.holders.includes(n)) entry.holders.push(n);
      locks.set(id, entry);
    }
  }
  const held: HeldLock[] = [...locks.values()].map((l): HeldLock => ({
    name: l.name,
    mode: l.mode,
    held: l.holders.length,
    when: l.holders.length < nodes.length ? condition(a, l.holders, nodes.filter((n) => !l.holders.includes(n))) : undefined,
  })).sort((x, y) => x.name.localeCompare(y.name) || x.mode.localeCompare(y.mode));
  const counters = new Map<string, Set<number | 'set'>>();
  for (const n of nodes) {
    for (const [ck, f] of n.state.counters) {
      if (f.delta === 0) continue;
      const dot = ck.lastIndexOf('.');
      const name = `${describeObject(ck.slice(0, dot), ctx.vocabulary.parentField)}->${ck.slice(dot + 1)}`;
      const set = counters.get(name) ?? new Set();
      set.add(f.delta);
      counters.set(name, set);
    }
  }
  return {
    paths: nodes.length, locks: held, unreachable: nodes.length === 0,
    counters: [...counters.entries()].map(([counter, d]) => ({ counter, deltas: [...d] })).sort((x, y) => x.counter.localeCompare(y.counter)),
  };
}

/** "pr->pr_mtx held on all 4 paths; allprison_lock shared when flags & PD_LIST_SLOCKED". */
export function describeLockState(s: LockStateAt): string {
  if (s.unreachable) return 'No path reaches this statement.';
  const paths = `${s.paths} path${s.paths === 1 ? '' : 's'}`;
  if (s.locks.length === 0) return `No lock held (${paths}).`;
  return s.locks.map((l) => {
    const mode = l.mode === 'shared' ? ' shared' : l.mode === 'mixed' ? ' (shared or exclusive)' : '';
    if (l.held === s.paths) return `${l.name}${mode} held on ${s.paths === 1 ? 'the only path' : `all ${paths}`}`;
    return `${l.name}${mode} held on ${l.held} of ${paths}${l.when ? ` (when ${l.when})` : ''}`;
  }).join('; ');
}
