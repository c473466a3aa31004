/**
 * What each IR operation does to an abstract state: lock operations,
 * counter changes, assignments, assertions and calls. An operation can
 * split a path (a trylock that succeeds or fails, a refcount_release that
 * does or does not reach zero) and can find a problem on the way.
 */
import type { AssignOp, CallOp, CountOp, Expr, LockMode, LockOp, Op, ScopeLockOp, SourceRange } from '../ir';
import type { RuleId } from '../findings';
import type { FunctionContext } from './context';
import { counterFact, decide, refine } from './conditions';
import { describeObject, existedAtEntry, ObjId, rebaseObject, visibleToCaller } from './objects';
import { AState, CounterFact, derive, LockHold, UNKNOWN, Value, setCounter, setFact, setTemp, setVar } from './state';
import type { CallEnv, Outcome, Summary } from './summaries';

export interface RawFinding {
  readonly rule: RuleId;
  readonly range: SourceRange;
  readonly message: string;
  /** Distinguishes findings at the same place (the lock or counter concerned). */
  readonly subject: string;
}

export interface Note {
  readonly rule: 'unmodelled-call';
  readonly range: SourceRange;
  readonly message: string;
  readonly subject: string;
}

/** One successor of an operation, with the line a path display shows for it (built only if shown). */
export interface Successor {
  readonly state: AState;
  readonly message?: Message;
}

/** A step's text, or how to make it: most paths are never shown, so their lines are never written. */
export type Message = string | (() => string);

export function messageText(m: Message): string {
  return typeof m === 'string' ? m : m();
}

export interface StepResult {
  readonly next: Successor[];
  readonly findings: RawFinding[];
  readonly notes: Note[];
}

const ALLOCATORS = new Set(['malloc', 'uma_zalloc', 'mallocarray']);

function lockDisplay(ctx: FunctionContext, key: string, written: string): string {
  const hash = key.lastIndexOf('#');
  if (hash < 0) return written;
  const obj = key.slice(0, hash);
  const natural = `${describeObject(obj, ctx.vocabulary.parentField, '')}->${key.slice(hash + 1)}`;
  if (natural.startsWith('->') || natural === written || natural.startsWith('an object') || obj.startsWith('n:') || obj.startsWith('a:')) return written;
  return `${written} (that is, ${natural})`;
}

/** A readable name for a lock key, for lists of held locks. */
export function lockName(ctx: FunctionContext, key: string, hold?: LockHold): string {
  const hash = key.lastIndexOf('#');
  if (hash < 0) return key.replace(/^[gv]:/, '');
  const obj = key.slice(0, hash);
  if (obj.startsWith('n:') || obj.startsWith('a:')) return hold?.text ?? `${describeObject(obj, ctx.vocabulary.parentField)}->${key.slice(hash + 1)}`;
  return `${describeObject(obj, ctx.vocabulary.parentField)}->${key.slice(hash + 1)}`;
}

/**
 * Ancestors named through the parent chain (`p:pr^2`) are walked by loops;
 * remembering, per ancestor, how much its counters moved would make every
 * trip count a different path. Their counter values and held locks are
 * tracked, and (see isBlurredKey) whether a path took or dropped a named
 * ancestor's lock; their counter deltas are not.
 */
function isAncestorKey(key: string): boolean {
  return key.includes('^');
}

/**
 * The lock of "an ancestor further up than the analysis names" (`p:pr^*`):
 * one key for many objects, so whether this path took or dropped it says
 * nothing certain about the next one it names. Named ancestors (`pr^1`, the
 * parent) are single objects, and a path knows their locks like any other.
 */
function isBlurredKey(key: string): boolean {
  return key.includes('^*');
}

/**
 * Only changes to counters of objects the caller can see (a parameter's, a
 * global's) are kept as changes: the path-pair check and callers' summaries
 * use nothing else, and a local object's changes would only split paths.
 * Values (for the below-zero check and branch conditions) are kept for all.
 */
export function tracksDelta(key: string, all = false): boolean {
  const obj = key.slice(0, key.lastIndexOf('.'));
  if (all) return !key.includes('^*');
  return !isAncestorKey(key) && visibleToCaller(obj);
}

/** Called before every counter change, with the state it happens in (the ledger listens). */
export type CountObserver = (op: CountOp, key: string, before: AState) => void;

