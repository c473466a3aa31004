/**
 * The world a simulation runs in: heap objects (prisons, threads, processes,
 * credentials, anything the code allocates), the lists that link them
 * (`allprison`, each prison's children), the locks and their holders, and
 * plain global variables. Cloned for every execution, so executions never
 * share state.
 */
import type { LockClass, LockMode } from '../ir';
import { SVal, valueKey, ZERO } from './values';

export type ObjectKind = 'prison' | 'thread' | 'proc' | 'ucred' | 'object';

export interface HeapObject {
  readonly id: number;
  kind: ObjectKind;
  name: string;
  readonly fields: Map<string, SVal>;
  freed: boolean;
  /** Which list each of its link fields is on (`pr_list` → `g:allprison`). */
  readonly links: Map<string, string>;
}

export interface LockState {
  readonly lockClass: LockClass;
  /** The thread holding it exclusive, or -1. */
  exclusive: number;
  /** Threads holding it shared, with their recursion count. */
  readonly shared: Map<number, number>;
}

export interface Holding {
  readonly key: string;
  readonly thread: number;
  readonly mode: LockMode;
}

export class World {
  readonly objects = new Map<number, HeapObject>();
  readonly lists = new Map<string, number[]>();
  readonly locks = new Map<string, LockState>();
  readonly globals = new Map<string, SVal>();
  /** Objects by the names the scenario gives them (prison0, A, td1…). */
  readonly names = new Map<string, number>();

  clone(): World {
    const w = new World();
    for (const [id, o] of this.objects) {
      w.objects.set(id, { id, kind: o.kind, name: o.name, fields: new Map(o.fields), freed: o.freed, links: new Map(o.links) });
    }
    for (const [k, l] of this.lists) w.lists.set(k, l.slice());
    for (const [k, l] of this.locks) w.locks.set(k, { lockClass: l.lockClass, exclusive: l.exclusive, shared: new Map(l.shared) });
    for (const [k, v] of this.globals) w.globals.set(k, v);
    for (const [k, v] of this.names) w.names.set(k, v);
    return w;
  }

  addObject(id: number, kind: ObjectKind, name: string, fields: Record<string, SVal> = {}): HeapObject {
    const o: HeapObject = { id, kind, name, fields: new Map(Object.entries(fields)), freed: false, links: new Map() };
    this.objects.set(id, o);
    if (name) this.names.set(name, id);
    return o;
  }

  field(o: HeapObject, f: string): SVal {
    return o.fields.get(f) ?? ZERO;
  }

  named(name: string): HeapObject | undefined {
    const id = this.names.get(name);
    return id === undefined ? undefined : this.objects.get(id);
  }

  lock(key: string, lockClass: LockClass): LockState {
    let l = this.locks.get(key);
    if (!l) {
      l = { lockClass, exclusive: -1, shared: new Map() };
      this.locks.set(key, l);
    }
    return l;
  }

  /** The mode `thread` holds the lock in, if it does. */
  heldBy(key: string, thread: number): LockMode | undefined {
    const l = this.locks.get(key);
    if (!l) return undefined;
    if (l.exclusive === thread) return 'exclusive';
    return l.shared.has(thread) ? 'shared' : undefined;
  }

  holdings(): Holding[] {
    const out: Holding[] = [];
    for (const [key, l] of this.locks) {
      if (l.exclusive >= 0) out.push({ key, thread: l.exclusive, mode: 'exclusive' });
      for (const t of l.shared.keys()) out.push({ key, thread: t, mode: 'shared' });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key) || a.thread - b.thread);
  }

  locksOf(thread: number): Holding[] {
    return this.holdings().filter((h) => h.thread === thread);
  }

  /** A lock's name as a reviewer reads it: `A.pr_mtx`, `allprison_lock`. */
  lockName(key: string): string {
    if (key.startsWith('g:')) return key.slice(2);
    const dot = key.indexOf('.');
    const o = this.objects.get(Number(key.slice(0, dot)));
    return `${o?.name || `object ${key.slice(0, dot)}`}.${key.slice(dot + 1)}`;
  }

  listName(key: string): string {
    return this.lockName(key);
  }

  /** Everything that can differ between two states, as one string (state caching, distinct-state counts). */
  key(): string {
    const parts: string[] = [];
    for (const o of this.objects.values()) {
      let s = `${o.id}${o.freed ? '!' : ''}{`;
      const fs = [...o.fields.keys()].sort();
      for (const f of fs) s += `${f}=${valueKey(o.fields.get(f)!)},`;
      parts.push(`${s}}`);
    }
    for (const [k, l] of this.lists) parts.push(`${k}[${l.join(',')}]`);
    for (const [k, l] of this.locks) {
      if (l.exclusive < 0 && l.shared.size === 0) continue;
      parts.push(`${k}<${l.exclusive};${[...l.shared].map(([t, n]) => `${t}x${n}`).join(',')}>`);
    }
    for (const [k, v] of this.globals) parts.push(`${k}=${valueKey(v)}`);
    return parts.join('|');
  }
}
