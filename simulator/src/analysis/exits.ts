/**
 * Checks made where paths end: locks a path still holds when it returns,
 * and reference counts that two indistinguishable paths change by
 * different amounts (the inconsistent path pairs of RID, ASPLOS 2016).
 */
import type { RuleId } from '../findings';
import type { SourceRange } from '../ir';
import type { FunctionContext } from './context';
import type { ExitRecord, WNode } from './engine';
import { flagParamOf } from './engine';
import { describeObject, visibleToCaller } from './objects';
import type { AState, Value } from './state';
import { lockName } from './transfer';

export interface ExitFinding {
  readonly rule: RuleId;
  readonly range: SourceRange;
  readonly message: string;
  readonly subject: string;
  readonly node: WNode;
  readonly related: Array<{ range: SourceRange; message: string }>;
}

export function returnClass(v: Value): string {
  switch (v.k) {
    case 'ptr': return v.nullness === 'nonnull' ? (visibleToCaller(v.obj) ? `ptr:${v.obj}` : 'ptr:new') : 'ptr?';
    case 'null': return 'null';
    case 'int': return v.value !== undefined ? `int:${v.value}` : v.zero === undefined ? 'int?' : v.zero ? 'int:0' : 'int:!0';
    case 'bits': return `bits:${v.set.join('|')}/${v.clear.join('|')}`;
    default: return '?';
  }
}

/** "flags has PD_DEUREF, not PD_DEREF" — the entry condition of a path, in the reader's words. */
export function entryCondition(ctx: FunctionContext, s: AState): string {
  const fp = flagParamOf(ctx);
  if (fp === undefined) return '';
  const v = s.vars.get(`@entry:${fp}`);
  if (v?.k !== 'bits' || (v.set.length === 0 && v.clear.length === 0)) return '';
  const parts: string[] = [];
  if (v.set.length) parts.push(`with ${v.set.join(' | ')}`);
  if (v.clear.length) parts.push(`without ${v.clear.join(', ')}`);
  return `${fp} ${parts.join(' and ')}`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

const lineDescriptor = (r: SourceRange): string => `${r.start}`;

export function checkExits(ctx: FunctionContext, exits: readonly ExitRecord[]): ExitFinding[] {
  const out: ExitFinding[] = [];
  const fnName = ctx.fn.name;
  const promisesRelease = ctx.vocabulary.releasesContractLocks.includes(fnName);

  if (promisesRelease) {
    for (const e of exits) {
      for (const [key, hold] of e.node.state.locks) {
        if (hold.certainty !== 'held') continue;
        const cond = entryCondition(ctx, e.node.state);
        out.push({
          rule: 'lock-held-at-return', range: e.range, subject: key, node: e.node, related: [],
          message: `${lockName(ctx, key, hold)} is still held when ${fnName}() returns${cond ? ` (${cond})` : ''}; ${fnName}() must release every lock its flags describe`,
        });
      }
    }
  } else {
    // Paths that start under the same contract and return the same way must leave the same locks held.
    const groups = groupBy(exits, (e) => `${e.node.state.contract}|${[...e.node.state.entryHeld.keys()].sort()}|${returnClass(e.ret)}`);
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const keys = new Set<string>();
      for (const e of group) for (const k of e.node.state.locks.keys()) keys.add(k);
      for (const key of keys) {
        const holding = group.filter((e) => e.node.state.locks.get(key)?.certainty === 'held');
        const releasing = group.filter((e) => !e.node.state.locks.has(key));
        if (holding.length === 0 || releasing.length === 0) continue;
        const other = releasing[0]!;
        for (const e of holding) {
          const hold = e.node.state.locks.get(key)!;
          const wasHeld = e.node.state.entryHeld.has(key);
          out.push({
            rule: 'lock-held-at-return', range: e.range, subject: key, node: e.node,
            related: [{ range: other.range, message: `${wasHeld ? 'releases' : 'does not hold'} ${lockName(ctx, key, hold)} on this path, which returns the same way` }],
            message: `${lockName(ctx, key, hold)} is still held at this return, but other paths of ${fnName}() that ${
              e.node.state.contract !== '-' ? `start with ${e.node.state.contract} and ` : ''}return the same way release it`,
          });
        }
      }
    }
  }
  out.push(...inconsistentCounts(ctx, exits));
  return out;
}

