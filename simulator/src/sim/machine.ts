/**
 * The interpreter: threads stepping through the IR of the file's functions
 * in a concrete world. A thread always rests just before a *visible*
 * operation (one that touches shared state: a lock, a field of an object, a
 * list, a global); everything between two visible operations runs at once,
 * since no other thread can observe it. The explorer decides which thread
 * takes the next visible step, and which way a branch the model cannot
 * evaluate goes.
 */
import type { CountOp, Expr, LockMode, Op, SourceRange, Terminator } from '../ir';
import type { LockHolding, ScheduleStep } from './report';
import type { ArgSpec, LockTarget, PlannedCall, ThreadSpec } from './plan';
import type { FunctionInfo, Program } from './program';
import { HeapObject, World } from './world';
import { equal, int, SVal, truth, UNKNOWN, UNSET, valueKey, ZERO } from './values';

/** One shared location an operation reads or writes (the independence relation of the reduction). */
export interface Access {
  readonly loc: string;
  readonly write: boolean;
  /** Freeing an object conflicts with every access to it. */
  readonly freeOf?: number;
  readonly obj?: number;
  /**
   * A lock's release (or downgrade): never enabled together with another
   * thread's acquire of the same lock, which waits for it, so DPOR may treat
   * the two as independent; acquires of one lock are dependent.
   */
  readonly release?: boolean;
}

export type InvariantId =
  | 'kassert' | 'counter-negative' | 'root-uref-zero' | 'lock-owner' | 'lock-mode' | 'lock-recursion'
  | 'lock-assert' | 'held-at-exit' | 'deadlock' | 'use-after-free' | 'null-dereference' | 'panic';

export const INVARIANTS: Readonly<Record<InvariantId, string>> = {
  'kassert': 'no KASSERT or MPASS fails',
  'counter-negative': 'no reference counter goes below zero',
  'root-uref-zero': "the root prison's user references stay above zero",
  'lock-owner': 'only the holder releases a lock',
  'lock-mode': 'a lock is released in the mode it was taken',
  'lock-recursion': 'no thread takes a non-recursive lock it already holds',
  'lock-assert': 'no mtx_assert or sx_assert fails',
  'held-at-exit': 'no thread finishes holding a lock its contract does not allow',
  'deadlock': 'no deadlock (every live thread waiting for a lock)',
  'use-after-free': 'no access to a freed object',
  'null-dereference': 'no NULL pointer is followed',
  'panic': 'no panic() is reached',
};

/**
 * Invariants after which the run cannot go on: the kernel panics, or the
 * model has nothing sensible to continue with. After the others the run goes
 * on, so the schedule shows what else it breaks: a counter that goes wrong is
 * not yet a panic; a recursion on a lock is taken as a no-op, a release of a
 * lock not held is skipped, locks left held at a return are released by the
 * caller.
 */
const FATAL: ReadonlySet<InvariantId> = new Set(['kassert', 'lock-assert', 'deadlock', 'use-after-free', 'null-dereference', 'panic']);

export interface Violation {
  readonly invariant: InvariantId;
  readonly message: string;
  readonly thread: number;
  readonly fn: string;
  readonly range: SourceRange;
  /** Index of the schedule step it happened at (recording runs only). */
  step?: number;
}

interface Iteration {
  readonly items: number[];
  pos: number;
}

interface Frame {
  readonly id: number;
  readonly info: FunctionInfo;
  block: number;
  op: number;
  prev: number;
  readonly vars: Map<string, SVal>;
  readonly temps: SVal[];
  readonly iters: Map<number, Iteration>;
  iterHead: number;
  readonly resultTemp?: number;
}

export interface ThreadState {
  readonly id: number;
  readonly spec: ThreadSpec;
  /** Index into spec.calls, and the phase within that call. */
  call: number;
  phase: 'before' | 'acquire' | 'run' | 'release' | 'done';
  need: number;
  /** Locks held when the current call's harness began (the caller's own). */
  heldBefore: Set<string>;
  releaseQueue: string[];
  readonly frames: Frame[];
  nextFrame: number;
  allocs: number;
  /** Where the thread is for messages: the call's text. */
  callText: string;
  /** Where the current top-level call returned. */
  returnedAt?: SourceRange;
  /** A call not shown yet in the schedule. */
  announce?: { readonly fn: string; readonly range: SourceRange; readonly text: string };
}

export interface MachineOptions {
  /** World building: calls the model does not know succeed (return 0), and no choice is made. */
  readonly setup?: boolean;
  readonly record?: boolean;
  readonly invariants?: ReadonlySet<InvariantId>;
  readonly maxSteps?: number;
  readonly maxDepth?: number;
}

const ALLOCATORS = new Set(['malloc', 'mallocarray', 'uma_zalloc', 'uma_zalloc_arg', 'crget']);
const LIST_OP = /^(LIST|TAILQ|STAILQ|SLIST)_(INSERT_HEAD|INSERT_TAIL|INSERT_AFTER|INSERT_BEFORE|REMOVE|REMOVE_HEAD)$/;
/** The credential's prison (see PROCESS in worlds.ts). */
const CRED_PRISON = 'cr_prison';
/** FreeBSD's credential hand-over calls, and the field of struct proc they change. */
const CRED_CALLS = { crcopysafe: true, proc_set_cred: true, procCred: 'p_ucred' } as const;
/** The list a prison keeps its children on (FOREACH_PRISON_CHILD / _DESCENDANT walk it). */
const CHILDREN = 'pr_children';

export class Machine {
  readonly threads: ThreadState[];
  violation?: Violation;
  /** Violations that do not stop the kernel, recorded while the run goes on. */
  readonly also: Violation[] = [];
  cut?: string;
  steps = 0;
  readonly trace: ScheduleStep[] = [];
  /** The explorer's answer to "which way?" for a branch the model cannot evaluate. */
  choose: (options: number, what: string) => number = () => 0;
  private pendingChoice?: string;
  private readonly invariants: ReadonlySet<InvariantId> | undefined;
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  private readonly root: string;
  private readonly counters: ReadonlySet<string>;

  constructor(readonly program: Program, readonly world: World, specs: readonly ThreadSpec[], readonly options: MachineOptions = {}) {
    this.threads = specs.map((spec, i) => ({
      id: i + 1, spec, call: 0, phase: 'before', need: 0, heldBefore: new Set(), releaseQueue: [], frames: [],
      nextFrame: 0, allocs: 0, callText: '',
    }));
    this.invariants = options.invariants;
    this.maxSteps = options.maxSteps ?? 20_000;
    this.maxDepth = options.maxDepth ?? 24;
    this.root = program.config.vocabulary.rootObject;
    this.counters = new Set(program.config.vocabulary.counterFields);
  }

  // ---------------------------------------------------------------- scheduling interface

  done(t: ThreadState): boolean {
    return t.phase === 'done';
  }

  /** Runs `t` up to its next visible operation. */
  settle(t: ThreadState): void {
    while (!this.stopped() && t.phase !== 'done' && this.footprint(t) === null) this.exec(t);
  }

