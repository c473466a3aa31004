/**
 * Checks made where paths end: locks a path still holds when it returns,
 * and reference counts that two indistinguishable paths change by
 * different amounts (the inconsistent path pairs of RID, ASPLOS 2016).
 */
import type { RuleId } from '../findings';
import type { SourceRange } from '../ir';
import type { FunctionContext } from './context';
import type { ExitRecord, WNode } from './engine';
import { contractGroups, flagParamOf } from './engine';
import { describeObject, visibleToCaller } from './objects';
import type { AState, Value } from './state';
import { lockName, tracksDelta } from './transfer';

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
    // A lock this function took and still holds at a return must be handed over by design: it is
    // the returned object's (a finder's "returns it locked, or NULL"), the returned flag word says
    // so (prison_lock_xlock()), or the function's comment or name promises it.
    for (const e of exits) {
      for (const [key, hold] of e.node.state.locks) {
        if (hold.certainty !== 'held' || e.node.state.entryHeld.has(key)) continue;
        if (handedOver(ctx, key, e)) continue;
        out.push({
          rule: 'lock-held-at-return', range: e.range, subject: key, node: e.node, related: [],
          message: `${lockName(ctx, key, hold)} is taken in ${fnName}() and still held at this return; nothing tells the caller it is held (it is not the returned object's lock, the result does not say so, and the comment does not promise it)`,
        });
      }
    }
    // Locks held on entry: paths that start under the same contract and return the same way must
    // leave them the same (do_jail_attach() releases the caller's locks on every path).
    const groups = groupBy(exits, (e) => `${e.node.state.contract}|${[...e.node.state.entryHeld.keys()].sort()}|${returnClass(e.ret)}`);
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const keys = new Set<string>();
      for (const e of group) for (const k of e.node.state.entryHeld.keys()) keys.add(k);
      for (const key of keys) {
        const holding = group.filter((e) => e.node.state.locks.get(key)?.certainty === 'held');
        const releasing = group.filter((e) => !e.node.state.locks.has(key));
        if (holding.length === 0 || releasing.length === 0) continue;
        const other = releasing[0]!;
        for (const e of holding) {
          const hold = e.node.state.locks.get(key)!;
          out.push({
            rule: 'lock-held-at-return', range: e.range, subject: key, node: e.node,
            related: [{ range: other.range, message: `releases ${lockName(ctx, key, hold)} on this path, which returns the same way` }],
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

const DOCUMENTED_LOCKED = /return(?:s|ed|ing)?\b[^.]*\block(?:ed)?\b|\b(?:locked|held)\b[^.]*\bon return\b|\bwith [^.]*\b(?:locked|held)\b/i;

/** Whether a lock still held at this return is handed to the caller by design. */
function handedOver(ctx: FunctionContext, key: string, e: ExitRecord): boolean {
  const hash = key.lastIndexOf('#');
  const obj = hash < 0 ? key : key.slice(0, hash);
  // The returned object's own lock: prison_find() "returns it locked, or NULL".
  if (e.ret.k === 'ptr' && e.ret.obj === obj) return true;
  // A flag word that says what is held (PD_LOCKED, PD_LIST_XLOCKED).
  if (e.ret.k === 'bits') {
    for (const group of contractGroups(ctx)) {
      for (const c of group) if (c.key === key && e.ret.set.includes(c.bit)) return true;
    }
    for (const c of ctx.vocabulary.flagContracts) {
      if (!e.ret.set.includes(c.bit)) continue;
      if (c.lock.kind === 'global' && key === `g:${c.lock.name}`) return true;
      if (c.lock.kind === 'param-field' && key.endsWith(`#${c.lock.field}`)) return true;
    }
  }
  // The function says so: "returns with the prison locked", prison_lock_xlock().
  if (ctx.fn.comment && DOCUMENTED_LOCKED.test(ctx.fn.comment)) return true;
  return /(?:^|_)(?:x|s)?lock(?:_|$)/.test(ctx.fn.name) && !/unlock/.test(ctx.fn.name);
}

/** Facts a caller could observe that would tell two paths apart. */
function visibleSignature(ctx: FunctionContext, e: ExitRecord): string {
  const s = e.node.state;
  const locks = [...s.locks.entries()].filter(([, h]) => h.certainty === 'held').map(([k, h]) => `${k}:${h.mode}`).sort();
  const facts = [...s.observed.entries()].map(([k, v]) => `${k}=${v}`).sort();
  // Counter values are not part of it: a path whose course depended on one is left out of the
  // comparison altogether (see `tested`).
  const fp = flagParamOf(ctx);
  const entry = fp ? JSON.stringify(s.vars.get(`@entry:${fp}`) ?? null) : '';
  const nullness = ctx.fn.params.filter((p) => p.type.pointer > 0).map((p) => {
    const v = s.vars.get(p.name);
    return `${p.name}:${v?.k ?? '?'}`;
  });
  return [s.contract, [...s.entryHeld.keys()].sort(), returnClass(e.ret), locks, facts, entry, nullness].map(String).join('|');
}

function inconsistentCounts(ctx: FunctionContext, exits: readonly ExitRecord[]): ExitFinding[] {
  const out: ExitFinding[] = [];
  const groups = groupBy(exits, (e) => visibleSignature(ctx, e));
  const reported = new Set<string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const keys = new Set<string>();
    for (const e of group) for (const [k] of e.node.state.counters) if (tracksDelta(k)) keys.add(k);
    for (const key of keys) {
      const deltas = group.map((e) => e.node.state.counters.get(key));
      if (deltas.some((d) => d && (d.approx || d.delta === 'set'))) continue;
      // Paths whose course depended on a counter's value are told apart by that value: not comparable.
      if (group.some((e) => [...e.node.state.counters.values()].some((c) => c.tested))) continue;
      // A path that stored the object somewhere handed its reference over.
      const obj = key.slice(0, key.lastIndexOf('.'));
      if (group.some((e) => e.node.state.facts.get(`escaped:${obj}`))) continue;
      const values = deltas.map((d) => (d ? (d.delta as number) : 0));
      const distinct = [...new Set(values)];
      if (distinct.length < 2) continue;
      // Report the path whose change is the rarer one; the common one is the reference. On a tie,
      // the change farther from zero is the odd one (a reference kept on an error path).
      const counts = distinct.map((v) => values.filter((x) => x === v).length);
      const best = Math.max(...counts);
      const common = distinct.filter((_, i) => counts[i] === best).sort((a, b) => Math.abs(a) - Math.abs(b))[0]!;
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