/** Facts a caller could observe that would tell two paths apart. */
function visibleSignature(ctx: FunctionContext, e: ExitRecord): string {
  const s = e.node.state;
  const locks = [...s.locks.entries()].filter(([, h]) => h.certainty === 'held').map(([k, h]) => `${k}:${h.mode}`).sort();
  const facts = [...s.observed.entries()].map(([k, v]) => `${k}=${v}`).sort();
  const entryValues: string[] = [];
  for (const [key, f] of s.counters) {
    const obj = key.slice(0, key.lastIndexOf('.'));
    if (!visibleToCaller(obj) || typeof f.delta !== 'number') continue;
    entryValues.push(`${key}:${f.lo - f.delta}:${f.hi === Infinity ? 'i' : f.hi - f.delta}`);
  }
  const fp = flagParamOf(ctx);
  const entry = fp ? JSON.stringify(s.vars.get(`@entry:${fp}`) ?? null) : '';
  const nullness = ctx.fn.params.filter((p) => p.type.pointer > 0).map((p) => {
    const v = s.vars.get(p.name);
    return `${p.name}:${v?.k ?? '?'}`;
  });
  return [s.contract, [...s.entryHeld.keys()].sort(), returnClass(e.ret), locks, facts, entryValues.sort(), entry, nullness].map(String).join('|');
}

function inconsistentCounts(ctx: FunctionContext, exits: readonly ExitRecord[]): ExitFinding[] {
  const out: ExitFinding[] = [];
  const groups = groupBy(exits, (e) => visibleSignature(ctx, e));
  const reported = new Set<string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const keys = new Set<string>();
    for (const e of group) for (const [k] of e.node.state.counters) if (visibleToCaller(k.slice(0, k.lastIndexOf('.')))) keys.add(k);
    for (const key of keys) {
      const deltas = group.map((e) => e.node.state.counters.get(key));
      if (deltas.some((d) => d && (d.approx || d.delta === 'set'))) continue;
      // Paths whose course depended on a counter's value are told apart by that value: not comparable.
      if (group.some((e) => [...e.node.state.counters.values()].some((c) => c.tested))) continue;
      const values = deltas.map((d) => (d ? (d.delta as number) : 0));
      const distinct = [...new Set(values)];
      if (distinct.length < 2) continue;
      // Report the path whose change is the rarer one; the common one is the reference.
      const counts = distinct.map((v) => values.filter((x) => x === v).length);
      const common = distinct[counts.indexOf(Math.max(...counts))]!;
      const odd = group.findIndex((_, i) => values[i] !== common);
      const ref = group.findIndex((_, i) => values[i] === common);
      const e = group[odd]!;
      const id = `${key}@${lineDescriptor(e.range)}`;
      if (reported.has(id)) continue;
      reported.add(id);
      const dot = key.lastIndexOf('.');
      const name = `${describeObject(key.slice(0, dot), ctx.vocabulary.parentField)}->${key.slice(dot + 1)}`;
      const fmt = (d: number): string => (d === 0 ? 'leaves it unchanged' : `changes it by ${d > 0 ? '+' : ''}${d}`);
      out.push({
        rule: 'refcount-inconsistent-paths', range: e.range, subject: key, node: e.node,
        related: [{ range: group[ref]!.range, message: `this path ${fmt(common)}` }],
        message: `${name}: this path ${fmt(values[odd]!)}, but another path of ${ctx.fn.name}() that the caller cannot tell apart (same flags, same result) ${fmt(common)}`,
      });
    }
  }
  return out;
}