  /** Runs `t`'s pending visible operation, then up to the next one. */
  step(t: ThreadState): void {
    if (this.stopped() || t.phase === 'done') return;
    this.exec(t);
    this.settle(t);
  }

  stopped(): boolean {
    return this.violation !== undefined || this.cut !== undefined;
  }

  /** Whether `t`'s pending operation waits for a lock another thread holds. */
  blocked(t: ThreadState): boolean {
    const want = this.pendingAcquire(t);
    if (!want) return false;
    return !this.available(want.key, t.id, want.mode, want.upgrade);
  }

  /** The lock `t` waits for, for deadlock reports. */
  awaited(t: ThreadState): string | undefined {
    const want = this.pendingAcquire(t);
    return want ? this.world.lockName(want.key) : undefined;
  }

  /**
   * What `t`'s pending operation touches; null when it touches nothing
   * shared (it then runs without a scheduling point). Computed by
   * evaluating the operation without effects.
   */
  footprint(t: ThreadState): Access[] | null {
    const acc: Access[] = [];
    if (t.frames.length === 0) {
      if (t.releaseQueue.length > 0) return [{ loc: `L:${t.releaseQueue[0]}`, write: true, release: true }];
      if (t.phase === 'acquire') {
        const key = this.needKey(t);
        return key === undefined ? null : [{ loc: `L:${key}`, write: true }];
      }
      return null;
    }
    const f = t.frames[t.frames.length - 1]!;
    const block = f.info.fn.blocks[f.block]!;
    if (f.op < block.ops.length) this.opAccess(block.ops[f.op]!, f, t, acc);
    else this.termAccess(block.term, f, t, acc);
    return acc.length > 0 ? acc : null;
  }

  /** Everything that distinguishes this state from another (threads included). */
  stateKey(): string {
    const parts = [this.world.key()];
    for (const t of this.threads) {
      let s = `T${t.id}:${t.call}/${t.phase}/${t.need}/${t.releaseQueue.join(',')}`;
      for (const f of t.frames) {
        s += `[${f.info.fn.name}@${f.block}.${f.op}<${f.prev}`;
        for (const [k, v] of f.vars) s += ` ${k}=${valueKey(v)}`;
        s += ` t:${f.temps.map(valueKey).join(',')}`;
        for (const [h, it] of f.iters) s += ` i${h}:${it.items.join(',')}@${it.pos}`;
        s += ']';
      }
      parts.push(s);
    }
    return parts.join('#');
  }

  /** Every live thread waits for a lock: the run ends here. */
  deadlock(live: readonly ThreadState[]): void {
    const who = live.map((t) => {
      const held = this.world.locksOf(t.id).map((h) => this.world.lockName(h.key));
      return `thread ${t.id} holds ${held.length ? held.join(', ') : 'nothing'} and waits for ${this.awaited(t) ?? 'a lock'}`;
    });
    const t = live[0]!;
    const f = t.frames[t.frames.length - 1];
    const range = f ? this.currentRange(f, true) : this.callRange(t);
    this.fail('deadlock', `deadlock: ${who.join('; ')}`, t, f?.info.fn.name ?? '(caller)', range);
  }

  // ---------------------------------------------------------------- execution

  private exec(t: ThreadState): void {
    if (++this.steps > this.maxSteps) {
      this.cut = `an execution ran more than ${this.maxSteps} steps (a loop the model cannot end?)`;
      return;
    }
    if (t.frames.length === 0) {
      this.driver(t);
      return;
    }
    // A call is shown with the state before its first visible step.
    if (t.announce && this.options.record) this.record(t, t.announce.fn, t.announce.range, t.announce.text);
    const f = t.frames[t.frames.length - 1]!;
    const block = f.info.fn.blocks[f.block]!;
    if (f.op < block.ops.length) {
      const op = block.ops[f.op]!;
      f.op++;
      this.at = op.range;
      this.op(op, f, t);
    } else {
      this.at = block.term.kind === 'jump' ? undefined : block.term.range;
      this.terminator(block.term, f, t);
    }
  }

  /** The harness: take the call's locks, make the call, release what is left. */
  private driver(t: ThreadState): void {
    if (t.releaseQueue.length > 0) {
      const key = t.releaseQueue.shift()!;
      this.releaseLock(key, t, undefined, { fn: '(caller)', range: this.callRange(t) });
      this.record(t, '(caller)', this.callRange(t), `the caller releases ${this.world.lockName(key)}`);
      if (t.releaseQueue.length === 0) this.nextCall(t);
      return;
    }
    const planned = t.spec.calls[t.call];
    if (!planned) {
      t.phase = 'done';
      return;
    }
    switch (t.phase) {
      case 'before':
        t.heldBefore = new Set(this.world.locksOf(t.id).map((h) => h.key));
        t.callText = planned.call.text;
        t.phase = planned.needs.length > 0 ? 'acquire' : 'run';
        t.need = 0;
        return;
      case 'acquire': {
        const need = planned.needs[t.need]!;
        const key = this.needKey(t);
        if (key !== undefined) {
          const l = this.world.lock(key, need.lockClass);
          if (need.mode === 'exclusive') l.exclusive = t.id;
          else l.shared.set(t.id, (l.shared.get(t.id) ?? 0) + 1);
          this.record(t, '(caller)', this.callRange(t), `the caller takes ${this.world.lockName(key)} ${need.mode === 'shared' ? 'shared ' : ''}(${need.why})`);
        }
        if (++t.need >= planned.needs.length) t.phase = 'run';
        return;
      }
      case 'run':
        this.startCall(t, planned);
        return;
      case 'release':
        this.afterCall(t, planned);
        return;
      case 'done':
        return;
    }
  }

  private callRange(t: ThreadState): SourceRange {
    const planned = t.spec.calls[Math.min(t.call, t.spec.calls.length - 1)];
    const info = planned ? this.program.functions.get(planned.call.fn) : undefined;
    return info?.fn.nameRange ?? { start: 0, end: 0 };
  }

  private needKey(t: ThreadState): string | undefined {
    const planned = t.spec.calls[t.call];
    const need = planned?.needs[t.need];
    return planned && need ? this.targetKey(need.target, planned.call.args, t) : undefined;
  }

  private targetKey(target: LockTarget, args: readonly ArgSpec[], t: ThreadState): string | undefined {
    if ('global' in target) return `g:${target.global}`;
    let v = this.argValue(args[target.arg], t);
    for (let i = 0; i < target.up && v.k === 'ptr'; i++) {
      const o = this.world.objects.get(v.o);
      v = o ? this.world.field(o, this.program.config.vocabulary.parentField) : UNKNOWN;
    }
    return v.k === 'ptr' ? `${v.o}.${target.field}` : undefined;
  }

  /** A named object, or `@p`: the jail process p's credential points to now. */
  private namedValue(name: string): SVal {
    if (name.startsWith('@')) {
      const cred = this.processObject(name.slice(1), 'cred');
      const o = cred.k === 'ptr' ? this.world.objects.get(cred.o) : undefined;
      return o ? this.world.field(o, CRED_PRISON) : ZERO;
    }
    const id = this.world.names.get(name);
    return id === undefined ? ZERO : { k: 'ptr', o: id };
  }

