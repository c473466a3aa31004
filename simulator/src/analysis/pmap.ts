/**
 * Persistent maps and sets for abstract states, built for the engine's hot
 * path (see ARCHITECTURE.md, "How the parts decide").
 *
 * Keys are interned once into small integers (`Symbols`, one table per
 * function analysed); a map is two short arrays, keys and values, in
 * insertion order (so iterating one is the same as iterating the `Map` it
 * replaces: the order a path display shows does not depend on the
 * representation). Updates copy the arrays, which for the few dozen entries
 * a state holds is cheaper than copying a `Map`.
 *
 * Every map has content identities (`idBy`): equal contents get equal ids,
 * however and wherever they were built. An id is computed on demand, from a
 * commutative hash over (key, value id) pairs checked against the contents
 * already seen, so two states are told apart by comparing a handful of
 * integers instead of serialising their maps. Value ids come from a
 * `ValueKind`, which says what of a value counts (a lock's mode and
 * certainty, not the text it was written with). A map derived from another
 * by a change a projection does not see inherits the projection's id (see
 * `Symbols.project`), which is what keeps the engine's per-path cost flat.
 */

/** Id slots: one per value kind and per registered projection (small numbers, used as array indexes). */
export const ID_SLOTS = 12;

/** Interned keys of one function's analysis, and the contents its maps have had. */
export class Symbols {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  /** The key's number, interning it if new. */
  id(key: string): number {
    let i = this.ids.get(key);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(key, i);
      this.names.push(key);
    }
    return i;
  }

  /** The key's number if it was ever interned: a key never interned is in no map. */
  peek(key: string): number | undefined {
    return this.ids.get(key);
  }

  name(id: number): string {
    return this.names[id]!;
  }

  private readonly joins = new Map<string, Map<string, string>>();

  /**
   * `a + b` as one string object per distinct pair: keys such as
   * `p:pr#pr_mtx` are built again and again from the same parts, and a
   * string made once has its hash computed once (a fresh concatenation is
   * hashed anew at every map lookup).
   */
  join(a: string, b: string): string {
    let m = this.joins.get(a);
    if (!m) {
      m = new Map();
      this.joins.set(a, m);
    }
    let k = m.get(b);
    if (k === undefined) {
      k = a + b;
      m.set(b, k);
    }
    return k;
  }

  // ---- content identities ------------------------------------------------

  private readonly valueIds = new Map<string, number>();
  private readonly valueCaches: Array<WeakMap<object, number> | undefined> = [];
  private canon = new Map<number, CanonEntry[]>();
  private nextMapId = 1;
  /** Bumped by `forgetContents`: content ids cached on maps of an older generation are stale. */
  generation = 0;
  /** Projections by slot: which entries they keep (see PMap.projectedId). */
  readonly projections: Array<((sym: number, v: never) => boolean) | undefined> = [];
  /** The value kind each projection compares its entries by. */
  readonly projectionKinds: Array<ValueKind<never> | undefined> = [];

  /** Registers what the projection in `slot` keeps, so maps derived by unseen changes inherit its id. */
  project<V>(slot: number, keep: (sym: number, v: V) => boolean, kind: ValueKind<V>): void {
    this.projections[slot] = keep as (sym: number, v: never) => boolean;
    this.projectionKinds[slot] = kind as ValueKind<never>;
  }

  /**
   * Drops the table of contents seen (an analysis is done and only its
   * results are kept): the memory goes, and ids computed later are new ones.
   */
  forgetContents(): void {
    this.canon = new Map();
    this.nextMapId = 1;
    this.generation++;
  }

  /** Value objects' numbers under the kind in `slot`, in this table. */
  valueCache(slot: number): WeakMap<object, number> {
    let c = this.valueCaches[slot];
    if (!c) {
      c = new WeakMap();
      this.valueCaches[slot] = c;
    }
    return c;
  }

  /** A number for a value's serialisation (equal text, equal number). */
  internValue(text: string): number {
    let id = this.valueIds.get(text);
    if (id === undefined) {
      id = this.valueIds.size + 1;
      this.valueIds.set(text, id);
    }
    return id;
  }

  /**
   * The id of a map's content: keys `ks` with value ids `vids`, only those
   * `mask` selects (all when it is undefined). The hash is a commutative sum,
   * so no sort is needed to look a content up; a new content is stored
   * sorted, for comparisons by binary search.
   */
  mapId(kind: number, ks: readonly number[], vids: ArrayLike<number>, mask: Uint8Array | undefined): number {
    let n = 0;
    let hash = 0;
    for (let i = 0; i < ks.length; i++) {
      if (mask && !mask[i]) continue;
      n++;
      hash = (hash + mix(ks[i]!, vids[i]!)) | 0;
    }
    if (n === 0) return 0;
    const h = (hash + Math.imul(n, 0x27d4eb2d) + Math.imul(kind + 3, 0x9e3779b1)) | 0;
    let list = this.canon.get(h);
    if (list) {
      for (const e of list) if (e.kind === kind && e.pairs.length === 2 * n && sameEntries(e.pairs, ks, vids, mask)) return e.id;
    } else {
      list = [];
      this.canon.set(h, list);
    }
    const order: number[] = [];
    for (let i = 0; i < ks.length; i++) if (!mask || mask[i]) order.push(i);
    order.sort((a, b) => ks[a]! - ks[b]!);
    const pairs = new Int32Array(2 * n);
    for (let j = 0; j < n; j++) {
      pairs[2 * j] = ks[order[j]!]!;
      pairs[2 * j + 1] = vids[order[j]!]!;
    }
    const id = this.nextMapId++;
    list.push({ kind, pairs, id });
    return id;
  }

  /** The id of a tuple of ints (equal tuples, equal ids); `kind` keeps different tuples' ids apart. */
  tupleId(kind: number, tuple: readonly number[]): number {
    let hash = Math.imul(tuple.length + 7, 0x9e3779b1) ^ kind;
    for (let i = 0; i < tuple.length; i++) hash = (Math.imul(hash, 0x01000193) ^ mix(i, tuple[i]!)) | 0;
    let list = this.canon.get(hash);
    if (list) {
      for (const e of list) if (e.kind === kind && sameTuple(e.pairs, tuple)) return e.id;
    } else {
      list = [];
      this.canon.set(hash, list);
    }
    const id = this.nextMapId++;
    list.push({ kind, pairs: Int32Array.from(tuple), id });
    return id;
  }
}

