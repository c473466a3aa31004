/**
 * Turns a call the user (or a built-in scenario) asks for into what a real
 * caller would do: take the locks the callee expects held (from the static
 * analysis' summary of it, for the flags passed), call it, and release what
 * it hands back.
 */
import type { CallEnv, Requirement } from '../analysis/summaries';
import type { LockClass, LockMode } from '../ir';
import type { ArgSpec, CallSpec, LockNeed, LockTarget, PlannedCall } from './plan';
import type { Program } from './program';

const ANCESTOR_KEY = /^p:([A-Za-z_]\w*)(?:\^(\d+))?#(\w+)$/;

export function planCall(program: Program, summaries: CallEnv | undefined, call: CallSpec): PlannedCall {
  const info = program.functions.get(call.fn);
  const voc = program.config.vocabulary;
  const releasesAll = voc.releasesContractLocks.includes(call.fn);
  if (!info) return { call, needs: [], releasesAll };
  const summary = summaries?.summaryOf(call.fn, []);
  const flagIndex = summary?.flagParam !== undefined ? info.fn.params.findIndex((p) => p.name === summary.flagParam) : -1;
  const flagArg = flagIndex >= 0 ? call.args[flagIndex] : undefined;
  const flags = flagArg?.k === 'int' ? flagArg.v : undefined;
  const isSet = (bit: string): boolean => {
    const v = program.constants.get(bit);
    return flags !== undefined && v !== undefined && v !== 0 && (flags & v) === v;
  };
  const requirements = new Map<string, Requirement>();
  for (const o of summary?.outcomes ?? []) {
    // Only the outcomes the flags passed allow.
    if (o.entryBits && flags !== undefined) {
      if (!o.entryBits.set.every(isSet) || o.entryBits.clear.some(isSet)) continue;
    }
    for (const r of o.requires) {
      const had = requirements.get(r.key);
      if (!had || (had.mode === 'shared' && r.mode === 'exclusive')) requirements.set(r.key, r);
    }
  }
  if (!summary) {
    // Without a summary, the flag contracts alone say what the caller holds.
    for (const c of voc.flagContracts) {
      if (!isSet(c.bit)) continue;
      const key = c.lock.kind === 'global' ? `g:${c.lock.name}` : `p:${info.fn.params[0]?.name ?? ''}#${c.lock.field}`;
      requirements.set(key, { key, mode: c.mode, because: c.bit });
    }
  }
  const needs: LockNeed[] = [];
  for (const r of requirements.values()) {
    const target = targetOf(r.key, info.fn.params.map((p) => p.name));
    if (!target) continue;
    needs.push({
      target, mode: r.mode, lockClass: lockClassOf(program, target),
      why: r.because ? `${r.because} promises it` : `${call.fn}() expects it held`,
    });
  }
  // Lock order: the list lock before any prison's mutex, a child's before its parent's.
  needs.sort((a, b) => rank(a.target) - rank(b.target));
  return { call, needs, releasesAll };
}

function rank(t: LockTarget): number {
  return 'global' in t ? 0 : 1 + t.up;
}

function targetOf(key: string, params: readonly string[]): LockTarget | undefined {
  if (key.startsWith('g:') && !key.includes('#')) return { global: key.slice(2) };
  const m = ANCESTOR_KEY.exec(key);
  if (!m) return undefined;
  const arg = params.indexOf(m[1]!);
  return arg < 0 ? undefined : { arg, field: m[3]!, up: m[2] ? Number(m[2]) : 0 };
}

/** The class of a lock as the file uses it (sx for allprison_lock, mtx for pr_mtx). */
function lockClassOf(program: Program, target: LockTarget): LockClass {
  const want = 'global' in target ? target.global : target.field;
  for (const info of program.functions.values()) {
    for (const b of info.fn.blocks) {
      for (const op of b.ops) {
        if (op.kind !== 'lock') continue;
        const name = op.lock.kind === 'name' ? op.lock.name : op.lock.kind === 'field' ? op.lock.field : undefined;
        if (name === want) return op.lockClass;
      }
    }
  }
  return 'global' in target ? 'sx' : 'mtx';
}

/** How an argument reads in a schedule. */
export function argText(a: ArgSpec, program: Program, flagNames: readonly string[] = []): string {
  switch (a.k) {
    case 'obj': return a.name.startsWith('@') ? `${a.name.slice(1)}'s jail` : a.name;
    case 'field': return `${a.name.startsWith('@') ? `${a.name.slice(1)}'s jail` : a.name}.${a.field}`;
    case 'int': {
      if (a.text) return a.text;
      const bits = flagNames.length ? program.bitNames(a.v, flagNames) : [];
      return bits.length && program.flagValue(bits) === a.v ? bits.join(' | ') : String(a.v);
    }
    case 'str': return '"…"';
    case 'null': return 'NULL';
    case 'td': return 'td';
    case 'proc': return 'p';
    case 'cred': return 'cred';
    case 'out': return '&new';
  }
}

export function callText(fn: string, args: readonly ArgSpec[], program: Program, flagNames: readonly string[] = []): string {
  return `${fn}(${args.map((a) => argText(a, program, flagNames)).join(', ')})`;
}

export type { LockMode };