  private processObject(process: string, field: 'td' | 'proc' | 'cred'): SVal {
    const id = this.world.names.get(`${process}.${field}`);
    return id === undefined ? ZERO : { k: 'ptr', o: id };
  }

  private argValue(a: ArgSpec | undefined, t: ThreadState): SVal {
    if (!a) return ZERO;
    switch (a.k) {
      case 'obj': return this.namedValue(a.name);
      case 'field': {
        const v = this.namedValue(a.name);
        const o = v.k === 'ptr' ? this.world.objects.get(v.o) : undefined;
        return o ? this.world.field(o, a.field) : ZERO;
      }
      case 'int': return int(a.v);
      case 'str': return { k: 'gref', g: '"string"' };
      case 'null': return ZERO;
      case 'td': case 'proc': case 'cred': return this.processObject(a.process ?? t.spec.process, a.k);
      case 'out': return { k: 'lref', frame: -t.id, name: 'out' };
    }
  }

  private startCall(t: ThreadState, planned: PlannedCall): void {
    const info = this.program.functions.get(planned.call.fn);
    t.phase = 'release';
    if (!info) return;
    const args = planned.call.args.map((a) => this.argValue(a, t));
    // Shown with the call's first visible step, so a schedule reads in the order things happen.
    t.announce = { fn: info.fn.name, range: info.fn.nameRange, text: `calls ${planned.call.text}` };
    this.pushFrame(t, info, args, undefined);
  }

  private afterCall(t: ThreadState, planned: PlannedCall): void {
    const now = this.world.locksOf(t.id);
    const left = now.filter((h) => !t.heldBefore.has(h.key));
    if (planned.releasesAll && left.length > 0) {
      const names = left.map((h) => this.world.lockName(h.key)).join(', ');
      this.fail('held-at-exit', `${planned.call.fn}() returned holding ${names}, which it promises to release`, t,
        planned.call.fn, t.returnedAt ?? this.program.functions.get(planned.call.fn)?.fn.nameRange ?? { start: 0, end: 0 });
      if (this.stopped()) return;
    }
    if (planned.call.creates) this.nameCreated(planned.call.creates.name, planned.call.creates.parent, t);
    t.releaseQueue = left.map((h) => h.key).reverse();
    if (t.releaseQueue.length === 0) this.nextCall(t);
  }

  private nextCall(t: ThreadState): void {
    t.call++;
    t.phase = t.call < t.spec.calls.length ? 'before' : 'done';
  }

  /** The jail a creating call made: the newest unnamed prison whose parent is `parent`. */
  private nameCreated(name: string, parent: string, t: ThreadState): void {
    const parentId = this.world.names.get(parent);
    const pf = this.program.config.vocabulary.parentField;
    const made = [...this.world.objects.values()].filter((o) => !o.name && !o.freed && o.id > t.id * 100_000
      && o.fields.get(pf)?.k === 'ptr' && (o.fields.get(pf) as { o: number }).o === parentId);
    const o = made[made.length - 1];
    if (o) {
      o.name = name;
      o.kind = 'prison';
      this.world.names.set(name, o.id);
    }
  }

  private pushFrame(t: ThreadState, info: FunctionInfo, args: readonly SVal[], resultTemp: number | undefined): void {
    if (t.frames.length >= this.maxDepth) {
      this.cut = `calls nested deeper than ${this.maxDepth} (recursion?)`;
      return;
    }
    const vars = new Map<string, SVal>();
    info.fn.params.forEach((p, i) => vars.set(p.name, args[i] ?? UNKNOWN));
    t.frames.push({
      id: t.id * 1_000_000 + ++t.nextFrame, info, block: info.fn.entry, op: 0, prev: -1, vars,
      temps: new Array<SVal>(info.fn.tempCount).fill(UNKNOWN), iters: new Map(), iterHead: -1, resultTemp,
    });
  }

  // ---------------------------------------------------------------- operations

  private op(op: Op, f: Frame, t: ThreadState): void {
    switch (op.kind) {
      case 'lock': return this.lockOp(op.action, op.lock, op.lockText, op.lockClass, op.mode, op.result, op.callee, op.range, f, t);
      case 'scope-lock':
        return this.lockOp(op.action, op.lock, op.lockText, op.lockClass, 'exclusive', undefined, op.macro, op.range, f, t);
      case 'count': return this.count(op, f, t);
      case 'assign': {
        const value = op.value.kind === 'element' ? this.element(op.target, f) : this.eval(op.value, f, t, null);
        const loc = this.location(op.target, f, t, null);
        const old = op.op === '=' ? ZERO : this.read(loc, f, t);
        const v = op.op === '=' ? value : arith(op.op.slice(0, -1), old, value);
        this.write(loc, v, t);
        if (loc.k === 'field') {
          const o = this.world.objects.get(loc.o)!;
          this.record(t, f.info.fn.name, op.range, `${op.targetText} ${op.op} …: ${this.world.lockName(`${loc.o}.${loc.f}`)} = ${this.show(v)}`);
          this.checkCounter(o, loc.f, v, t, f, op.range);
        } else if (loc.k === 'global') {
          this.record(t, f.info.fn.name, op.range, `${op.targetText} ${op.op} …: ${loc.name} = ${this.show(v)}`);
        }
        return;
      }
      case 'call': return this.call(op.callee, op.args, op.argTexts, op.result, op.range, f, t);
      case 'assert': {
        const v = truth(this.eval(op.cond, f, t, null));
        if (this.stopped()) return;
        this.record(t, f.info.fn.name, op.range, `${op.macro}(${op.condText}) ${v === false ? 'fails' : 'holds'}`);
        if (v === false) this.fail('kassert', `${op.macro}(${op.condText}) fails in ${f.info.fn.name}()`, t, f.info.fn.name, op.range);
        return;
      }
    }
  }

