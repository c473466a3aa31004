/**
 * The abstract state at a program point: what one class of paths knows.
 * States are immutable; every change makes a new one. Two paths that reach
 * a point with the same state key are merged, which is what keeps
 * thousand-line functions with a hundred gotos finite.
 *
 * Each component is a persistent map or set over interned keys (pmap.ts);
 * the keys that tell states apart are built from the components' content
 * ids, a few integers, never from their serialised text.
 */
import type { LockClass, LockMode } from '../ir';
import type { ObjId } from './objects';
import { booleanKind, keysOnlyKind, objectKind, PMap, PSet, Symbols, ValueKind } from './pmap';

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

/** The components of an abstract state: what a path knows. */
export interface StateParts {
  readonly locks: PMap<string, LockHold>;
  /** Lock keys whose state (held or not) this path knows. */
  readonly known: PSet;
  /** Known lock keys that no operation has touched yet: their state is the flag contract's assumption. */
  readonly assumed: PSet;
  /** Locks held on entry: from the flag contract, an assertion, or a release the path never acquired. */
  readonly entryHeld: PMap<string, LockMode>;
  readonly vars: PMap<string, Value>;
  readonly temps: PMap<number, Value>;
  readonly counters: PMap<string, CounterFact>;
  /** Tested bits of object fields, e.g. `p:pr.pr_flags&PR_PERSIST` → true. */
  readonly facts: PMap<string, boolean>;
  /** Field bits of the caller's objects as the path first tested them, before writing them. */
  readonly observed: PMap<string, boolean>;
  /** The entry contract this path started under, e.g. `PD_LOCKED` or `-` for none. */
  readonly contract: string;
}

/**
 * A state: its parts, and its keys once computed (-1 until then). Made only
 * by `emptyState` and `derive`, never by spreading another state (which
 * would copy its keys).
 */
export interface AState extends StateParts {
  /** propertyKey, factsKey, stateKey: see below. */
  pk: number;
  fk: number;
  sk: number;
}

/** A state with some parts replaced (its keys are computed anew). */
export function derive(s: AState, c: Partial<StateParts>): AState {
  return {
    locks: c.locks ?? s.locks, known: c.known ?? s.known, assumed: c.assumed ?? s.assumed, entryHeld: c.entryHeld ?? s.entryHeld,
    vars: c.vars ?? s.vars, temps: c.temps ?? s.temps, counters: c.counters ?? s.counters, facts: c.facts ?? s.facts,
    observed: c.observed ?? s.observed, contract: c.contract ?? s.contract, pk: -1, fk: -1, sk: -1,
  };
}

export const UNKNOWN: Value = { k: 'unknown' };

/** The state that knows nothing, its keys interned in `table` (the function's). */
export function emptyState(table: Symbols, contract = '-'): AState {
  const none = PSet.empty(table);
  return {
    locks: PMap.empty(table), known: none, assumed: none, entryHeld: PMap.empty(table), vars: PMap.empty(table),
    temps: PMap.emptyNumeric(table), counters: PMap.empty(table), facts: PMap.empty(table), observed: PMap.empty(table), contract,
    pk: -1, fk: -1, sk: -1,
  };
}

/** A value that says nothing: stored as absence, so it never tells two states apart. */
function isVacuous(v: Value): boolean {
  return v.k === 'unknown' || (v.k === 'int' && v.value === undefined && v.zero === undefined);
}

export function setVar(s: AState, name: string, v: Value): AState {
  const vars = isVacuous(v) ? s.vars.without(name) : s.vars.with(name, v);
  return vars === s.vars ? s : derive(s, { vars });
}

export function setTemp(s: AState, id: number, v: Value): AState {
  const temps = isVacuous(v) ? s.temps.without(id) : s.temps.with(id, v);
  return temps === s.temps ? s : derive(s, { temps });
}

export function setCounter(s: AState, key: string, c: CounterFact): AState {
  const counters = s.counters.with(key, c);
  return counters === s.counters ? s : derive(s, { counters });
}

