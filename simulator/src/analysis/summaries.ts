/**
 * Interprocedural summaries. A call to a function defined in the same file
 * applies what the callee does for the flags it is given: which locks it
 * needs held, releases or takes, how it changes counters of objects its
 * caller can see, and what it returns (a locked prison, or NULL). Each
 * distinct outcome of the callee becomes one successor path in the caller.
 */
import type { LockMode } from '../ir';
import type { AState, LockHold, Value } from './state';
import { ancestorParts, existedAtEntry, visibleToCaller } from './objects';
import { tracksDelta } from './transfer';

export interface Requirement {
  readonly key: string;
  readonly mode: LockMode;
  /** The flag bit that promises the lock, when the requirement comes from the flag contract. */
  readonly because?: string;
}

export interface Outcome {
  /** Identifies outcomes with the same effect, so a caller gets one path per distinct effect. */
  readonly signature: string;
  /** The callee's flag bits at entry that this outcome happened under. */
  readonly entryBits?: { readonly set: readonly string[]; readonly clear: readonly string[] };
  readonly requires: readonly Requirement[];
  readonly released: ReadonlyArray<{ readonly key: string; readonly mode: LockMode }>;
  /** Locks held on entry and on return, but in another mode (an upgrade or a downgrade). */
  readonly modeChanged: ReadonlyArray<{ readonly key: string; readonly mode: LockMode }>;
  readonly acquired: ReadonlyArray<{ readonly key: string; readonly hold: LockHold }>;
  readonly counters: ReadonlyArray<{ readonly key: string; readonly delta: number | 'set'; readonly approx: boolean; readonly tested?: boolean }>;
  readonly ret: Value;
}

export interface Summary {
  readonly params: readonly string[];
  readonly flagParam?: string;
  readonly outcomes: readonly Outcome[];
}

export interface CallEnv {
  /** The callee's summary for arguments with these values, or undefined when it cannot be had (recursion, problems). */
  summaryOf(callee: string, args: readonly Value[]): Summary | undefined;
}

export const NO_CALLS: CallEnv = { summaryOf: () => undefined };

/** Renames an object the callee created (not visible to the caller) to the returned object, if it is the one returned. */
function relative(obj: string, returned: string | undefined): string | undefined {
  if (returned !== undefined && (obj === returned || obj.startsWith(`${returned}^`) || obj.startsWith(`${returned}.`))) {
    return `r:ret${obj.slice(returned.length)}`;
  }
  return existedAtEntry(obj) ? obj : undefined;
}

function relativeKey(key: string, returned: string | undefined): string | undefined {
  const hash = key.lastIndexOf('#');
  if (hash < 0) return key.startsWith('g:') ? key : undefined;
  const obj = relative(key.slice(0, hash), returned);
  return obj === undefined ? undefined : `${obj}#${key.slice(hash + 1)}`;
}

/** What one exit state of the callee means to a caller. */
export function outcomeOf(exit: AState, ret: Value, flagParam: string | undefined,
  contractBits: ReadonlyMap<string, ReadonlyMap<string, string>>, releasesAll = false): Outcome {
  const returned = ret.k === 'ptr' && !existedAtEntry(ret.obj) ? ancestorParts(ret.obj.split('.')[0]!).base : undefined;
  const entry = flagParam !== undefined ? exit.vars.get(`@entry:${flagParam}`) : undefined;
  const entryBits = entry?.k === 'bits' ? { set: [...entry.set].sort(), clear: [...entry.clear].sort() } : undefined;
  const requires: Requirement[] = [];
  const released: Array<{ key: string; mode: LockMode }> = [];
  for (const [key, mode] of exit.entryHeld) {
    // The bit of this path's contract that promised the lock, if any.
    const because = exit.contract.split(',').find((bit) => contractBits.get(bit)?.has(key));
    requires.push({ key, mode, because });
    if (!exit.locks.has(key) || releasesAll) released.push({ key, mode });
  }
  const modeChanged: Array<{ key: string; mode: LockMode }> = [];
  for (const [key, hold] of exit.locks) {
    const was = exit.entryHeld.get(key);
    if (was !== undefined && !releasesAll && hold.mode !== was) modeChanged.push({ key, mode: hold.mode });
  }
  const acquired: Array<{ key: string; hold: LockHold }> = [];
  for (const [key, hold] of exit.locks) {
    if (exit.entryHeld.has(key) || releasesAll) continue;
    const rel = relativeKey(key, returned);
    if (rel !== undefined) acquired.push({ key: rel, hold });
  }
  const counters: Array<{ key: string; delta: number | 'set'; approx: boolean; tested?: boolean }> = [];
  for (const [key, f] of exit.counters) {
    const dot = key.lastIndexOf('.');
    const obj = key.slice(0, dot);
    // What the caller learns is how the objects it can see changed (the run also follows the
    // others', for the ledger: see Transfer).
    const delta = tracksDelta(key) ? f.delta : 0;
    if (delta === 0 && !f.tested) continue;
    // Only the objects the caller passes (and the one returned) matter to it: a callee's
    // changes to ancestors further up would multiply the caller's paths for no check's sake.
    if (obj.includes('^')) continue;
    const rel = visibleToCaller(obj) ? obj : relative(obj, returned);
    // `tested`: which outcome happens depended on the counter's value (prison_free() defers the last release).
    if (rel !== undefined) counters.push({ key: `${rel}.${key.slice(dot + 1)}`, delta, approx: f.approx, ...(f.tested ? { tested: true } : {}) });
  }
  let r: Value = ret;
  if (ret.k === 'ptr' && returned !== undefined) r = { ...ret, obj: relative(ret.obj, returned)! };
  else if (ret.k === 'ptr' && !existedAtEntry(ret.obj)) r = { k: 'unknown' };
  else if (ret.k === 'cnt') r = { k: 'unknown' };
  else if (ret.k === 'bits') r = { ...ret, entry: ret.entry === flagParam && ret.entry !== undefined ? 'param' : undefined };
  const outcome = { entryBits, requires, released, modeChanged, acquired, counters, ret: r };
  return { ...outcome, signature: JSON.stringify(outcome) };
}