  private lockOp(action: string, lockExpr: Expr, lockText: string, lockClass: 'mtx' | 'sx' | 'rw' | 'lockmgr', mode: LockMode | undefined,
    result: number | undefined, callee: string, range: SourceRange, f: Frame, t: ThreadState): void {
    const key = this.lockKey(lockExpr, f, t, null);
    const fn = f.info.fn.name;
    if (key === undefined) {
      if (result !== undefined) f.temps[result] = UNKNOWN;
      return;
    }
    this.touchObject(key, t, fn, range);
    if (this.stopped()) return;
    const name = this.world.lockName(key);
    const held = this.world.heldBy(key, t.id);
    const l = this.world.lock(key, lockClass);
    switch (action) {
      case 'acquire':
      case 'upgrade': {
        const m = action === 'upgrade' ? 'exclusive' : mode ?? 'exclusive';
        if (held !== undefined && action === 'acquire' && !(held === 'shared' && m === 'shared' && lockClass !== 'mtx')) {
          this.fail('lock-recursion', `${callee}(&${lockText}): ${name} is already held by this thread`, t, fn, range);
          return; // taken as a no-op: the thread still holds it once
        }
        if (action === 'upgrade') l.shared.delete(t.id);
        if (m === 'exclusive') l.exclusive = t.id;
        else l.shared.set(t.id, (l.shared.get(t.id) ?? 0) + 1);
        this.record(t, fn, range, `${callee}(&${lockText}): takes ${name}${m === 'shared' ? ' shared' : ''}`);
        return;
      }
      case 'try-acquire': {
        const m = mode ?? 'exclusive';
        const ok = held === undefined && this.available(key, t.id, m, false);
        if (ok) {
          if (m === 'exclusive') l.exclusive = t.id;
          else l.shared.set(t.id, 1);
        }
        if (result !== undefined) f.temps[result] = ok ? int(1) : ZERO;
        this.record(t, fn, range, `${callee}(&${lockText}) ${ok ? `succeeds: takes ${name}` : `fails: ${name} is busy`}`);
        return;
      }
      case 'try-upgrade': {
        const ok = held === 'shared' && l.exclusive < 0 && l.shared.size === 1;
        if (ok) {
          l.shared.delete(t.id);
          l.exclusive = t.id;
        }
        if (result !== undefined) f.temps[result] = ok ? int(1) : ZERO;
        this.record(t, fn, range, `${callee}(&${lockText}) ${ok ? `succeeds: ${name} now exclusive` : 'fails'}`);
        return;
      }
      case 'downgrade':
        if (held !== 'exclusive') {
          this.fail('lock-mode', `${callee}(&${lockText}): ${name} is not held exclusive by this thread`, t, fn, range);
          return;
        }
        l.exclusive = -1;
        l.shared.set(t.id, 1);
        this.record(t, fn, range, `${callee}(&${lockText}): ${name} now shared`);
        return;
      case 'release':
        this.releaseLock(key, t, mode, { fn, range, callee, lockText });
        if (!this.stopped()) this.record(t, fn, range, `${callee}(&${lockText}): releases ${name}`);
        return;
      case 'assert-held':
        if (held === undefined || (mode !== undefined && held !== mode)) {
          this.fail('lock-assert', `${callee}(&${lockText}) fails: ${name} is ${held === undefined ? 'not held by this thread' : `held ${held}`}`, t, fn, range);
        }
        return;
      case 'assert-not-held':
        if (held !== undefined) this.fail('lock-assert', `${callee}(&${lockText}) fails: ${name} is held by this thread`, t, fn, range);
        return;
      default:
        return;
    }
  }

  private releaseLock(key: string, t: ThreadState, mode: LockMode | undefined,
    where: { fn: string; range: SourceRange; callee?: string; lockText?: string }): void {
    const l = this.world.locks.get(key);
    const held = this.world.heldBy(key, t.id);
    const what = where.callee ? `${where.callee}(&${where.lockText})` : 'release';
    const name = this.world.lockName(key);
    if (!l || held === undefined) {
      const holder = l && l.exclusive >= 0 ? ` (thread ${l.exclusive} holds it)` : '';
      this.fail('lock-owner', `${what}: ${name} is not held by this thread${holder}`, t, where.fn, where.range);
      return;
    }
    if (mode !== undefined && mode !== held) {
      this.fail('lock-mode', `${what}: ${name} is held ${held}, released as ${mode}`, t, where.fn, where.range);
      return;
    }
    if (held === 'exclusive') l.exclusive = -1;
    else {
      const n = (l.shared.get(t.id) ?? 1) - 1;
      if (n <= 0) l.shared.delete(t.id);
      else l.shared.set(t.id, n);
    }
  }

  private available(key: string, thread: number, mode: LockMode, upgrade: boolean): boolean {
    void upgrade;
    const l = this.world.locks.get(key);
    if (!l) return true;
    if (l.exclusive >= 0 && l.exclusive !== thread) return false;
    if (mode === 'exclusive') for (const h of l.shared.keys()) if (h !== thread) return false;
    return true;
  }

  private pendingAcquire(t: ThreadState): { key: string; mode: LockMode; upgrade: boolean } | undefined {
    if (t.frames.length === 0) {
      if (t.phase !== 'acquire' || t.releaseQueue.length > 0) return undefined;
      const key = this.needKey(t);
      const need = t.spec.calls[t.call]?.needs[t.need];
      return key !== undefined && need ? { key, mode: need.mode, upgrade: false } : undefined;
    }
    const f = t.frames[t.frames.length - 1]!;
    const block = f.info.fn.blocks[f.block]!;
    if (f.op >= block.ops.length) return undefined;
    const op = block.ops[f.op]!;
    if (op.kind === 'scope-lock' && op.action === 'acquire') {
      const key = this.lockKey(op.lock, f, t, null);
      return key === undefined || this.world.heldBy(key, t.id) ? undefined : { key, mode: 'exclusive', upgrade: false };
    }
    if (op.kind !== 'lock' || (op.action !== 'acquire' && op.action !== 'upgrade')) return undefined;
    const key = this.lockKey(op.lock, f, t, null);
    if (key === undefined) return undefined;
    // A thread taking a lock it holds does not wait: it recurses, which is reported.
    if (op.action === 'acquire' && this.world.heldBy(key, t.id)) return undefined;
    return { key, mode: op.action === 'upgrade' ? 'exclusive' : op.mode ?? 'exclusive', upgrade: op.action === 'upgrade' };
  }

  private count(op: CountOp, f: Frame, t: ThreadState): void {
    const loc = this.location(op.target, f, t, null);
    if (this.stopped()) return;
    const old = this.read(loc, f, t);
    const fn = f.info.fn.name;
    let next: SVal = UNKNOWN;
    let flag: SVal = UNKNOWN;
    if (old.k === 'int') {
      const o = old.v;
      const c = op.change;
      let n = o;
      let fl = 1;
      switch (c.kind) {
        case 'add': n = o + c.amount; break;
        case 'set': n = c.value ?? o; break;
        case 'release': n = o - c.amount; fl = n === 0 ? 1 : 0; break;
        case 'release-if-not-last': if (o === 1) fl = 0; else n = o - 1; break;
        case 'acquire-if-not-zero': if (o === 0) fl = 0; else n = o + 1; break;
      }
      next = int(n);
      flag = int(fl);
      if (c.kind === 'set' && c.value === null) next = UNKNOWN;
    }
    this.write(loc, next, t);
    if (op.result !== undefined) f.temps[op.result] = op.resultIs === 'before' ? old : op.resultIs === 'flag' ? flag : next;
    const where = loc.k === 'field' ? this.world.lockName(`${loc.o}.${loc.f}`) : loc.k === 'global' ? loc.name : op.targetText;
    this.record(t, fn, op.range, `${op.callee ? `${op.callee}(&${op.targetText})` : describeChange(op)}: ${where} ${this.show(old)} → ${this.show(next)}`);
    if (loc.k === 'field') this.checkCounter(this.world.objects.get(loc.o)!, loc.f, next, t, f, op.range);
  }

