/**
 * The vocabulary jailcheck understands: which calls are lock operations,
 * which struct fields are reference counters, what the PD_* flag bits promise
 * about locks. It is configuration, not code, so the checks can be pointed at
 * other files with the same habits; the defaults describe FreeBSD's
 * kern_jail.c. Every field is plain data so it can come from VS Code
 * settings or a JSON file.
 */
import type { LockAction, LockClass, LockMode } from './ir';

export interface LockFunction {
  readonly action: LockAction;
  readonly lockClass: LockClass;
  readonly mode?: LockMode;
  /** Which argument names the lock (its `&` is stripped). */
  readonly lockArg: number;
  /** For wrappers such as PROC_LOCK(p): the lock is `arg->field`. */
  readonly field?: string;
  /** For assertions: the argument holding MA_OWNED / SA_XLOCKED / … */
  readonly modeArg?: number;
  /** For try functions: the value returned on success when it is not 1 (sx_xlock_sig returns 0). */
  readonly successValue?: number;
}

export interface RefcountFunction {
  /** Which argument is `&counter`. */
  readonly counterArg: number;
  readonly effect: 'acquire' | 'release' | 'init' | 'release-if-not-last' | 'acquire-if-not-zero' | 'read';
  /** For refcount_acquiren/releasen and refcount_init: the argument holding the amount or value. */
  readonly amountArg?: number;
}

/** How an iteration macro used as a loop header behaves. */
export interface LoopMacro {
  /** Arguments that the macro assigns on every trip (the iteration variables). */
  readonly assigns: readonly number[];
  /** For *_LOCKED macros: `arg->field` is held for the body. */
  readonly holds?: { readonly arg: number; readonly field: string; readonly lockClass: LockClass };
}

/** What a flag bit passed to a function promises about locks held on entry. */
export interface FlagContract {
  readonly bit: string;
  /** `param-field`: a field of the first parameter pointing to `struct`; `global`: a named lock. */
  readonly lock:
    | { readonly kind: 'param-field'; readonly struct: string; readonly field: string }
    | { readonly kind: 'global'; readonly name: string };
  readonly lockClass: LockClass;
  readonly mode: LockMode;
}

export interface Vocabulary {
  readonly locks: Readonly<Record<string, LockFunction>>;
  /** Calls that drop and retake a lock they are given (msleep): no net effect. */
  readonly lockNeutralCalls: readonly string[];
  /** Assertion-mode names and what they assert. */
  readonly assertModes: Readonly<Record<string, { readonly held: boolean; readonly mode?: LockMode }>>;
  readonly refcountFunctions: Readonly<Record<string, RefcountFunction>>;
  /** Struct fields that are reference counters. */
  readonly counterFields: readonly string[];
  /** The field that points to an object's parent (a loop that follows it walks a chain). */
  readonly parentField: string;
  /** The struct whose objects carry the counters. */
  readonly objectStruct: string;
  /** The root object that must never lose its last user reference. */
  readonly rootObject: string;
  readonly assertMacros: Readonly<Record<string, { readonly condArg: number }>>;
  /** Calls after which a path does not continue. */
  readonly noReturnCalls: readonly string[];
  readonly loopMacros: Readonly<Record<string, LoopMacro>>;
  /** Any call whose name matches this and is followed by a body is an iteration macro. */
  readonly loopMacroPattern: string;
  /** Identifiers that are flag bits (tested with `&`, combined with `|`). */
  readonly flagBitPattern: string;
  /** Flag macros that stand for several bits. */
  readonly flagGroups: Readonly<Record<string, readonly string[]>>;
  readonly flagContracts: readonly FlagContract[];
  /** Functions that promise to release every contract lock before returning (prison_deref). */
  readonly releasesContractLocks: readonly string[];
  /** Calls that free an object or take it off the list of live objects, by the argument that names it. */
  readonly releaseCalls: Readonly<Record<string, number>>;
  /** The counter whose zero means "dead" (user references), for the parent-reference ledger. */
  readonly liveCounter: string;
  /** The flag bit that makes an object persist (holds a live reference of its own). */
  readonly persistFlag: string;
  /** Event names of the ledger, by the function names they are recognised in (regular expressions). */
  readonly events: ReadonlyArray<{ readonly event: LedgerEvent; readonly functions: string }>;
  /** Preprocessor symbols taken as defined / undefined; any other #ifdef is explored both ways. */
  readonly defines: Readonly<Record<string, boolean>>;
}

/** What happens to a jail at a counter change, in the reviewer's words (ledger columns). */
export type LedgerEvent =
  | 'create' | 'attach' | 'fork' | 'process-exit' | 'persist-set' | 'persist-clear'
  | 'dying' | 'free' | 'hold' | 'release' | 'remove' | 'other';

export interface Bounds {
  /** How many distinct ancestors a loop that walks the parent chain names before they blur. */
  readonly ancestorDepth: number;
  /** Abstract states kept at one program point before the function is cut short. */
  readonly maxStatesPerPoint: number;
  /** Total state transitions per function before it is cut short. */
  readonly maxSteps: number;
  /** Counter deltas and values beyond this are "many". */
  readonly counterLimit: number;
}