interface CanonEntry {
  readonly kind: number;
  /** Sorted by key: (key, value id) pairs; or a tuple. */
  readonly pairs: Int32Array;
  readonly id: number;
}

/** Whether sorted `pairs` hold exactly the selected entries (their count is already known equal). */
function sameEntries(pairs: Int32Array, ks: readonly number[], vids: ArrayLike<number>, mask: Uint8Array | undefined): boolean {
  const m = pairs.length >> 1;
  for (let i = 0; i < ks.length; i++) {
    if (mask && !mask[i]) continue;
    const k = ks[i]!;
    let lo = 0;
    let hi = m - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = pairs[2 * mid]!;
      if (x === k) {
        found = mid;
        break;
      }
      if (x < k) lo = mid + 1;
      else hi = mid - 1;
    }
    if (found < 0 || pairs[2 * found + 1] !== vids[i]) return false;
  }
  return true;
}

function sameTuple(a: Int32Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mix(k: number, v: number): number {
  let h = Math.imul(k + 0x632be5ab, 0x85ebca6b) ^ Math.imul(v + 0x2545f491, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** What of a value counts for one way of comparing maps, as a number (see Symbols.internValue). */
export interface ValueKind<V> {
  /** The id slot of this kind (below ID_SLOTS). */
  readonly slot: number;
  valueId(v: V, table: Symbols): number;
}

/**
 * A kind for object values: serialised once per value object and table (a
 * value object can be shared by two functions' analyses, a summary's return
 * value for one; its number is each table's own).
 */
export function objectKind<V extends object>(slot: number, serialise: (v: V) => string): ValueKind<V> {
  return {
    slot,
    valueId(v: V, table: Symbols): number {
      const cache = table.valueCache(slot);
      let id = cache.get(v);
      if (id === undefined) {
        id = table.internValue(serialise(v));
        cache.set(v, id);
      }
      return id;
    },
  };
}

/** Keys only: the values do not count (a map compared by its keys). */
export function keysOnlyKind<V>(slot: number): ValueKind<V> {
  return { slot, valueId: () => 0 };
}

/** Booleans: compared as they are. */
export function booleanKind(slot: number): ValueKind<boolean> {
  return { slot, valueId: (v) => (v ? 1 : 2) };
}

/**
 * A persistent map from keys (strings interned in `table`, or numbers used
 * as they are when `numeric`) to values. Reads take the keys as the code
 * writes them; `...Sym` variants take interned numbers.
 */
export class PMap<K extends string | number, V> implements ReadonlyMap<K, V> {
  /** Content ids by slot (-1: not computed), valid for `idsGeneration`. */
  private ids: number[] | undefined = undefined;
  private idsGeneration = 0;

  constructor(readonly table: Symbols, private readonly numeric: boolean,
    readonly ks: readonly number[], readonly vs: readonly V[]) {}

  static empty<V>(table: Symbols): PMap<string, V> {
    return new PMap<string, V>(table, false, [], []);
  }

  static emptyNumeric<V>(table: Symbols): PMap<number, V> {
    return new PMap<number, V>(table, true, [], []);
  }

  get size(): number {
    return this.ks.length;
  }

  /** The interned number of a key, or undefined if no map can hold it. */
  symOf(key: K): number | undefined {
    return this.numeric ? (key as number) : this.table.peek(key as string);
  }

  keyOf(sym: number): K {
    return (this.numeric ? sym : this.table.names[sym]!) as K;
  }

  indexOfSym(sym: number): number {
    const ks = this.ks;
    for (let i = 0; i < ks.length; i++) if (ks[i] === sym) return i;
    return -1;
  }

  get(key: K): V | undefined {
    const sym = this.symOf(key);
    if (sym === undefined) return undefined;
    const i = this.indexOfSym(sym);
    return i < 0 ? undefined : this.vs[i];
  }

  has(key: K): boolean {
    const sym = this.symOf(key);
    return sym !== undefined && this.indexOfSym(sym) >= 0;
  }

  getSym(sym: number): V | undefined {
    const i = this.indexOfSym(sym);
    return i < 0 ? undefined : this.vs[i];
  }

  /** A map with `key` set to `v` (an existing key keeps its place, as Map.set does). */
  with(key: K, v: V): PMap<K, V> {
    return this.withSym(this.numeric ? (key as number) : this.table.id(key as string), v);
  }

  withSym(sym: number, v: V): PMap<K, V> {
    const i = this.indexOfSym(sym);
    let out: PMap<K, V>;
    if (i >= 0) {
      if (this.vs[i] === v) return this;
      const vs = this.vs.slice();
      vs[i] = v;
      out = new PMap<K, V>(this.table, this.numeric, this.ks, vs);
    } else {
      const ks = this.ks.slice();
      const vs = this.vs.slice();
      ks.push(sym);
      vs.push(v);
      out = new PMap<K, V>(this.table, this.numeric, ks, vs);
    }
    this.inheritProjections(out, sym, i >= 0 ? this.vs[i] : undefined, v);
    return out;
  }

  without(key: K): PMap<K, V> {
    const sym = this.symOf(key);
    return sym === undefined ? this : this.withoutSym(sym);
  }

  withoutSym(sym: number): PMap<K, V> {
    const i = this.indexOfSym(sym);
    if (i < 0) return this;
    const ks = this.ks.slice();
    const vs = this.vs.slice();
    ks.splice(i, 1);
    vs.splice(i, 1);
    const out = new PMap<K, V>(this.table, this.numeric, ks, vs);
    this.inheritProjections(out, sym, this.vs[i], undefined);
    return out;
  }

  /** The entries for which `keep` holds (this map itself when all do). */
  filter(keep: (sym: number, v: V) => boolean): PMap<K, V> {
    const ks = this.ks;
    let i = 0;
    while (i < ks.length && keep(ks[i]!, this.vs[i]!)) i++;
    if (i === ks.length) return this;
    const nk = ks.slice(0, i);
    const nv = this.vs.slice(0, i);
    const dropped = [i];
    for (i++; i < ks.length; i++) {
      if (keep(ks[i]!, this.vs[i]!)) {
        nk.push(ks[i]!);
        nv.push(this.vs[i]!);
      } else dropped.push(i);
    }
    const out = new PMap<K, V>(this.table, this.numeric, nk, nv);
    if (this.ids && this.idsGeneration === this.table.generation) {
      const projections = this.table.projections;
      for (let slot = 0; slot < ID_SLOTS; slot++) {
        const keepIn = projections[slot];
        const id = this.ids[slot]!;
        if (!keepIn || id < 0) continue;
        // Dropping entries the projection never kept leaves the projection as it was.
        if (dropped.every((d) => !keepIn(ks[d]!, this.vs[d]! as never))) out.remember(slot, id);
      }
    }
    return out;
  }

  /** The same keys with values replaced by `f` (this map itself when none changes). */
  mapValues(f: (v: V, sym: number) => V): PMap<K, V> {
    let vs: V[] | undefined;
    for (let i = 0; i < this.vs.length; i++) {
      const v = this.vs[i]!;
      const w = f(v, this.ks[i]!);
      if (w !== v) {
        vs ??= this.vs.slice();
        vs[i] = w;
      }
    }
    return vs ? new PMap<K, V>(this.table, this.numeric, this.ks, vs) : this;
  }

  /** Builds a map from scratch in this map's table. */
  fresh(ks: number[], vs: V[]): PMap<K, V> {
    return new PMap<K, V>(this.table, this.numeric, ks, vs);
  }

  /** The content identity of this map under `kind` (equal contents, equal ids). */
  idBy(kind: ValueKind<V>): number {
    const cached = this.cached(kind.slot);
    if (cached >= 0) return cached;
    const id = this.table.mapId(kind.slot, this.ks, this.valueIds(kind), undefined);
    this.remember(kind.slot, id);
    return id;
  }

  /**
   * The content identity of the entries the projection registered for `slot`
   * keeps (see Symbols.project), under `kind`: a projection's id without
   * building the projected map.
   */
  projectedId(slot: number, kind: ValueKind<V>): number {
    const cached = this.cached(slot);
    if (cached >= 0) return cached;
    const keep = this.table.projections[slot]! as (sym: number, v: V) => boolean;
    const n = this.ks.length;
    const mask = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (keep(this.ks[i]!, this.vs[i]!)) {
        mask[i] = 1;
        any = true;
      }
    }
    const id = any ? this.table.mapId(kind.slot, this.ks, this.valueIds(kind), mask) : 0;
    this.remember(slot, id);
    return id;
  }

  private cached(slot: number): number {
    if (!this.ids || this.idsGeneration !== this.table.generation) return -1;
    return this.ids[slot]!;
  }

  private valueIds(kind: ValueKind<V>): number[] {
    const n = this.vs.length;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = kind.valueId(this.vs[i]!, this.table);
    return out;
  }

  private remember(slot: number, id: number): void {
    if (!this.ids || this.idsGeneration !== this.table.generation) {
      this.ids = new Array<number>(ID_SLOTS).fill(-1);
      this.idsGeneration = this.table.generation;
    }
    this.ids[slot] = id;
  }

  /**
   * A change of `sym` from `before` to `after` that a projection does not
   * see (it keeps neither, or both with the same value id) leaves the
   * projection's id as it was.
   */
  private inheritProjections(out: PMap<K, V>, sym: number, before: V | undefined, after: V | undefined): void {
    if (!this.ids || this.idsGeneration !== this.table.generation) return;
    const projections = this.table.projections;
    for (let slot = 0; slot < ID_SLOTS; slot++) {
      const keep = projections[slot];
      const id = this.ids[slot]!;
      if (!keep || id < 0) continue;
      const kb = before !== undefined && keep(sym, before as never);
      const ka = after !== undefined && keep(sym, after as never);
      if (!kb && !ka) out.remember(slot, id);
      else if (kb && ka) {
        const kind = this.table.projectionKinds[slot]!;
        if (kind.valueId(before as never, this.table) === kind.valueId(after as never, this.table)) out.remember(slot, id);
      }
    }
  }

  *entries(): MapIterator<[K, V]> {
    for (let i = 0; i < this.ks.length; i++) yield [this.keyOf(this.ks[i]!), this.vs[i]!];
  }

  *keys(): MapIterator<K> {
    for (let i = 0; i < this.ks.length; i++) yield this.keyOf(this.ks[i]!);
  }

  *values(): MapIterator<V> {
    for (let i = 0; i < this.vs.length; i++) yield this.vs[i]!;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(f: (v: V, k: K, m: ReadonlyMap<K, V>) => void): void {
    for (let i = 0; i < this.ks.length; i++) f(this.vs[i]!, this.keyOf(this.ks[i]!), this);
  }
}

const ZEROS: number[] = [];

/** A persistent set of interned keys, in insertion order. */
export class PSet implements ReadonlySet<string> {
  private id = -1;
  private idGeneration = 0;

  constructor(readonly table: Symbols, readonly ks: readonly number[]) {}

  static empty(table: Symbols): PSet {
    return new PSet(table, []);
  }

  get size(): number {
    return this.ks.length;
  }

  hasSym(sym: number): boolean {
    const ks = this.ks;
    for (let i = 0; i < ks.length; i++) if (ks[i] === sym) return true;
    return false;
  }

  has(key: string): boolean {
    const sym = this.table.peek(key);
    return sym !== undefined && this.hasSym(sym);
  }

  with(key: string): PSet {
    return this.withSym(this.table.id(key));
  }

  withSym(sym: number): PSet {
    if (this.hasSym(sym)) return this;
    return new PSet(this.table, [...this.ks, sym]);
  }

  without(key: string): PSet {
    const sym = this.table.peek(key);
    return sym === undefined ? this : this.withoutSym(sym);
  }

  withoutSym(sym: number): PSet {
    const i = this.ks.indexOf(sym);
    if (i < 0) return this;
    const ks = this.ks.slice();
    ks.splice(i, 1);
    return new PSet(this.table, ks);
  }

  filter(keep: (sym: number) => boolean): PSet {
    const ks = this.ks;
    let i = 0;
    while (i < ks.length && keep(ks[i]!)) i++;
    if (i === ks.length) return this;
    const out = ks.slice(0, i);
    for (i++; i < ks.length; i++) if (keep(ks[i]!)) out.push(ks[i]!);
    return new PSet(this.table, out);
  }

  /** The content identity of the set (equal members, equal ids). */
  get contentId(): number {
    if (this.id < 0 || this.idGeneration !== this.table.generation) {
      this.idGeneration = this.table.generation;
      if (ZEROS.length < this.ks.length) for (let i = ZEROS.length; i < this.ks.length; i++) ZEROS.push(0);
      this.id = this.table.mapId(-1, this.ks, ZEROS, undefined);
    }
    return this.id;
  }

  *values(): SetIterator<string> {
    for (const k of this.ks) yield this.table.names[k]!;
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const k of this.ks) {
      const n = this.table.names[k]!;
      yield [n, n];
    }
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  forEach(f: (v: string, k: string, s: ReadonlySet<string>) => void): void {
    for (const k of this.ks) {
      const n = this.table.names[k]!;
      f(n, n, this);
    }
  }
}