export function setFact(s: AState, key: string, v: boolean): AState {
  const facts = s.facts.with(key, v);
  return facts === s.facts ? s : derive(s, { facts });
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

const counterKey = (c: CounterFact): string => `${c.delta}:${c.lo}:${c.hi === Infinity ? 'i' : c.hi}${c.approx ? '~' : ''}${c.tested ? 't' : ''}`;
const counterValue = (c: CounterFact): string => `${c.lo}:${c.hi === Infinity ? 'i' : c.hi}`;
const lockKey = (l: LockHold): string => `${l.mode[0]}${l.certainty === 'maybe' ? '?' : ''}${l.anyMode ? '*' : ''}`;

/*
 * What of each component's values tells two states apart (the rest, such as
 * the text a lock was written with, is carried along for messages), by id
 * slot (see pmap.ts).
 */
export const VALUE_KIND: ValueKind<Value> = objectKind<Value>(1, valueKey);
const LOCK_KIND: ValueKind<LockHold> = objectKind<LockHold>(2, lockKey);
const COUNTER_KIND: ValueKind<CounterFact> = objectKind<CounterFact>(3, counterKey);
const COUNTER_VALUE_KIND: ValueKind<CounterFact> = objectKind<CounterFact>(4, counterValue);
const BOOL_KIND: ValueKind<boolean> = booleanKind(5);
const DELTA_KIND: ValueKind<CounterFact> = objectKind<CounterFact>(6, (c) => `${c.delta}${c.approx ? '~' : ''}`);
const ENTRY_KIND: ValueKind<LockMode> = keysOnlyKind<LockMode>(0);
// Projections of the property key, in slots of their own.
const PROPERTY_VARS = 8;
const PROPERTY_TEMPS = 9;
const DELTAS = 10;

const FACTS_TUPLE = -2;
const STATE_TUPLE = -3;
const PROPERTY_TUPLE = -4;

/**
 * Registers the property key's projections in a function's table: which
 * variables keep paths apart (`isPropertyVar`, the engine's), which temps
 * (those carrying flag words or objects: a `cond ? PD_A : PD_B` argument),
 * and which counters (those that changed).
 */
export function registerProjections(table: Symbols, isPropertyVar: (name: string, v: Value) => boolean): void {
  const names = table.names;
  table.project<Value>(PROPERTY_VARS, (sym, v) => isPropertyVar(names[sym]!, v), VALUE_KIND);
  table.project<Value>(PROPERTY_TEMPS, (_, v) => v.k === 'bits' || v.k === 'ptr' || v.k === 'null', VALUE_KIND);
  table.project<CounterFact>(DELTAS, (_, c) => c.delta !== 0 || c.approx, DELTA_KIND);
}

/** Everything but the locks held and the counters' changes: what the code could test to tell two paths apart. */
export function cachedFactsKey(s: AState): number {
  if (s.fk < 0) {
    s.fk = s.vars.table.tupleId(FACTS_TUPLE, [s.vars.table.id(s.contract), s.vars.idBy(VALUE_KIND), s.temps.idBy(VALUE_KIND),
      s.counters.idBy(COUNTER_VALUE_KIND), s.facts.idBy(BOOL_KIND), s.observed.idBy(BOOL_KIND), s.entryHeld.idBy(ENTRY_KIND)]);
  }
  return s.fk;
}

/** The identity of a state (a number, unique within its function's table); states with equal keys are merged. */
export function stateKey(s: AState): number {
  if (s.sk < 0) {
    s.sk = s.vars.table.tupleId(STATE_TUPLE, [cachedFactsKey(s), s.locks.idBy(LOCK_KIND), s.known.contentId, s.assumed.contentId,
      s.counters.idBy(COUNTER_KIND)]);
  }
  return s.sk;
}

/**
 * The part of a state the checks are path-sensitive in (the "property
 * state" of ESP, Das et al., PLDI 2002): the entry contract, the locks held
 * and known, the entry preconditions, the counter changes tracked, and the
 * variables that name lock objects or carry flag bits. Two paths with the
 * same property state are joined; what else they knew is kept where they
 * agree and forgotten where they differ. The projections must have been
 * registered in the state's table (registerProjections).
 */
export function propertyKey(s: AState): number {
  if (s.pk < 0) {
    const t = s.vars.table;
    s.pk = t.tupleId(PROPERTY_TUPLE, [t.id(s.contract), s.locks.idBy(LOCK_KIND), s.known.contentId, s.assumed.contentId,
      s.entryHeld.idBy(ENTRY_KIND), s.vars.projectedId(PROPERTY_VARS, VALUE_KIND), s.temps.projectedId(PROPERTY_TEMPS, VALUE_KIND),
      s.counters.projectedId(DELTAS, DELTA_KIND)]);
  }
  return s.pk;
}

function joinMaps<K extends string | number, V>(a: PMap<K, V>, b: PMap<K, V>, join: (x: V, y: V) => V | undefined): PMap<K, V> {
  if (a === b) return a;
  let ks: number[] | undefined;
  let vs: V[] | undefined;
  for (let i = 0; i < a.ks.length; i++) {
    const sym = a.ks[i]!;
    const x = a.vs[i]!;
    const y = b.getSym(sym);
    const j = y === undefined ? undefined : join(x, y);
    if (j === x && !ks) continue;
    if (!ks) {
      ks = a.ks.slice(0, i) as number[];
      vs = a.vs.slice(0, i) as V[];
    }
    if (j !== undefined) {
      ks.push(sym);
      vs!.push(j);
    }
  }
  return ks ? a.fresh(ks, vs!) : a;
}

function joinValue(x: Value, y: Value): Value | undefined {
  if (x === y || valueKey(x) === valueKey(y)) return x;
  if (x.k === 'int' && y.k === 'int' && x.zero !== undefined && x.zero === y.zero) return { k: 'int', zero: x.zero };
  if (x.k === 'ptr' && y.k === 'ptr' && x.obj === y.obj) return { ...x, nullness: 'maybe' };
  return undefined;
}

const sameBool = (x: boolean, y: boolean): boolean | undefined => (x === y ? x : undefined);

/**
 * Joins two states with the same property key: facts both agree on are
 * kept; counter values become the interval covering both.
 */
export function joinStates(a: AState, b: AState): AState {
  const vars = joinMaps(a.vars, b.vars, joinValue);
  const temps = joinMaps(a.temps, b.temps, joinValue);
  const facts = joinMaps(a.facts, b.facts, sameBool);
  const observed = joinMaps(a.observed, b.observed, sameBool);
  let countersSame = a.counters.size === b.counters.size;
  const ks = a.counters.ks.slice() as number[];
  const vs: CounterFact[] = [];
  for (let i = 0; i < a.counters.ks.length; i++) {
    const x = a.counters.vs[i]!;
    const y = b.counters.getSym(a.counters.ks[i]!) ?? { delta: x.delta, lo: 0, hi: Infinity, approx: x.approx };
    const j: CounterFact = { delta: x.delta, lo: Math.min(x.lo, y.lo), hi: Math.max(x.hi, y.hi), approx: x.approx || y.approx, tested: x.tested || y.tested };
    if (j.lo !== x.lo || j.hi !== x.hi || j.tested !== x.tested || j.approx !== x.approx) countersSame = false;
    vs.push(j);
  }
  for (let i = 0; i < b.counters.ks.length; i++) {
    const sym = b.counters.ks[i]!;
    if (a.counters.getSym(sym) !== undefined) continue;
    const y = b.counters.vs[i]!;
    countersSame = false;
    ks.push(sym);
    vs.push({ delta: y.delta, lo: 0, hi: Infinity, approx: y.approx, tested: y.tested });
  }
  if (vars === a.vars && temps === a.temps && facts === a.facts && observed === a.observed && countersSame) return a;
  return derive(a, { vars, temps, facts, observed, counters: countersSame ? a.counters : a.counters.fresh(ks, vs) });
}