export interface JailcheckConfig {
  readonly vocabulary: Vocabulary;
  readonly bounds: Bounds;
}

const mtx = (action: LockAction, mode?: LockMode): LockFunction => ({ action, lockClass: 'mtx', mode, lockArg: 0 });
const sx = (action: LockAction, mode?: LockMode, extra: Partial<LockFunction> = {}): LockFunction =>
  ({ action, lockClass: 'sx', mode, lockArg: 0, ...extra });
const rw = (action: LockAction, mode?: LockMode, extra: Partial<LockFunction> = {}): LockFunction =>
  ({ action, lockClass: 'rw', mode, lockArg: 0, ...extra });
const procMtx = (action: LockAction, mode?: LockMode, extra: Partial<LockFunction> = {}): LockFunction =>
  ({ action, lockClass: 'mtx', mode, lockArg: 0, field: 'p_mtx', ...extra });

export const FREEBSD_VOCABULARY: Vocabulary = {
  locks: {
    mtx_lock: mtx('acquire', 'exclusive'),
    mtx_lock_spin: mtx('acquire', 'exclusive'),
    mtx_lock_flags: mtx('acquire', 'exclusive'),
    mtx_unlock: mtx('release'),
    mtx_unlock_spin: mtx('release'),
    mtx_unlock_flags: mtx('release'),
    mtx_trylock: mtx('try-acquire', 'exclusive'),
    mtx_trylock_spin: mtx('try-acquire', 'exclusive'),
    mtx_assert: { action: 'assert-held', lockClass: 'mtx', lockArg: 0, modeArg: 1 },
    sx_slock: sx('acquire', 'shared'),
    sx_xlock: sx('acquire', 'exclusive'),
    sx_slock_sig: sx('try-acquire', 'shared', { successValue: 0 }),
    sx_xlock_sig: sx('try-acquire', 'exclusive', { successValue: 0 }),
    sx_try_slock: sx('try-acquire', 'shared'),
    sx_try_xlock: sx('try-acquire', 'exclusive'),
    sx_sunlock: sx('release', 'shared'),
    sx_xunlock: sx('release', 'exclusive'),
    sx_unlock: sx('release'),
    sx_try_upgrade: sx('try-upgrade', 'exclusive'),
    sx_downgrade: sx('downgrade', 'shared'),
    sx_assert: sx('assert-held', undefined, { modeArg: 1 }),
    rw_rlock: rw('acquire', 'shared'),
    rw_wlock: rw('acquire', 'exclusive'),
    rw_try_rlock: rw('try-acquire', 'shared'),
    rw_try_wlock: rw('try-acquire', 'exclusive'),
    rw_runlock: rw('release', 'shared'),
    rw_wunlock: rw('release', 'exclusive'),
    rw_unlock: rw('release'),
    rw_try_upgrade: rw('try-upgrade', 'exclusive'),
    rw_downgrade: rw('downgrade', 'shared'),
    rw_assert: rw('assert-held', undefined, { modeArg: 1 }),
    PROC_LOCK: procMtx('acquire', 'exclusive'),
    PROC_UNLOCK: procMtx('release'),
    PROC_TRYLOCK: procMtx('try-acquire', 'exclusive'),
    PROC_LOCK_ASSERT: procMtx('assert-held', undefined, { modeArg: 1 }),
    PROC_SLOCK: { action: 'acquire', lockClass: 'mtx', mode: 'exclusive', lockArg: 0, field: 'p_slock' },
    PROC_SUNLOCK: { action: 'release', lockClass: 'mtx', lockArg: 0, field: 'p_slock' },
  },
  lockNeutralCalls: ['msleep', 'mtx_sleep', 'sx_sleep', 'rw_sleep', 'cv_wait', 'cv_wait_sig', 'cv_timedwait',
    'msleep_spin', 'lockmgr_sleep', 'mtx_init', 'mtx_destroy', 'sx_init', 'sx_destroy', 'rw_init', 'rw_destroy'],
  assertModes: {
    MA_OWNED: { held: true, mode: 'exclusive' },
    MA_NOTOWNED: { held: false },
    SA_XLOCKED: { held: true, mode: 'exclusive' },
    SA_SLOCKED: { held: true, mode: 'shared' },
    SA_LOCKED: { held: true },
    SA_UNLOCKED: { held: false },
    SX_XLOCKED: { held: true, mode: 'exclusive' },
    SX_SLOCKED: { held: true, mode: 'shared' },
    SX_LOCKED: { held: true },
    SX_UNLOCKED: { held: false },
    RA_WLOCKED: { held: true, mode: 'exclusive' },
    RA_RLOCKED: { held: true, mode: 'shared' },
    RA_LOCKED: { held: true },
    RA_UNLOCKED: { held: false },
  },
  refcountFunctions: {
    refcount_acquire: { counterArg: 0, effect: 'acquire' },
    refcount_acquiren: { counterArg: 0, effect: 'acquire', amountArg: 1 },
    refcount_release: { counterArg: 0, effect: 'release' },
    refcount_releasen: { counterArg: 0, effect: 'release', amountArg: 1 },
    refcount_init: { counterArg: 0, effect: 'init', amountArg: 1 },
    refcount_release_if_not_last: { counterArg: 0, effect: 'release-if-not-last' },
    refcount_acquire_if_not_zero: { counterArg: 0, effect: 'acquire-if-not-zero' },
    refcount_load: { counterArg: 0, effect: 'read' },
  },
  counterFields: ['pr_ref', 'pr_uref'],
  parentField: 'pr_parent',
  objectStruct: 'prison',
  rootObject: 'prison0',
  assertMacros: { KASSERT: { condArg: 0 }, MPASS: { condArg: 0 }, VNASSERT: { condArg: 0 } },
  noReturnCalls: ['panic', 'kassert_panic', '__assert_unreachable'],
  loopMacros: {
    FOREACH_PRISON_DESCENDANT: { assigns: [1, 2] },
    FOREACH_PRISON_DESCENDANT_LOCKED: { assigns: [1, 2], holds: { arg: 1, field: 'pr_mtx', lockClass: 'mtx' } },
    FOREACH_PRISON_DESCENDANT_LOCKED_LEVEL: { assigns: [1, 2, 3], holds: { arg: 1, field: 'pr_mtx', lockClass: 'mtx' } },
    FOREACH_PRISON_DESCENDANT_PRE_POST: { assigns: [1, 2] },
    FOREACH_PRISON_CHILD: { assigns: [1] },
    LIST_FOREACH_SAFE: { assigns: [0, 3] },
    TAILQ_FOREACH_SAFE: { assigns: [0, 3] },
    TAILQ_FOREACH_REVERSE_SAFE: { assigns: [0, 4] },
    STAILQ_FOREACH_SAFE: { assigns: [0, 3] },
    SLIST_FOREACH_SAFE: { assigns: [0, 3] },
  },
  loopMacroPattern: 'FOREACH',
  flagBitPattern: '^PD_',
  flagGroups: {
    PD_OP_FLAGS: ['PD_DEREF', 'PD_DEUREF', 'PD_KILL'],
    PD_LOCK_FLAGS: ['PD_LOCKED', 'PD_LIST_SLOCKED', 'PD_LIST_XLOCKED'],
  },
  flagContracts: [
    { bit: 'PD_LOCKED', lock: { kind: 'param-field', struct: 'prison', field: 'pr_mtx' }, lockClass: 'mtx', mode: 'exclusive' },
    { bit: 'PD_LIST_SLOCKED', lock: { kind: 'global', name: 'allprison_lock' }, lockClass: 'sx', mode: 'shared' },
    { bit: 'PD_LIST_XLOCKED', lock: { kind: 'global', name: 'allprison_lock' }, lockClass: 'sx', mode: 'exclusive' },
  ],
  releasesContractLocks: ['prison_deref'],
  releaseCalls: { free: 0, uma_zfree: 1, TAILQ_REMOVE: 1, LIST_REMOVE: 0 },
  liveCounter: 'pr_uref',
  persistFlag: 'PR_PERSIST',
  events: [
    { event: 'attach', functions: 'attach' },
    { event: 'fork', functions: 'proc_hold' },
    { event: 'process-exit', functions: 'proc_free' },
    { event: 'dying', functions: 'deref|cleanup|kill' },
    { event: 'hold', functions: 'hold' },
    { event: 'release', functions: 'free' },
    { event: 'remove', functions: 'remove' },
  ],
  defines: {},
};

