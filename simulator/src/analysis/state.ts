/**
 * The abstract state at a program point: what one class of paths knows.
 * States are immutable; every change makes a new one. Two paths that reach
 * a point with the same state key are merged, which is what keeps
 * thousand-line functions with a hundred gotos finite.
 */
import type { LockClass, LockMode } from '../ir';
import type { ObjId } from './objects';

/** What a variable or temporary holds. */
export type Value =
  | { readonly k: 'ptr'; readonly obj: ObjId; readonly nullness: 'nonnull' | 'maybe' }
  | { readonly k: 'null' }
  /** An int: a known constant, or known zero / non-zero. */
  | { readonly k: 'int'; readonly value?: number; readonly zero?: boolean }
  /**
   * A flags word: bits known set and known clear (by name). `entry` names
   * the parameter whose entry value this still is, so what a test learns
   * about it is also learnt about the entry contract.
   */
  | { readonly k: 'bits'; readonly set: readonly string[]; readonly clear: readonly string[]; readonly exact: boolean; readonly entry?: string }
  /** A counter's value plus `adjust`: the result of `--x`, `x--`. */
  | { readonly k: 'cnt'; readonly key: string; readonly adjust: number }
  /**
   * The truth of a condition saved in a variable (`created = pr == NULL;`), with the values its
   * variables had then: testing the variable later tests the condition, while they still have them.
   */
  | { readonly k: 'cond'; readonly cond: import('../ir').Expr; readonly snapshot: string; readonly temps: ReadonlyArray<readonly [number, Value]> }
  | { readonly k: 'unknown' };

export interface LockHold {
  readonly mode: LockMode;
  readonly lockClass: LockClass;
  /** 'maybe': paths that could not be told apart were merged here; nothing more is reported about it. */
  readonly certainty: 'held' | 'maybe';
  /** The lock as written where it was acquired (for objects with no better name). */
  readonly text: string;
  /** Held in a mode nobody stated (an SA_LOCKED assertion): mode checks do not apply. */
  readonly anyMode?: boolean;
}

export interface CounterFact {
  /** Change since entry on this path; 'set' after an assignment of an absolute value. */
  readonly delta: number | 'set';
  /** Bounds on the current value. */
  readonly lo: number;
  readonly hi: number;
  /** The delta was clamped (a loop ran more often than the analysis counts). */
  readonly approx: boolean;
  /** The path's course depended on this counter's value (a test, a refcount_release() result). */
  readonly tested?: boolean;
}

export interface AState {
  readonly locks: ReadonlyMap<string, LockHold>;
  /** Lock keys whose state (held or not) this path knows. */
  readonly known: ReadonlySet<string>;
  /** Known lock keys that no operation has touched yet: their state is the flag contract's assumption. */
  readonly assumed: ReadonlySet<string>;
  /** Locks held on entry: from the flag contract, an assertion, or a release the path never acquired. */
  readonly entryHeld: ReadonlyMap<string, LockMode>;
  readonly vars: ReadonlyMap<string, Value>;
  readonly temps: ReadonlyMap<number, Value>;
  readonly counters: ReadonlyMap<string, CounterFact>;
  /** Tested bits of object fields, e.g. `p:pr.pr_flags&PR_PERSIST` → true. */
  readonly facts: ReadonlyMap<string, boolean>;
  /** Field bits of the caller's objects as the path first tested them, before writing them. */
  readonly observed: ReadonlyMap<string, boolean>;
  /** The entry contract this path started under, e.g. `PD_LOCKED` or `-` for none. */
  readonly contract: string;
}

export const UNKNOWN: Value = { k: 'unknown' };

export function emptyState(contract = '-'): AState {
  return {
    locks: new Map(), known: new Set(), assumed: new Set(), entryHeld: new Map(), vars: new Map(), temps: new Map(),
    counters: new Map(), facts: new Map(), observed: new Map(), contract,
  };
}

export function withLocks(s: AState, locks: Map<string, LockHold>, known?: Set<string>): AState {
  return { ...s, locks, known: known ?? s.known };
}

/** A value that says nothing: stored as absence, so it never tells two states apart. */
function isVacuous(v: Value): boolean {
  return v.k === 'unknown' || (v.k === 'int' && v.value === undefined && v.zero === undefined);
}

export function setVar(s: AState, name: string, v: Value): AState {
  if (isVacuous(v)) {
    if (!s.vars.has(name)) return s;
    const vars = new Map(s.vars);
    vars.delete(name);
    return { ...s, vars };
  }
  const vars = new Map(s.vars);
  vars.set(name, v);
  return { ...s, vars };
}