  private checkCounter(o: HeapObject, field: string, v: SVal, t: ThreadState, f: Frame, range: SourceRange): void {
    if (!this.counters.has(field) || v.k !== 'int') return;
    const fn = f.info.fn.name;
    if (v.v < 0) this.fail('counter-negative', `${o.name || 'a prison'}.${field} went below zero (${v.v}) in ${fn}()`, t, fn, range);
    else if (v.v === 0 && o.name === this.root && field === this.program.config.vocabulary.liveCounter) {
      this.fail('root-uref-zero', `${this.root}.${field} reached 0 in ${fn}(): the host lost its last user reference`, t, fn, range);
    }
  }

  private call(callee: string, argExprs: readonly Expr[], argTexts: readonly string[], result: number | undefined,
    range: SourceRange, f: Frame, t: ThreadState): void {
    const fn = f.info.fn.name;
    const info = this.program.functions.get(callee);
    const voc = this.program.config.vocabulary;
    if (info) {
      const args = argExprs.map((a) => this.eval(a, f, t, null));
      if (this.stopped()) return;
      this.pushFrame(t, info, args, result);
      return;
    }
    const arg = (i: number): SVal => (argExprs[i] ? this.eval(argExprs[i]!, f, t, null) : UNKNOWN);
    const setResult = (v: SVal): void => { if (result !== undefined) f.temps[result] = v; };
    if (ALLOCATORS.has(callee)) {
      const id = t.id * 100_000 + ++t.allocs;
      this.world.addObject(id, 'object', '', {}, true);
      setResult({ k: 'ptr', o: id });
      return;
    }
    if (Object.prototype.hasOwnProperty.call(voc.releaseCalls, callee) && !LIST_OP.test(callee)) {
      const v = arg(voc.releaseCalls[callee]!);
      if (v.k === 'ptr') {
        const o = this.world.objects.get(v.o)!;
        if (o.freed) {
          this.fail('use-after-free', `${callee}(${argTexts.join(', ')}): ${o.name || 'the object'} is freed twice`, t, fn, range);
          return;
        }
        o.freed = true;
        o.key = undefined;
        this.record(t, fn, range, `${callee}(${argTexts.join(', ')}): ${o.name || 'the object'} is freed`);
      }
      setResult(UNKNOWN);
      return;
    }
    const m = LIST_OP.exec(callee);
    if (m) {
      this.listOp(m[2]!, argExprs, argTexts, callee, range, f, t);
      return;
    }
    if (Object.prototype.hasOwnProperty.call(CRED_CALLS, callee)) {
      setResult(this.credCall(callee, arg(0), arg(1), t, f, range));
      return;
    }
    // Anything else is not modelled: it changes nothing the model sees, and its result is unknown.
    if (!voc.lockNeutralCalls.includes(callee)) for (const a of argExprs) this.eval(a, f, t, null);
    setResult(this.options.setup ? ZERO : UNKNOWN);
  }

  /**
   * A process's credential changes hands (do_jail_attach() of FreeBSD 10 and
   * later): crcopysafe(p, new) copies p's credential into `new` and returns
   * the old one; proc_set_cred(p, new) installs `new`.
   */
  private credCall(callee: string, a0: SVal, a1: SVal, t: ThreadState, f: Frame, range: SourceRange): SVal {
    const p = a0.k === 'ptr' ? this.world.objects.get(a0.o) : undefined;
    const cred = a1.k === 'ptr' ? this.world.objects.get(a1.o) : undefined;
    if (!p) return UNKNOWN;
    const old = this.world.field(p, CRED_CALLS.procCred);
    if (callee === 'crcopysafe' && cred && old.k === 'ptr') {
      const from = this.world.objects.get(old.o);
      if (from) for (const [k, v] of from.fields) cred.fields.set(k, v);
      cred.key = undefined;
      this.record(t, f.info.fn.name, range, `${callee}(): ${p.name || 'the process'}'s credential copied`);
      return old;
    }
    if (callee === 'proc_set_cred' && cred) {
      p.fields.set(CRED_CALLS.procCred, a1);
      p.key = undefined;
      this.record(t, f.info.fn.name, range, `${callee}(): ${p.name || 'the process'} gets the new credential`);
    }
    return UNKNOWN;
  }