export const DEFAULT_BOUNDS: Bounds = {
  ancestorDepth: 3,
  maxStatesPerPoint: 1024,
  maxSteps: 200_000,
  counterLimit: 4,
};

export const DEFAULT_CONFIG: JailcheckConfig = { vocabulary: FREEBSD_VOCABULARY, bounds: DEFAULT_BOUNDS };

/** Overrides as they come from settings or a JSON file: any subset of the fields. */
export interface ConfigOverrides {
  readonly vocabulary?: Partial<Vocabulary>;
  readonly bounds?: Partial<Bounds>;
}

/**
 * Lays user overrides over the defaults. Record-valued vocabulary entries
 * (locks, refcount functions, …) are merged key by key, so a user adds a
 * wrapper without restating the whole table; lists are replaced.
 */
export function resolveConfig(overrides: ConfigOverrides = {}, base: JailcheckConfig = DEFAULT_CONFIG): JailcheckConfig {
  const v = overrides.vocabulary ?? {};
  const merged: Record<string, unknown> = { ...base.vocabulary };
  for (const [key, value] of Object.entries(v)) {
    if (value === undefined) continue;
    const current = (base.vocabulary as unknown as Record<string, unknown>)[key];
    const isRecord = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x);
    merged[key] = isRecord(current) && isRecord(value) ? { ...current, ...value } : value;
  }
  return {
    vocabulary: merged as unknown as Vocabulary,
    bounds: { ...base.bounds, ...(overrides.bounds ?? {}) },
  };
}