export function setTemp(s: AState, id: number, v: Value): AState {
  if (isVacuous(v)) {
    if (!s.temps.has(id)) return s;
    const temps = new Map(s.temps);
    temps.delete(id);
    return { ...s, temps };
  }
  const temps = new Map(s.temps);
  temps.set(id, v);
  return { ...s, temps };
}

export function setCounter(s: AState, key: string, c: CounterFact): AState {
  const counters = new Map(s.counters);
  counters.set(key, c);
  return { ...s, counters };
}

export function setFact(s: AState, key: string, v: boolean): AState {
  const facts = new Map(s.facts);
  facts.set(key, v);
  return { ...s, facts };
}

export function valueKey(v: Value): string {
  switch (v.k) {
    case 'ptr': return `P${v.obj}${v.nullness === 'maybe' ? '?' : ''}`;
    case 'null': return 'N';
    case 'int': return v.value !== undefined ? `I${v.value}` : v.zero === undefined ? 'I?' : v.zero ? 'I0' : 'I!0';
    case 'bits': return `B${v.set.join('|')}/${v.clear.join('|')}${v.exact ? '!' : ''}${v.entry ? '@' : ''}`;
    case 'cnt': return `C${v.key}${v.adjust >= 0 ? '+' : ''}${v.adjust}`;
    case 'cond': return `Q${v.snapshot}`;
    case 'unknown': return '?';
  }
}

function mapKey<K, V>(m: ReadonlyMap<K, V>, f: (v: V) => string): string {
  if (m.size === 0) return '';
  const parts: string[] = [];
  for (const [k, v] of m) parts.push(`${String(k)}=${f(v)}`);
  return parts.sort().join(',');
}

const counterKey = (c: CounterFact): string => `${c.delta}:${c.lo}:${c.hi === Infinity ? 'i' : c.hi}${c.approx ? '~' : ''}${c.tested ? 't' : ''}`;
const counterValue = (c: CounterFact): string => `${c.lo}:${c.hi === Infinity ? 'i' : c.hi}`;
const lockKey = (l: LockHold): string => `${l.mode[0]}${l.certainty === 'maybe' ? '?' : ''}${l.anyMode ? '*' : ''}`;

/*
 * State keys are built from interned components. A state shares most of its
 * maps with the state it came from, so each map is serialised once (cached
 * by identity) and replaced by a small number; a state key is a handful of
 * numbers, cheap to build, hash and compare.
 */
const interned = new Map<string, number>();
const componentIds = new WeakMap<object, number>();

function intern(text: string): number {
  let id = interned.get(text);
  if (id === undefined) {
    if (interned.size > 2_000_000) interned.clear();
    id = interned.size + 1;
    interned.set(text, id);
  }
  return id;
}

function componentId<T extends object>(component: T, tag: string, serialise: (c: T) => string): number {
  const cache = componentIds;
  let id = cache.get(component);
  if (id === undefined) {
    id = intern(tag + serialise(component));
    cache.set(component, id);
  }
  return id;
}

// The same map serialised two ways needs two caches.
const counterValueIds = new WeakMap<object, number>();

function counterValuesId(m: ReadonlyMap<string, CounterFact>): number {
  let id = counterValueIds.get(m);
  if (id === undefined) {
    id = intern(`cv${mapKey(m, counterValue)}`);
    counterValueIds.set(m, id);
  }
  return id;
}

/** Everything but the locks held and the counters' changes: what the code could test to tell two paths apart. */
export function factsKey(s: AState): string {
  return [
    s.contract,
    componentId(s.vars, 'v', (m) => mapKey(m, valueKey)),
    componentId(s.temps, 't', (m) => mapKey(m, valueKey)),
    counterValuesId(s.counters),
    componentId(s.facts, 'f', (m) => mapKey(m, (b) => (b ? '1' : '0'))),
    componentId(s.observed, 'o', (m) => mapKey(m, (b) => (b ? '1' : '0'))),
    componentId(s.entryHeld, 'e', (m) => [...m.keys()].sort().join(',')),
  ].join(';');
}

const keys = new WeakMap<AState, string>();
const factKeys = new WeakMap<AState, string>();

/** factsKey, memoised. */
export function cachedFactsKey(s: AState): string {
  let k = factKeys.get(s);
  if (k === undefined) {
    k = factsKey(s);
    factKeys.set(s, k);
  }
  return k;
}

/** The identity of a state; states with equal keys are merged. */
export function stateKey(s: AState): string {
  let k = keys.get(s);
  if (k === undefined) {
    k = [
      cachedFactsKey(s),
      componentId(s.locks, 'l', (m) => mapKey(m, lockKey)),
      componentId(s.known, 'k', (m) => [...m].sort().join(',')),
      componentId(s.assumed, 'a', (m) => [...m].sort().join(',')),
      componentId(s.counters, 'c', (m) => mapKey(m, counterKey)),
    ].join('|');
    keys.set(s, k);
  }
  return k;
}