  private listOp(what: string, args: readonly Expr[], texts: readonly string[], callee: string, range: SourceRange, f: Frame, t: ThreadState): void {
    const fn = f.info.fn.name;
    const ev = (i: number): SVal => (args[i] ? this.eval(args[i]!, f, t, null) : UNKNOWN);
    const fieldName = (i: number): string => (args[i]?.kind === 'name' ? (args[i] as { name: string }).name : texts[i] ?? '');
    const listKey = (v: SVal): string | undefined => (v.k === 'ref' ? `${v.o}.${v.f}` : v.k === 'gref' ? `g:${v.g}` : undefined);
    const insert = (key: string | undefined, elem: SVal, link: string, at: (list: number[]) => number): void => {
      if (key === undefined || elem.k !== 'ptr') return;
      const list = this.world.lists.get(key) ?? [];
      this.world.lists.set(key, list);
      const o = this.world.objects.get(elem.o)!;
      list.splice(Math.max(0, Math.min(list.length, at(list))), 0, elem.o);
      o.links.set(link, key);
      this.record(t, fn, range, `${callee}(${texts.join(', ')}): ${o.name || 'the object'} joins ${this.world.listName(key)}`);
    };
    switch (what) {
      case 'INSERT_HEAD': return insert(listKey(ev(0)), ev(1), fieldName(2), () => 0);
      case 'INSERT_TAIL': return insert(listKey(ev(0)), ev(1), fieldName(2), (l) => l.length);
      case 'INSERT_AFTER':
      case 'INSERT_BEFORE': {
        // TAILQ_INSERT_AFTER(head, listelm, elm, field); LIST_INSERT_AFTER(listelm, elm, field).
        const hasHead = callee.startsWith('TAILQ') && what === 'INSERT_AFTER';
        const base = ev(hasHead ? 1 : 0);
        const elem = ev(hasHead ? 2 : 1);
        const link = fieldName(hasHead ? 3 : 2);
        const b = base.k === 'ptr' ? this.world.objects.get(base.o) : undefined;
        const key = b?.links.get(link);
        return insert(key, elem, link, (l) => l.indexOf((base as { o: number }).o) + (what === 'INSERT_AFTER' ? 1 : 0));
      }
      case 'REMOVE': {
        // TAILQ_REMOVE(head, elm, field); LIST_REMOVE(elm, field).
        const withHead = args.length >= 3;
        const elem = ev(withHead ? 1 : 0);
        const link = fieldName(withHead ? 2 : 1);
        if (elem.k !== 'ptr') return;
        const o = this.world.objects.get(elem.o)!;
        const key = o.links.get(link) ?? (withHead ? listKey(ev(0)) : undefined);
        if (key === undefined) return;
        const list = this.world.lists.get(key) ?? [];
        const i = list.indexOf(elem.o);
        if (i >= 0) list.splice(i, 1);
        o.links.delete(link);
        this.record(t, fn, range, `${callee}(${texts.join(', ')}): ${o.name || 'the object'} leaves ${this.world.listName(key)}`);
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- terminators

  private terminator(term: Terminator, f: Frame, t: ThreadState): void {
    const fn = f.info.fn.name;
    switch (term.kind) {
      case 'jump':
        this.goto(f, term.target);
        return;
      case 'branch': {
        if (term.origin === 'macro-loop') {
          this.goto(f, this.iterate(f, t) ? term.whenTrue : term.whenFalse);
          return;
        }
        const v = truth(this.eval(term.cond, f, t, null));
        if (this.stopped()) return;
        let taken = v;
        if (taken === undefined && term.origin === 'preprocessor') {
          // One kernel configuration per simulation: what `defines` does not decide is not defined.
          taken = this.program.preprocessorTaken(term.condText);
        }
        if (taken === undefined) {
          const what = `${term.condText} (${term.origin === 'preprocessor' ? 'an #ifdef' : 'the model cannot tell'})`;
          taken = this.options.setup ? false : this.choose(2, what) === 1;
          this.pendingChoice = `${term.condText} taken as ${taken ? 'true' : 'false'}${term.origin === 'preprocessor' ? ' (#ifdef)' : ''}`;
          this.record(t, fn, term.range, `${term.condText}: ${taken ? 'true' : 'false'}`);
        }
        this.goto(f, taken ? term.whenTrue : term.whenFalse);
        return;
      }
      case 'return': {
        const v = term.value ? this.eval(term.value, f, t, null) : UNKNOWN;
        if (this.stopped()) return;
        t.frames.pop();
        if (t.frames.length === 0) t.returnedAt = term.range;
        const caller = t.frames[t.frames.length - 1];
        if (caller && f.resultTemp !== undefined) caller.temps[f.resultTemp] = v;
        return;
      }
      case 'abort':
        this.fail('panic', `${fn}() panics`, t, fn, term.range);
        return;
    }
  }

  private goto(f: Frame, target: number): void {
    f.prev = f.block;
    f.block = target;
    f.op = 0;
  }

  /** An iteration macro's "another element?": walks the world's list, or nothing for a list the model does not know. */
  private iterate(f: Frame, t: ThreadState): boolean {
    const head = f.info.loopHeads.get(f.block);
    const again = f.info.backEdges.get(f.block)?.has(f.prev) ?? false;
    let it = f.iters.get(f.block);
    if (!it || !again) {
      it = { items: head ? this.elements(head.macro, head.args, f, t) : [], pos: -1 };
      f.iters.set(f.block, it);
    }
    for (it.pos++; it.pos < it.items.length; it.pos++) {
      const o = this.world.objects.get(it.items[it.pos]!);
      if (o && !o.freed) break;
    }
    f.iterHead = f.block;
    return it.pos < it.items.length;
  }

  private elements(macro: string, args: readonly Expr[], f: Frame, t: ThreadState): number[] {
    if (/^FOREACH_PRISON_(DESCENDANT|CHILD)/.test(macro)) {
      const root = args[0] ? this.eval(args[0], f, t, null) : UNKNOWN;
      if (root.k !== 'ptr') return [];
      const out: number[] = [];
      const walk = (id: number, deep: boolean): void => {
        for (const c of this.world.lists.get(`${id}.${CHILDREN}`) ?? []) {
          out.push(c);
          if (deep) walk(c, deep);
        }
      };
      walk(root.o, macro.includes('DESCENDANT'));
      return out;
    }
    if (macro === 'FOREACH_PROC_IN_SYSTEM') {
      return [...this.world.objects.values()].filter((o) => o.kind === 'proc').map((o) => o.id);
    }
    if (/_FOREACH/.test(macro) && args[1]) {
      const h = this.eval(args[1], f, t, null);
      const key = h.k === 'ref' ? `${h.o}.${h.f}` : h.k === 'gref' ? `g:${h.g}` : undefined;
      const items = key !== undefined ? (this.world.lists.get(key) ?? []).slice() : [];
      return macro.includes('REVERSE') ? items.reverse() : items;
    }
    return [];
  }

  private element(target: Expr, f: Frame): SVal {
    const head = f.info.loopHeads.get(f.iterHead);
    const it = f.iters.get(f.iterHead);
    if (!head || !it || it.pos >= it.items.length) return UNKNOWN;
    if (target.kind === 'name' && head.variable !== undefined && target.name !== head.variable) return UNKNOWN;
    return { k: 'ptr', o: it.items[it.pos]! };
  }

  // ---------------------------------------------------------------- expressions

  eval(e: Expr, f: Frame, t: ThreadState, acc: Access[] | null): SVal {
    switch (e.kind) {
      case 'num': return int(e.value);
      case 'str': return { k: 'gref', g: '"string"' };
      case 'unknown': return UNKNOWN;
      case 'temp': return f.temps[e.id] ?? UNKNOWN;
      case 'element': return UNKNOWN;
      case 'name': return this.readName(e.name, f, acc);
      case 'field': {
        const base = this.eval(e.base, f, t, acc);
        if (base.k === 'int' && base.v === 0 && base !== UNSET && !acc) this.nullDeref(e, t, f);
        if (base.k !== 'ptr') return UNKNOWN;
        const o = this.world.objects.get(base.o);
        if (!o) return UNKNOWN;
        if (acc) {
          acc.push({ loc: `F:${base.o}.${e.field}`, write: false, obj: base.o });
          return this.world.field(o, e.field);
        }
        if (o.freed) this.fail('use-after-free', `${this.exprText(e)} reads ${o.name || 'an object'}, which was freed`, t, f.info.fn.name, this.currentRange(f));
        return this.world.field(o, e.field);
      }
      case 'addr': {
        const x = e.operand;
        if (x.kind === 'name') {
          if (f.info.declared.has(x.name) || f.vars.has(x.name)) return { k: 'lref', frame: f.id, name: x.name };
          const id = this.world.names.get(x.name);
          if (id !== undefined && this.program.objectGlobals.has(x.name)) return { k: 'ptr', o: id };
          return { k: 'gref', g: x.name };
        }
        if (x.kind === 'field') {
          const base = this.eval(x.base, f, t, acc);
          return base.k === 'ptr' ? { k: 'ref', o: base.o, f: x.field } : UNKNOWN;
        }
        if (x.kind === 'deref') return this.eval(x.operand, f, t, acc);
        return UNKNOWN;
      }
      case 'deref': {
        const p = this.eval(e.operand, f, t, acc);
        if (p.k === 'lref') return this.frameVar(t, p.frame, p.name) ?? UNKNOWN;
        return UNKNOWN;
      }
      case 'unary': {
        const v = this.eval(e.operand, f, t, acc);
        if (e.op === '!') { const b = truth(v); return b === undefined ? UNKNOWN : int(b ? 0 : 1); }
        if (v.k !== 'int') return UNKNOWN;
        return int(e.op === '-' ? -v.v : ~v.v);
      }
      case 'binary': {
        if (e.op === '&&' || e.op === '||') {
          const l = truth(this.eval(e.left, f, t, acc));
          if (e.op === '&&' && l === false) return ZERO;
          if (e.op === '||' && l === true) return int(1);
          const r = truth(this.eval(e.right, f, t, acc));
          if (r === undefined || l === undefined) return (e.op === '&&' && r === false) ? ZERO : (e.op === '||' && r === true) ? int(1) : UNKNOWN;
          return int(r ? 1 : 0);
        }
        const l = this.eval(e.left, f, t, acc);
        const r = this.eval(e.right, f, t, acc);
        if (e.op === '==' || e.op === '!=') {
          const eq = equal(l, r);
          return eq === undefined ? UNKNOWN : int(eq === (e.op === '==') ? 1 : 0);
        }
        return arith(e.op, l, r);
      }
    }
  }

  private readName(name: string, f: Frame, acc: Access[] | null): SVal {
    const local = f.vars.get(name);
    if (local !== undefined) return local;
    if (f.info.declared.has(name)) return UNKNOWN;
    if (name === 'NULL') return ZERO;
    if (name === 'true') return int(1);
    if (name === 'false') return ZERO;
    const c = this.program.constants.get(name);
    if (c !== undefined) return int(c);
    const id = this.world.names.get(name);
    if (id !== undefined && this.program.objectGlobals.has(name)) return { k: 'ptr', o: id };
    if (acc) acc.push({ loc: `G:${name}`, write: false });
    return this.world.globals.get(name) ?? (this.world.lists.has(`g:${name}`) ? { k: 'gref', g: name } : ZERO);
  }

  private frameVar(t: ThreadState, frame: number, name: string): SVal | undefined {
    if (frame < 0) return this.driverSlot.get(`${-frame}:${name}`);
    return t.frames.find((x) => x.id === frame)?.vars.get(name);
  }

  /** Out-parameters of the calls the harness makes (`struct prison **prp`). */
  private readonly driverSlot = new Map<string, SVal>();

  private location(e: Expr, f: Frame, t: ThreadState, acc: Access[] | null): Loc {
    switch (e.kind) {
      case 'name':
        if (f.info.declared.has(e.name) || f.vars.has(e.name)) return { k: 'var', frame: f.id, name: e.name };
        if (acc) acc.push({ loc: `G:${e.name}`, write: true });
        return { k: 'global', name: e.name };
      case 'field': {
        const base = this.eval(e.base, f, t, acc);
        if (base.k === 'int' && base.v === 0 && base !== UNSET && !acc) this.nullDeref(e, t, f);
        if (base.k !== 'ptr' || !this.world.objects.has(base.o)) return { k: 'none' };
        if (acc) acc.push({ loc: `F:${base.o}.${e.field}`, write: true, obj: base.o });
        else if (this.world.objects.get(base.o)!.freed) {
          this.fail('use-after-free', `${this.exprText(e)} writes ${this.world.objects.get(base.o)!.name || 'an object'}, which was freed`, t, f.info.fn.name, this.currentRange(f));
        }
        return { k: 'field', o: base.o, f: e.field };
      }
      case 'deref': {
        const p = this.eval(e.operand, f, t, acc);
        return p.k === 'lref' ? { k: 'var', frame: p.frame, name: p.name } : { k: 'none' };
      }
      default:
        return { k: 'none' };
    }
  }

  private read(loc: Loc, f: Frame, t: ThreadState): SVal {
    switch (loc.k) {
      case 'var': return this.frameVar(t, loc.frame, loc.name) ?? UNKNOWN;
      case 'global': return this.world.globals.get(loc.name) ?? ZERO;
      case 'field': return this.world.field(this.world.objects.get(loc.o)!, loc.f);
      case 'none': void f; return UNKNOWN;
    }
  }

  private write(loc: Loc, v: SVal, t: ThreadState): void {
    switch (loc.k) {
      case 'var':
        if (loc.frame < 0) this.driverSlot.set(`${-loc.frame}:${loc.name}`, v);
        else t.frames.find((x) => x.id === loc.frame)?.vars.set(loc.name, v);
        return;
      case 'global': this.world.globals.set(loc.name, v); return;
      case 'field': {
        const o = this.world.objects.get(loc.o)!;
        o.fields.set(loc.f, v);
        o.key = undefined;
        return;
      }
      case 'none': return;
    }
  }

  private lockKey(e: Expr, f: Frame, t: ThreadState, acc: Access[] | null): string | undefined {
    if (e.kind === 'name') {
      if (f.vars.has(e.name)) {
        const v = f.vars.get(e.name)!;
        return v.k === 'ref' ? `${v.o}.${v.f}` : v.k === 'gref' ? `g:${v.g}` : undefined;
      }
      return `g:${e.name}`;
    }
    if (e.kind === 'field') {
      const base = this.eval(e.base, f, t, acc);
      if (base.k === 'int' && base.v === 0 && base !== UNSET && !acc) this.nullDeref(e, t, f);
      return base.k === 'ptr' && this.world.objects.has(base.o) ? `${base.o}.${e.field}` : undefined;
    }
    if (e.kind === 'deref' || e.kind === 'addr') return this.lockKey(e.operand, f, t, acc);
    const v = this.eval(e, f, t, acc);
    return v.k === 'ref' ? `${v.o}.${v.f}` : v.k === 'gref' ? `g:${v.g}` : undefined;
  }

  private nullDeref(e: Expr & { kind: 'field' }, t: ThreadState, f: Frame): void {
    this.fail('null-dereference', `${this.exprText(e)}: ${this.exprText(e.base)} is NULL`, t, f.info.fn.name, this.currentRange(f));
  }

  /** A lock inside a freed object is a use after free. */
  private touchObject(key: string, t: ThreadState, fn: string, range: SourceRange): void {
    if (key.startsWith('g:')) return;
    const o = this.world.objects.get(Number(key.slice(0, key.indexOf('.'))));
    if (o?.freed) this.fail('use-after-free', `${this.world.lockName(key)} is used after ${o.name || 'its object'} was freed`, t, fn, range);
  }

  // ---------------------------------------------------------------- footprints

  private opAccess(op: Op, f: Frame, t: ThreadState, acc: Access[]): void {
    switch (op.kind) {
      case 'lock':
      case 'scope-lock': {
        if (op.kind === 'lock' && (op.action === 'assert-held' || op.action === 'assert-not-held')) return;
        const key = this.lockKey(op.lock, f, t, acc);
        const release = op.action === 'release' || op.action === 'downgrade';
        if (key !== undefined) acc.push({ loc: `L:${key}`, write: true, obj: key.startsWith('g:') ? undefined : Number(key.slice(0, key.indexOf('.'))), ...(release ? { release } : {}) });
        return;
      }
      case 'count':
        this.location(op.target, f, t, acc);
        return;
      case 'assign':
        if (op.value.kind !== 'element') this.eval(op.value, f, t, acc);
        this.location(op.target, f, t, acc);
        return;
      case 'assert':
        this.eval(op.cond, f, t, acc);
        return;
      case 'call': {
        for (const a of op.args) this.eval(a, f, t, acc);
        const voc = this.program.config.vocabulary;
        if (this.program.functions.has(op.callee)) return;
        const m = LIST_OP.exec(op.callee);
        if (m) {
          // A list operation writes the list and the element's links.
          for (const a of op.args) {
            const v = this.eval(a, f, t, null);
            if (v.k === 'ptr') acc.push({ loc: `O:${v.o}`, write: true, obj: v.o });
            if (v.k === 'ref') acc.push({ loc: `Q:${v.o}.${v.f}`, write: true });
            if (v.k === 'gref') acc.push({ loc: `Q:g:${v.g}`, write: true });
          }
          acc.push({ loc: 'Q:lists', write: true });
          return;
        }
        if (op.callee === 'crcopysafe' || op.callee === 'proc_set_cred') {
          const p = op.args[0] ? this.eval(op.args[0], f, t, null) : UNKNOWN;
          if (p.k === 'ptr') acc.push({ loc: `F:${p.o}.${CRED_CALLS.procCred}`, write: true, obj: p.o });
          return;
        }
        if (Object.prototype.hasOwnProperty.call(voc.releaseCalls, op.callee)) {
          const a = op.args[voc.releaseCalls[op.callee]!];
          const v = a ? this.eval(a, f, t, null) : UNKNOWN;
          if (v.k === 'ptr') acc.push({ loc: `O:${v.o}`, write: true, freeOf: v.o, obj: v.o });
        }
        return;
      }
    }
  }

  private termAccess(term: Terminator, f: Frame, t: ThreadState, acc: Access[]): void {
    if (term.kind === 'branch') {
      if (term.origin === 'macro-loop') {
        // Walking a list reads every list (an element can move between them).
        if (f.info.loopHeads.get(f.block)?.args.length) acc.push({ loc: 'Q:lists', write: false });
        return;
      }
      this.eval(term.cond, f, t, acc);
    } else if (term.kind === 'return' && term.value) {
      this.eval(term.value, f, t, acc);
    }
  }

  // ---------------------------------------------------------------- violations and traces

  private fail(invariant: InvariantId, message: string, t: ThreadState, fn: string, range: SourceRange): void {
    if (this.invariants && !this.invariants.has(invariant)) return;
    const v: Violation = { invariant, message, thread: t.id, fn, range };
    if (this.options.record) {
      this.record(t, fn, range, `✗ ${message}`);
      v.step = this.trace.length - 1;
    }
    if (FATAL.has(invariant)) this.violation = v;
    // A counter that goes wrong is not yet a panic: the run goes on, and what follows (the KASSERT) is part of the story.
    else if (!this.soft) this.soft = v;
    else this.also.push(v);
  }

  /** The next recorded step is the first after a preemption. */
  preempting = false;

  /** The first violation that does not stop the kernel, while the run goes on. */
  soft?: Violation;

  /** Every violation of the run, first one first. */
  violations(): Violation[] {
    const out: Violation[] = [];
    if (this.soft) out.push(this.soft);
    out.push(...this.also);
    if (this.violation) out.push(this.violation);
    return out;
  }

  /** The operation being executed, for errors met while evaluating it. */
  private at?: SourceRange;

  private currentRange(f: Frame, pending = false): SourceRange {
    if (!pending && this.at) return this.at;
    const block = f.info.fn.blocks[f.block]!;
    const op = pending ? block.ops[f.op] : block.ops[f.op - 1] ?? block.ops[f.op];
    return op?.range ?? (block.term.kind !== 'jump' ? block.term.range : f.info.fn.range);
  }

  private exprText(e: Expr): string {
    switch (e.kind) {
      case 'name': return e.name;
      case 'field': return `${this.exprText(e.base)}${e.arrow ? '->' : '.'}${e.field}`;
      case 'addr': return `&${this.exprText(e.operand)}`;
      case 'deref': return `*${this.exprText(e.operand)}`;
      default: return '…';
    }
  }

  private show(v: SVal): string {
    switch (v.k) {
      case 'int': return String(v.v);
      case 'ptr': return this.world.objects.get(v.o)?.name || 'an object';
      case 'unknown': return 'unknown';
      default: return valueKey(v);
    }
  }

  private record(t: ThreadState, fn: string, range: SourceRange, operation: string): void {
    if (!this.options.record) return;
    const a = t.announce;
    t.announce = undefined;
    if (a && a.text !== operation) this.record(t, a.fn, a.range, a.text);
    const locks: LockHolding[] = this.world.holdings().map((h) => ({ lock: this.world.lockName(h.key), thread: h.thread, mode: h.mode }));
    const counters: Record<string, number> = {};
    for (const o of this.world.objects.values()) {
      if (!o.name || o.kind !== 'prison') continue;
      for (const c of this.program.config.vocabulary.counterFields) {
        const v = o.fields.get(c);
        if (v?.k === 'int') counters[`${o.name}.${c}`] = v.v;
      }
    }
    const step: ScheduleStep = { thread: t.id, function: fn, range, operation, locks, counters,
      ...(this.pendingChoice ? { choice: this.pendingChoice } : {}), ...(this.preempting ? { preemption: true } : {}) };
    this.pendingChoice = undefined;
    this.preempting = false;
    this.trace.push(step);
  }
}

type Loc =
  | { readonly k: 'var'; readonly frame: number; readonly name: string }
  | { readonly k: 'global'; readonly name: string }
  | { readonly k: 'field'; readonly o: number; readonly f: string }
  | { readonly k: 'none' };

function arith(op: string, l: SVal, r: SVal): SVal {
  if (l.k !== 'int' || r.k !== 'int') return UNKNOWN;
  const a = l.v;
  const b = r.v;
  switch (op) {
    case '+': return int(a + b);
    case '-': return int(a - b);
    case '*': return int(a * b);
    case '/': return b === 0 ? UNKNOWN : int(Math.trunc(a / b));
    case '%': return b === 0 ? UNKNOWN : int(a % b);
    case '&': return int(a & b);
    case '|': return int(a | b);
    case '^': return int(a ^ b);
    case '<<': return int(a << b);
    case '>>': return int(a >> b);
    case '<': return int(a < b ? 1 : 0);
    case '<=': return int(a <= b ? 1 : 0);
    case '>': return int(a > b ? 1 : 0);
    case '>=': return int(a >= b ? 1 : 0);
    default: return UNKNOWN;
  }
}

function describeChange(op: CountOp): string {
  const c = op.change;
  switch (c.kind) {
    case 'add': return c.amount === 1 ? `${op.targetText}++` : c.amount === -1 ? `${op.targetText}--` : `${op.targetText} += ${c.amount}`;
    case 'set': return `${op.targetText} = ${c.value ?? '…'}`;
    default: return op.targetText;
  }
}