function lockKeyObject(key: string): ObjId {
  const hash = key.lastIndexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

function nonNull(s: AState, name: string): AState {
  const v = s.vars.get(name);
  return v?.k === 'ptr' && v.nullness === 'maybe' ? setVar(s, name, { ...v, nullness: 'nonnull' }) : s;
}

function untouch(s: AState, key: string): AState {
  if (!s.assumed.has(key)) return s;
  return derive(s, { assumed: s.assumed.without(key) });
}

/** Drops the facts whose key starts with `prefix` (what a store overwrote). */
function forgetFacts(s: AState, prefix: string): AState {
  if (s.facts.size === 0) return s;
  const names = s.facts.table.names;
  const facts = s.facts.filter((sym) => !names[sym]!.startsWith(prefix));
  return facts === s.facts ? s : derive(s, { facts });
}

/** The empty list of findings or notes, shared (never pushed to: a list that may grow is made fresh). */
const NONE: never[] = [];

/** Lock errors after which a path does not go on (see Transfer.apply). */
export const FATAL = new Set<string>(['lock-double-acquire', 'lock-release-not-held', 'lock-wrong-mode', 'lock-assert-fails', 'lock-contract-violated']);

export class Transfer {
  /**
   * `observer` is the pr_uref ledger's listener: it hears of every counter change, with the
   * state it happens in, on the run it is set for. `allDeltas` makes the run follow how every
   * object's counters moved (ancestors' and objects the function found or made), which the
   * ledger needs and the checks do not (see analyze.ts, ledgerRun).
   */
  observer: CountObserver | undefined;

  constructor(private readonly ctx: FunctionContext, private readonly env: CallEnv, private readonly allDeltas = false) {}

  apply(s: AState, op: Op): StepResult {
    const r = this.applyOp(s, op);
    // A thread that takes a mutex twice, drops a lock it does not hold or breaks a lock assertion
    // does not go on (witness(4) and INVARIANTS kernels panic there): what would follow on that
    // path is a consequence, not a second problem.
    if (r.findings.some((f) => FATAL.has(f.rule))) return { ...r, next: [] };
    // A path that went through `pr->pr_mtx` or `pr->pr_ref` knows pr is not NULL.
    const base = op.kind === 'lock' || op.kind === 'scope-lock' ? op.lock : op.kind === 'count' ? op.target
      : op.kind === 'assign' ? op.target : undefined;
    const name = base?.kind === 'field' && base.base.kind === 'name' ? base.base.name : undefined;
    if (name === undefined) return r;
    let next: Successor[] | undefined;
    for (let i = 0; i < r.next.length; i++) {
      const n = r.next[i]!;
      const state = nonNull(n.state, name);
      if (state === n.state) continue;
      next ??= r.next.slice();
      next[i] = { ...n, state };
    }
    return next ? { ...r, next } : r;
  }

  private applyOp(s: AState, op: Op): StepResult {
    switch (op.kind) {
      case 'lock': {
        const r = this.lock(s, op);
        // Once an operation has touched a lock, its state is no longer the contract's assumption.
        const key = op.action === 'assert-held' || op.action === 'assert-not-held' ? undefined : this.ctx.lockKey(op.lock, s);
        if (key === undefined || !s.assumed.has(key)) return r;
        return { ...r, next: r.next.map((n) => ({ ...n, state: untouch(n.state, key) })) };
      }
      case 'scope-lock': return this.scopeLock(s, op);
      case 'count': return this.count(s, op);
      case 'assign': return { next: [{ state: this.assign(s, op) }], findings: NONE, notes: NONE };
      case 'assert': {
        // The code's own invariant: a path on which it is false panics instead of going on.
        const t = refine(this.ctx, s, op.cond, true);
        return { next: t ? [{ state: t }] : [], findings: NONE, notes: NONE };
      }
      case 'call': return this.call(s, op);
    }
  }

  private result(states: Successor[], findings: RawFinding[] = NONE, notes: Note[] = NONE): StepResult {
    return { next: states, findings, notes };
  }

  // ---- locks -------------------------------------------------------------

  private acquire(s: AState, key: string, hold: LockHold, written: string, range: SourceRange, findings: RawFinding[]): AState {
    const held = s.locks.get(key);
    if (held && held.certainty === 'held') {
      const recursiveShared = held.mode === 'shared' && hold.mode === 'shared' && hold.lockClass !== 'mtx';
      if (!recursiveShared) {
        findings.push({
          rule: 'lock-double-acquire', range, subject: key,
          message: `${lockDisplay(this.ctx, key, written)} is acquired while this thread already holds it${held.mode !== hold.mode ? ` (${held.mode})` : ''}; a non-recursive lock taken twice deadlocks or panics`,
        });
      }
    }
    const locks = s.locks.with(key, hold);
    if (isBlurredKey(key) || s.known.has(key)) return derive(s, { locks });
    return derive(s, { locks, known: s.known.with(key) });
  }

  private release(s: AState, key: string, mode: LockMode | undefined, written: string, range: SourceRange, findings: RawFinding[], what = 'released'): AState {
    const held = s.locks.get(key);
    let state = s;
    if (!held) {
      if (s.known.has(key)) {
        findings.push({
          rule: 'lock-release-not-held', range, subject: key,
          message: `${lockDisplay(this.ctx, key, written)} is ${what} on a path where it is not held`,
        });
      } else if (!isBlurredKey(key) && existedAtEntry(lockKeyObject(key))) {
        // Released without being taken on this path: the caller must hold it. Record the precondition.
        // (Not for "an ancestor further up": one key for many objects, it cannot be a precondition.)
        state = derive(s, { entryHeld: s.entryHeld.with(key, mode ?? 'exclusive') });
      }
    } else if (held.certainty === 'held' && mode && held.mode !== mode && !held.anyMode) {
      findings.push({
        rule: 'lock-wrong-mode', range, subject: key,
        message: `${lockDisplay(this.ctx, key, written)} is held ${held.mode} but ${what} as ${mode}`,
      });
    }
    const locks = state.locks.without(key);
    if (isBlurredKey(key) || state.known.has(key)) return derive(state, { locks });
    return derive(state, { locks, known: state.known.with(key) });
  }

  /** Before a trylock's failure path or an upgrade: is the lock's state at entry still open? */
  private assumeHeldAtEntry(s: AState, key: string, mode: LockMode, hold: LockHold): AState {
    if (s.known.has(key) || s.locks.has(key) || !existedAtEntry(lockKeyObject(key))) return s;
    return derive(s, { entryHeld: s.entryHeld.with(key, mode), locks: s.locks.with(key, hold), known: s.known.with(key) });
  }

  private lock(s: AState, op: LockOp): StepResult {
    const key = this.ctx.lockKey(op.lock, s);
    if (key === undefined) return this.result([{ state: s }]);
    const findings: RawFinding[] = [];
    const hold = (mode: LockMode): LockHold => ({ mode, lockClass: op.lockClass, certainty: 'held', text: op.lockText });
    let shownText: string | undefined;
    // Written out only when a message needs it.
    const shown = (): string => (shownText ??= lockDisplay(this.ctx, key, op.lockText));
    switch (op.action) {
      case 'acquire':
        return this.result([{ state: this.acquire(s, key, hold(op.mode ?? 'exclusive'), op.lockText, op.range, findings), message: () => `${shown()} acquired${op.mode === 'shared' ? ' shared' : ''}` }], findings);
      case 'release':
        return this.result([{ state: this.release(s, key, op.mode, op.lockText, op.range, findings), message: () => `${shown()} released` }], findings);
      case 'try-acquire': {
        const ok = setTemp(this.acquire(s, key, hold(op.mode ?? 'exclusive'), op.lockText, op.range, findings), op.result!, { k: 'int', value: 1, zero: false });
        // A failed trylock still tells this thread it does not hold the lock.
        const knownFree = s.known.has(key) || isBlurredKey(key) ? s : derive(s, { known: s.known.with(key) });
        const fail = setTemp(knownFree, op.result!, { k: 'int', value: 0, zero: true });
        return this.result([
          { state: ok, message: () => `${op.callee}() succeeds: ${shown()} acquired` },
          { state: fail, message: () => `${op.callee}() fails: ${shown()} not acquired` },
        ], findings);
      }
      case 'try-upgrade':
      case 'upgrade': {
        const base = this.assumeHeldAtEntry(s, key, 'shared', hold('shared'));
        const held = base.locks.get(key);
        if (!held) {
          if (base.known.has(key)) findings.push({ rule: 'lock-release-not-held', range: op.range, subject: key, message: `${shown()} is upgraded on a path where it is not held` });
          return this.result([{ state: base }], findings);
        }
        if (held.certainty === 'held' && held.mode === 'exclusive') {
          findings.push({ rule: 'lock-wrong-mode', range: op.range, subject: key, message: `${shown()} is upgraded but is already held exclusive` });
        }
        const up = this.replaceHold(base, key, { ...held, mode: 'exclusive' });
        if (op.action === 'upgrade') return this.result([{ state: up, message: () => `${shown()} upgraded` }], findings);
        return this.result([
          { state: setTemp(up, op.result!, { k: 'int', value: 1, zero: false }), message: () => `${op.callee}() succeeds: ${shown()} now exclusive` },
          { state: setTemp(base, op.result!, { k: 'int', value: 0, zero: true }), message: () => `${op.callee}() fails: ${shown()} still shared` },
        ], findings);
      }
      case 'downgrade': {
        const base = this.assumeHeldAtEntry(s, key, 'exclusive', hold('exclusive'));
        const held = base.locks.get(key);
        if (!held) {
          if (base.known.has(key)) findings.push({ rule: 'lock-release-not-held', range: op.range, subject: key, message: `${shown()} is downgraded on a path where it is not held` });
          return this.result([{ state: base }], findings);
        }
        if (held.certainty === 'held' && held.mode === 'shared') {
          findings.push({ rule: 'lock-wrong-mode', range: op.range, subject: key, message: `${shown()} is downgraded but is held shared` });
        }
        return this.result([{ state: this.replaceHold(base, key, { ...held, mode: 'shared' }), message: () => `${shown()} downgraded to shared` }], findings);
      }
      case 'assert-held': {
        const held = s.locks.get(key);
        if (held) {
          if (held.certainty === 'held' && op.mode && held.mode !== op.mode) {
            findings.push({ rule: 'lock-assert-fails', range: op.range, subject: key, message: `${op.callee}() asserts ${shown()} held ${op.mode}, but it is held ${held.mode} here` });
          }
          return this.result([{ state: s }], findings);
        }
        // The flags said "not held", the function asserts "held": the function does not accept
        // those flags (do_jail_attach() is only called with PD_LOCKED). Not a path.
        if (s.assumed.has(key)) return this.result([]);
        if (s.known.has(key)) {
          findings.push({ rule: 'lock-assert-fails', range: op.range, subject: key, message: `${op.callee}() asserts ${shown()} held, but it is not held on this path` });
          return this.result([{ state: s }], findings);
        }
        // An assertion about a lock the path has not touched states what the caller provides.
        const asserted = op.mode ? hold(op.mode) : { ...hold('exclusive'), anyMode: true };
        return this.result([{ state: this.assumeHeldAtEntry(s, key, op.mode ?? 'exclusive', asserted) }], findings);
      }
      case 'assert-not-held': {
        const held = s.locks.get(key);
        if (held && s.assumed.has(key)) return this.result([]);
        if (held && held.certainty === 'held') {
          findings.push({ rule: 'lock-assert-fails', range: op.range, subject: key, message: `${op.callee}() asserts ${shown()} not held, but this thread holds it here` });
        }
        return this.result([{ state: held ? s : derive(s, { known: s.known.with(key) }) }], findings);
      }
    }
  }

  private replaceHold(s: AState, key: string, hold: LockHold): AState {
    return derive(s, { locks: s.locks.with(key, hold) });
  }

  /** The lock an iteration macro holds for its body: never reported, it is the macro's business. */
  private scopeLock(s: AState, op: ScopeLockOp): StepResult {
    const key = this.ctx.lockKey(op.lock, s);
    if (key === undefined) return this.result([{ state: s }]);
    const locks = op.action === 'acquire'
      ? s.locks.with(key, { mode: 'exclusive', lockClass: op.lockClass, certainty: 'held', text: op.lockText })
      : s.locks.without(key);
    return this.result([{ state: derive(s, { locks, known: s.known.with(key) }) }]);
  }

  // ---- counters ----------------------------------------------------------

  private clampFact(f: CounterFact): CounterFact {
    const limit = this.ctx.counterLimit;
    let { delta, approx } = f;
    if (typeof delta === 'number' && Math.abs(delta) > limit) {
      delta = Math.sign(delta) * limit;
      approx = true;
    }
    const lo = Math.min(Math.max(0, f.lo), limit);
    const hi = f.hi > limit * 2 ? Infinity : f.hi;
    return { delta, lo, hi, approx, tested: f.tested };
  }

  /** Shifts temps that hold this counter's value, so `x--` keeps meaning the old value. */
  private shiftTemps(s: AState, key: string, amount: number): AState {
    const temps = s.temps.mapValues((v) => (v.k === 'cnt' && v.key === key ? { ...v, adjust: v.adjust - amount } : v));
    return temps === s.temps ? s : derive(s, { temps });
  }

  private add(s: AState, key: string, amount: number, op: CountOp, findings: RawFinding[]): AState {
    const f = counterFact(s, key);
    if (key.includes('^*')) {
      // "Some ancestor further up" stands for different jails on different trips: no value is known.
      const blurred = this.clampFact({ delta: f.delta === 'set' ? 'set' : f.delta + amount, lo: 0, hi: Infinity, approx: true });
      return this.shiftTemps(setCounter(s, key, blurred), key, amount);
    }
    if (amount < 0 && f.hi + amount < 0) {
      findings.push({
        rule: 'refcount-below-zero', range: op.range, subject: key,
        message: `${op.targetText} is decremented below zero: on this path it is ${f.hi === 0 ? '0' : `at most ${f.hi}`} here`,
      });
    }
    const next = this.clampFact({
      delta: f.delta === 'set' ? 'set' : tracksDelta(key, this.allDeltas) ? f.delta + amount : 0,
      lo: f.lo + amount,
      hi: f.hi === Infinity ? Infinity : Math.max(0, f.hi + amount),
      approx: f.approx,
      tested: f.tested,
    });
    return this.shiftTemps(setCounter(s, key, next), key, amount);
  }

  private count(s: AState, op: CountOp): StepResult {
    const key = this.ctx.counterKey(op.target, s);
    if (key === undefined) return this.result([{ state: op.result !== undefined ? setTemp(s, op.result, UNKNOWN) : s }]);
    this.observer?.(op, key, s);
    const findings: RawFinding[] = [];
    const text = op.targetText;
    const ch = op.change;
    switch (ch.kind) {
      case 'add': {
        let next = this.add(s, key, ch.amount, op, findings);
        if (op.result !== undefined) next = setTemp(next, op.result, { k: 'cnt', key, adjust: op.resultIs === 'before' ? -ch.amount : 0 });
        const verb = ch.amount > 0 ? `incremented${ch.amount > 1 ? ` by ${ch.amount}` : ''}` : `decremented${ch.amount < -1 ? ` by ${-ch.amount}` : ''}`;
        return this.result([{ state: next, message: () => `${text} ${verb}` }], findings);
      }
      case 'set': {
        const f = counterFact(s, key);
        const v = ch.value;
        const next = setCounter(s, key, this.clampFact({ delta: tracksDelta(key, this.allDeltas) ? 'set' : 0, lo: v ?? 0, hi: v ?? Infinity, approx: f.approx, tested: f.tested }));
        return this.result([{ state: next, message: () => `${text} set${v !== null ? ` to ${v}` : ''}` }]);
      }
      case 'release': {
        const a = ch.amount;
        const f = counterFact(s, key);
        const out: Successor[] = [];
        // Reaches zero: the value was exactly `a`.
        if (f.lo <= a && a <= f.hi) {
          const z = setCounter(s, key, { ...f, lo: a, hi: a, tested: true });
          out.push({ state: setTemp(this.add(z, key, -a, op, findings), op.result!, { k: 'int', value: 1, zero: false }), message: () => `${op.callee}(&${text}) releases the last reference` });
        }
        if (f.hi > a) {
          const nz = setCounter(s, key, { ...f, lo: Math.max(f.lo, a + 1), tested: true });
          out.push({ state: setTemp(this.add(nz, key, -a, op, findings), op.result!, { k: 'int', value: 0, zero: true }), message: () => `${op.callee}(&${text}) leaves references` });
        }
        if (out.length === 0) out.push({ state: setTemp(this.add(s, key, -a, op, findings), op.result!, { k: 'int', value: 0, zero: true }) });
        return this.result(out, findings);
      }
      case 'release-if-not-last': {
        const f = counterFact(s, key);
        const out: Successor[] = [];
        if (f.hi > 1) {
          const more = setCounter(s, key, { ...f, lo: Math.max(f.lo, 2), tested: true });
          out.push({ state: setTemp(this.add(more, key, -1, op, findings), op.result!, { k: 'int', value: 1, zero: false }), message: () => `${op.callee}(&${text}) releases (not the last reference)` });
        }
        if (f.lo <= 1) {
          const last = setCounter(s, key, { ...f, lo: Math.min(f.lo, 1), hi: Math.min(f.hi, 1), tested: true });
          out.push({ state: setTemp(last, op.result!, { k: 'int', value: 0, zero: true }), message: () => `${op.callee}(&${text}) refuses: this is the last reference` });
        }
        return this.result(out, findings);
      }
      case 'acquire-if-not-zero': {
        const f = counterFact(s, key);
        const out: Successor[] = [];
        if (f.hi >= 1) {
          const live = setCounter(s, key, { ...f, lo: Math.max(f.lo, 1), tested: true });
          out.push({ state: setTemp(this.add(live, key, 1, op, findings), op.result!, { k: 'int', value: 1, zero: false }), message: () => `${op.callee}(&${text}) takes a reference` });
        }
        if (f.lo === 0) {
          const dead = setCounter(s, key, { ...f, hi: 0, tested: true });
          out.push({ state: setTemp(dead, op.result!, { k: 'int', value: 0, zero: true }), message: () => `${op.callee}(&${text}) refuses: the count is zero` });
        }
        return this.result(out, findings);
      }
    }
  }

  // ---- assignments -------------------------------------------------------

  private assign(s: AState, op: AssignOp): AState {
    const ctx = this.ctx;
    const site = op.range.start;
    const compound = (target: Expr): Expr => {
      if (op.op === '=') return op.value;
      const binop = op.op.slice(0, -1) as '|' | '&' | '+' | '-';
      return { kind: 'binary', op: binop, left: target, right: op.value };
    };
    if (op.target.kind === 'temp') return setTemp(s, op.target.id, ctx.valueOf(op.value, s, site));
    if (op.target.kind === 'name') {
      const name = op.target.name;
      s = forgetFacts(s, ctx.symbols.join(ctx.symbols.join('v:', name), '&'));
      // A variable nothing the checks look at depends on is not tracked at all.
      if (!ctx.isRelevant(name)) return s.vars.has(name) ? setVar(s, name, UNKNOWN) : s;
      let v = ctx.valueOf(compound(op.target), s, site);
      // A flag word still carries its parameter's entry value in the bits no one set or cleared
      // (`flags |= PD_DEREF` leaves PD_LOCKED as the caller passed it); an exact word does not.
      if (v.k === 'bits' && v.exact && v.entry) v = { ...v, entry: undefined };
      if (v.k === 'unknown' && op.op === '=' && ctx.isPointerVar(name)) {
        v = { k: 'ptr', obj: ctx.siteObject(site), nullness: 'maybe' };
      }
      if (v.k === 'unknown' && !ctx.flagVars.has(name)) {
        if (!s.vars.has(name)) return s;
        return derive(s, { vars: s.vars.without(name) });
      }
      return setVar(s, name, v);
    }
    if (op.target.kind === 'field') {
      const base = ctx.objectOf(op.target.base, s);
      if (base === undefined) return s;
      // Storing a pointer to an object in another's field (`newcred->cr_prison = pr`,
      // `pr->pr_parent = ppr`) hands a reference over: the path-pair check leaves it alone.
      const stored = ctx.valueOf(op.value, s, site);
      if (stored.k === 'ptr' && stored.obj !== base) s = setFact(s, ctx.symbols.join('escaped:', stored.obj), true);
      if (op.target.field === ctx.vocabulary.parentField) {
        // `pr->pr_parent = ppr`: a new jail's parent is now known.
        const v = ctx.valueOf(op.value, s, site);
        return v.k === 'ptr' ? setVar(s, ctx.symbols.join('^', base), v) : s;
      }
      const prefix = ctx.symbols.join(ctx.symbols.join(base, ctx.symbols.join('.', op.target.field)), '&');
      const mask = op.value.kind === 'unary' && op.value.op === '~' ? ctx.maskOfConstant(op.value.operand) : ctx.maskOfConstant(op.value);
      // `w:` marks a bit this path wrote rather than tested (the ledger tells "sets persist" from "is persistent").
      if (op.op === '|=' && mask && !(op.value.kind === 'unary')) {
        let facts = s.facts;
        for (const b of mask) facts = facts.with(ctx.symbols.join(prefix, b), true).with(ctx.symbols.join('w:', ctx.symbols.join(prefix, b)), true);
        return derive(s, { facts });
      }
      if (op.op === '&=' && mask && op.value.kind === 'unary') {
        let facts = s.facts;
        for (const b of mask) facts = facts.with(ctx.symbols.join(prefix, b), false).with(ctx.symbols.join('w:', ctx.symbols.join(prefix, b)), true);
        return derive(s, { facts });
      }
      // Any other store to the field forgets what was known of its bits.
      return forgetFacts(forgetFacts(s, prefix), ctx.symbols.join('w:', prefix));
    }
    return s;
  }

  // ---- calls -------------------------------------------------------------

  private call(s: AState, op: CallOp): StepResult {
    const ctx = this.ctx;
    if (ALLOCATORS.has(op.callee)) {
      // malloc(9) with M_WAITOK sleeps until it can allocate: it never returns NULL.
      const nullness = op.argTexts.some((t) => /\bM_WAITOK\b/.test(t)) ? 'nonnull' : 'maybe';
      return this.result([{ state: op.result !== undefined ? setTemp(s, op.result, { k: 'ptr', obj: `a:${op.range.start}`, nullness }) : s }]);
    }
    if (ctx.file.functions.has(op.callee)) {
      const applied = this.applySummary(s, op);
      if (applied) return applied;
    }
    const notes: Note[] = [];
    // free(pr, M_PRISON), TAILQ_REMOVE(&allprison, pr, pr_list): the object leaves the world on this path.
    const release = ctx.vocabulary.releaseCalls[op.callee];
    if (release !== undefined) {
      const a = op.args[release];
      const v = a ? ctx.valueOf(a, s, op.range.start) : undefined;
      if (v?.k === 'ptr') s = setFact(s, ctx.symbols.join('freed:', v.obj), true);
    }
    if (!ctx.vocabulary.lockNeutralCalls.includes(op.callee)) {
      // A call that is handed a lock we track may change it behind our back: say so, do not guess.
      op.args.forEach((a, i) => {
        if (a.kind !== 'addr') return;
        const key = ctx.lockKey(a.operand, s);
        if (key !== undefined && s.locks.has(key)) {
          notes.push({
            rule: 'unmodelled-call', range: op.range, subject: `${op.callee}:${key}`,
            message: `${op.callee}() is passed ${op.argTexts[i] ?? 'a lock'}, which is held here; its effect on that lock is not modelled`,
          });
        }
      });
    }
    let after = op.result !== undefined ? setTemp(s, op.result, UNKNOWN) : s;
    // A call we cannot see into that is handed an object may take or drop references on it
    // (osd_jail_exit(pr) under VIMAGE does): its counters' values are no longer known.
    if (!ctx.vocabulary.lockNeutralCalls.includes(op.callee) && !ctx.vocabulary.noReturnCalls.includes(op.callee)) {
      for (const a of op.args) {
        const v = ctx.valueOf(a, s, op.range.start);
        const obj = v.k === 'ptr' ? v.obj : undefined;
        if (obj === undefined) continue;
        for (const [key, f] of after.counters) {
          if (key.slice(0, key.lastIndexOf('.')) !== obj || (f.lo === 0 && f.hi === Infinity)) continue;
          after = setCounter(after, key, { ...f, lo: 0, hi: Infinity });
        }
      }
    }
    return this.result([{ state: after }], NONE, notes);
  }

  private applySummary(s: AState, op: CallOp): StepResult | undefined {
    const ctx = this.ctx;
    const summary = this.env.summaryOf(op.callee, op.args.map((a) => ctx.valueOf(a, s, op.range.start)));
    if (!summary) return undefined;
    const params = new Map<string, ObjId>();
    // An object the callee creates and returns becomes a new object of this call.
    params.set('@return', ctx.siteObject(op.range.start));
    summary.params.forEach((p, i) => {
      const a = op.args[i];
      if (!a) return;
      const v = ctx.valueOf(a, s, op.range.start);
      if (v.k === 'ptr') params.set(p, v.obj);
      else {
        const o = ctx.objectOf(a, s);
        if (o !== undefined) params.set(p, o);
      }
    });
    const findings: RawFinding[] = [];
    const next: Successor[] = [];
    const seen = new Set<string>();
    const flagArg = summary.flagParam !== undefined ? op.args[summary.params.indexOf(summary.flagParam)] : undefined;
    for (const outcome of summary.outcomes) {
      let state: AState | null = s;
      // The outcome happened under some entry bits; on this path the argument must allow them.
      if (flagArg && outcome.entryBits) state = this.constrainFlags(state, flagArg, outcome);
      if (!state) continue;
      const argBits = flagArg ? ctx.valueOf(flagArg, state, op.range.start) : undefined;
      const promised = (bit: string): boolean => argBits?.k === 'bits' && argBits.set.includes(bit);
      const applied = this.applyOutcome(state, op, outcome, params, findings, promised, argBits, summary);
      if (seen.has(outcome.signature)) continue;
      seen.add(outcome.signature);
      const said = applied.message;
      next.push({ state: applied.state, message: () => `${op.callee}() ${said()}` });
    }
    if (next.length === 0) return { next: [{ state: op.result !== undefined ? setTemp(s, op.result, UNKNOWN) : s }], findings, notes: [] };
    return { next, findings, notes: [] };
  }

  private constrainFlags(s: AState, arg: Expr, outcome: Outcome): AState | null {
    // First the value the argument has here: an outcome under bits it cannot have is not this call's.
    const v = this.ctx.valueOf(arg, s, 0);
    if (v.k === 'bits' || (v.k === 'int' && (v.value === 0 || v.zero === true))) {
      const set = v.k === 'bits' ? v.set : [];
      const exact = v.k === 'bits' ? v.exact : true;
      const clear = v.k === 'bits' ? v.clear : [];
      const entry = outcome.entryBits!;
      if (entry.set.some((b) => clear.includes(b) || (exact && !set.includes(b)))) return null;
      if (entry.clear.some((b) => set.includes(b))) return null;
    }
    let state: AState | null = s;
    for (const b of outcome.entryBits!.set) {
      if (!state) return null;
      state = refine(this.ctx, state, { kind: 'binary', op: '&', left: arg, right: { kind: 'name', name: b } }, true);
    }
    for (const b of outcome.entryBits!.clear) {
      if (!state) return null;
      state = refine(this.ctx, state, { kind: 'binary', op: '&', left: arg, right: { kind: 'name', name: b } }, false);
    }
    return state;
  }

  private applyOutcome(s: AState, op: CallOp, outcome: Outcome, params: ReadonlyMap<string, ObjId>, findings: RawFinding[],
    promised: (bit: string) => boolean, argBits: Value | undefined, summary: Summary): { state: AState; message: () => string } {
    const ctx = this.ctx;
    const said: Array<() => string> = [];
    let state = s;
    const rebase = (key: string): string | undefined => {
      const hash = key.lastIndexOf('#');
      if (hash < 0) return key.startsWith('g:') ? key : undefined;
      const obj = rebaseObject(key.slice(0, hash), params, ctx.maxDepth);
      return obj === undefined ? undefined : `${obj}#${key.slice(hash + 1)}`;
    };
    for (const r of outcome.requires) {
      const key = rebase(r.key);
      if (key === undefined) continue;
      const held = state.locks.get(key);
      const name = lockName(ctx, key, held);
      // A contract requirement is the caller's promise only when its flag is certainly passed.
      const certain = r.because === undefined || promised(r.because);
      if (!held && state.known.has(key) && certain) {
        findings.push({
          rule: 'lock-contract-violated', range: op.range, subject: key,
          message: `${op.callee}() expects ${name} held${r.because ? ` (${r.because})` : ''}, but it is not held here`,
        });
      } else if (held && held.certainty === 'held' && held.mode !== r.mode && r.because && certain && !held.anyMode) {
        findings.push({
          rule: 'lock-contract-violated', range: op.range, subject: key,
          message: `${op.callee}() expects ${name} held ${r.mode} (${r.because}), but it is held ${held.mode} here`,
        });
      } else if (!held && !state.known.has(key) && existedAtEntry(lockKeyObject(key))) {
        state = derive(state, {
          entryHeld: state.entryHeld.with(key, r.mode),
          locks: state.locks.with(key, { mode: r.mode, lockClass: 'mtx', certainty: 'held', text: name }), known: state.known.with(key),
        });
      }
    }
    for (const r of outcome.released) {
      const key = rebase(r.key);
      if (key === undefined) continue;
      const hold = state.locks.get(key);
      said.push(() => `releases ${lockName(ctx, key, hold)}`);
      state = derive(state, { locks: state.locks.without(key), known: state.known.with(key) });
    }
    for (const m of outcome.modeChanged) {
      const key = rebase(m.key);
      const held = key !== undefined ? state.locks.get(key) : undefined;
      if (key === undefined || !held) continue;
      state = this.replaceHold(state, key, { ...held, mode: m.mode });
      said.push(() => `${m.mode === 'exclusive' ? 'upgrades' : 'downgrades'} ${lockName(ctx, key, held)}`);
    }
    for (const a of outcome.acquired) {
      const key = rebase(a.key);
      if (key === undefined) continue;
      state = this.acquire(state, key, a.hold, lockName(ctx, key, a.hold), op.range, findings);
      said.push(() => `returns holding ${lockName(ctx, key, a.hold)}`);
    }
    for (const c of outcome.counters) {
      const obj = rebaseObject(c.key.slice(0, c.key.lastIndexOf('.')), params, ctx.maxDepth);
      if (obj === undefined) continue;
      const key = `${obj}.${c.key.slice(c.key.lastIndexOf('.') + 1)}`;
      const f = counterFact(state, key);
      if (typeof c.delta === 'number' && c.delta !== 0) {
        // The ledger hears of a change a callee makes as a change at the call.
        const field = key.slice(key.lastIndexOf('.') + 1);
        const argText = op.argTexts[summary.params.indexOf(c.key.slice(2, c.key.indexOf('.')))] ?? 'an object';
        this.observer?.({
          kind: 'count', target: { kind: 'unknown', text: argText }, targetText: `${argText}->${field}`, counter: field,
          change: { kind: 'add', amount: c.delta }, callee: op.callee, range: op.range,
        }, key, state);
      }
      if (!tracksDelta(key, this.allDeltas)) continue;
      const delta = c.delta;
      said.push(() => (delta === 'set' ? `sets ${describeObject(obj, ctx.vocabulary.parentField, 'an object')}->${key.slice(key.lastIndexOf('.') + 1)}`
        : `changes ${describeObject(obj, ctx.vocabulary.parentField, 'an object')}->${key.slice(key.lastIndexOf('.') + 1)} by ${delta > 0 ? '+' : ''}${delta}`));
      state = setCounter(state, key, this.clampFact(c.delta === 'set'
        ? { delta: 'set', lo: 0, hi: Infinity, approx: f.approx, tested: f.tested }
        : { delta: f.delta === 'set' ? 'set' : f.delta + c.delta, lo: f.lo + c.delta, hi: f.hi === Infinity ? Infinity : Math.max(0, f.hi + c.delta), approx: f.approx || c.approx, tested: f.tested || c.tested }));
    }
    if (op.result !== undefined) {
      let v: Value = UNKNOWN;
      const r = outcome.ret;
      if (r.k === 'ptr') {
        const rebased = rebaseObject(r.obj, params, ctx.maxDepth);
        v = { k: 'ptr', obj: rebased ?? `n:${op.range.start}`, nullness: r.nullness };
      } else if (r.k === 'null' || r.k === 'int') v = r;
      else if (r.k === 'bits') {
        // A flag word returned from the flags passed in (prison_lock_xlock): the caller's word with the
        // callee's changes applied.
        if (r.entry !== undefined && argBits?.k === 'bits') {
          v = {
            k: 'bits', exact: argBits.exact, entry: argBits.entry,
            set: [...new Set([...argBits.set.filter((b) => !r.clear.includes(b)), ...r.set])].sort(),
            clear: [...new Set([...argBits.clear.filter((b) => !r.set.includes(b)), ...r.clear])].sort(),
          };
        } else if (r.entry === undefined) v = r;
      }
      state = setTemp(state, op.result, v);
      if (r.k === 'null') said.push(() => 'returns NULL');
    }
    return { state, message: () => (said.length ? said.map((f) => f()).join(', ') : 'returns') };
  }
}

export { decide };