/**
 * The part of a state the checks are path-sensitive in (the "property
 * state" of ESP, Das et al., PLDI 2002): the entry contract, the locks held
 * and known, the entry preconditions, the counter changes tracked, and the
 * variables that name lock objects or carry flag bits. Two paths with the
 * same property state are joined; what else they knew is kept where they
 * agree and forgotten where they differ.
 */
const propertyKeys = new WeakMap<AState, string>();

export function propertyKey(s: AState, isPropertyVar: (name: string, v: Value) => boolean): string {
  let cached = propertyKeys.get(s);
  if (cached === undefined) {
    cached = computePropertyKey(s, isPropertyVar);
    propertyKeys.set(s, cached);
  }
  return cached;
}

function computePropertyKey(s: AState, isPropertyVar: (name: string, v: Value) => boolean): string {
  let vars = '';
  const parts: string[] = [];
  for (const [name, v] of s.vars) if (isPropertyVar(name, v)) parts.push(`${name}=${valueKey(v)}`);
  // Temps carrying flag words or objects (a `cond ? PD_A : PD_B` argument) are kept apart too.
  for (const [id, v] of s.temps) if (v.k === 'bits' || v.k === 'ptr' || v.k === 'null') parts.push(`$${id}=${valueKey(v)}`);
  if (parts.length) vars = parts.sort().join(',');
  const deltas: string[] = [];
  for (const [key, c] of s.counters) if (c.delta !== 0 || c.approx) deltas.push(`${key}=${c.delta}${c.approx ? '~' : ''}`);
  return [
    s.contract,
    componentId(s.locks, 'l', (m) => mapKey(m, lockKey)),
    componentId(s.known, 'k', (m) => [...m].sort().join(',')),
    componentId(s.assumed, 'a', (m) => [...m].sort().join(',')),
    componentId(s.entryHeld, 'e', (m) => [...m.keys()].sort().join(',')),
    intern(`pv${vars}`),
    intern(`d${deltas.sort().join(',')}`),
  ].join('|');
}

function joinMaps<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>, join: (x: V, y: V) => V | undefined): ReadonlyMap<K, V> {
  if (a === b) return a;
  const out = new Map<K, V>();
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y === undefined) continue;
    const j = join(x, y);
    if (j !== undefined) out.set(k, j);
  }
  return out.size === a.size && [...out].every(([k, v]) => a.get(k) === v) ? a : out;
}

function joinValue(x: Value, y: Value): Value | undefined {
  if (valueKey(x) === valueKey(y)) return x;
  if (x.k === 'int' && y.k === 'int' && x.zero !== undefined && x.zero === y.zero) return { k: 'int', zero: x.zero };
  if (x.k === 'ptr' && y.k === 'ptr' && x.obj === y.obj) return { ...x, nullness: 'maybe' };
  return undefined;
}

/**
 * Joins two states with the same property key: facts both agree on are
 * kept; counter values become the interval covering both.
 */
export function joinStates(a: AState, b: AState): AState {
  const vars = joinMaps(a.vars, b.vars, joinValue);
  const temps = joinMaps(a.temps, b.temps, joinValue);
  const facts = joinMaps(a.facts, b.facts, (x, y) => (x === y ? x : undefined));
  const observed = joinMaps(a.observed, b.observed, (x, y) => (x === y ? x : undefined));
  const counters = new Map<string, CounterFact>();
  let countersSame = a.counters.size === b.counters.size;
  for (const [k, x] of a.counters) {
    const y = b.counters.get(k) ?? { delta: x.delta, lo: 0, hi: Infinity, approx: x.approx };
    const j: CounterFact = { delta: x.delta, lo: Math.min(x.lo, y.lo), hi: Math.max(x.hi, y.hi), approx: x.approx || y.approx, tested: x.tested || y.tested };
    if (j.lo !== x.lo || j.hi !== x.hi || j.tested !== x.tested || j.approx !== x.approx) countersSame = false;
    counters.set(k, j);
  }
  for (const [k, y] of b.counters) {
    if (a.counters.has(k)) continue;
    countersSame = false;
    counters.set(k, { delta: y.delta, lo: 0, hi: Infinity, approx: y.approx, tested: y.tested });
  }
  if (vars === a.vars && temps === a.temps && facts === a.facts && observed === a.observed && countersSame) return a;
  return { ...a, vars, temps, facts, observed, counters: countersSame ? a.counters : counters };
}
