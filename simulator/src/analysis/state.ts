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
  /** Locks held on entry: from the flag contract, an assertion, or a release the path never acquired. */
  readonly entryHeld: ReadonlyMap<string, LockMode>;
  readonly vars: ReadonlyMap<string, Value>;
  readonly temps: ReadonlyMap<number, Value>;
  readonly counters: ReadonlyMap<string, CounterFact>;
  /** Tested bits of object fields, e.g. `p:pr.pr_flags&PR_PERSIST` → true. */
  readonly facts: ReadonlyMap<string, boolean>;
  /** The entry contract this path started under, e.g. `PD_LOCKED` or `-` for none. */
  readonly contract: string;
}

export const UNKNOWN: Value = { k: 'unknown' };

export function emptyState(contract = '-'): AState {
  return {
    locks: new Map(), known: new Set(), entryHeld: new Map(), vars: new Map(), temps: new Map(),
    counters: new Map(), facts: new Map(), contract,
  };
}

export function withLocks(s: AState, locks: Map<string, LockHold>, known?: Set<string>): AState {
  return { ...s, locks, known: known ?? s.known };
}

export function setVar(s: AState, name: string, v: Value): AState {
  const vars = new Map(s.vars);
  vars.set(name, v);
  return { ...s, vars };
}

export function setTemp(s: AState, id: number, v: Value): AState {
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
      componentId(s.counters, 'c', (m) => mapKey(m, counterKey)),
    ].join('|');
    keys.set(s, k);
  }
  return k;
}
