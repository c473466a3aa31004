/**
 * The intermediate representation that the C front end produces and every
 * check consumes. Architecture invariant: everything here is plain data —
 * no classes, no tree-sitter nodes, nothing that JSON.stringify would lose.
 * Source positions are UTF-16 offsets into the file text; front ends turn
 * them into lines and columns.
 */

export interface SourceRange {
  readonly start: number;
  readonly end: number;
}

export type BinaryOperator =
  | '&&' | '||' | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '&' | '|' | '^' | '<<' | '>>' | '+' | '-' | '*' | '/' | '%';

/** A side-effect-free expression. Side effects are lowered into {@link Op}s. */
export type Expr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'str' }
  /** An identifier: a variable, a parameter, a global, or a macro constant. */
  | { readonly kind: 'name'; readonly name: string }
  /** `base->field` or `base.field`. */
  | { readonly kind: 'field'; readonly base: Expr; readonly field: string; readonly arrow: boolean }
  | { readonly kind: 'addr'; readonly operand: Expr }
  | { readonly kind: 'deref'; readonly operand: Expr }
  | { readonly kind: 'unary'; readonly op: '!' | '-' | '~'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr }
  /**
   * The next element an iteration macro yields: a valid, non-NULL object.
   * `args` are the macro's arguments (the list head, the parent…), for the
   * simulator, which walks the lists of its world.
   */
  | { readonly kind: 'element'; readonly macro: string; readonly args?: readonly Expr[] }
  /** The value an earlier op left in a temporary (a call's result, a counter's value). */
  | { readonly kind: 'temp'; readonly id: number }
  /** Something the front end could not express; `text` is the source, for messages. */
  | { readonly kind: 'unknown'; readonly text: string };

export type LockClass = 'mtx' | 'sx' | 'rw' | 'lockmgr';
export type LockMode = 'exclusive' | 'shared';

/**
 * What a lock operation does. `assert-*` come from mtx_assert/sx_assert and
 * say what the code believes, which the checks both use (entry contracts)
 * and verify.
 */
export type LockAction =
  | 'acquire'
  | 'release'
  | 'try-acquire'
  | 'try-upgrade'
  | 'upgrade'
  | 'downgrade'
  | 'assert-held'
  | 'assert-not-held';

export interface LockOp {
  readonly kind: 'lock';
  readonly action: LockAction;
  /** The lock object, e.g. `pr->pr_mtx` or `allprison_lock` (the `&` stripped). */
  readonly lock: Expr;
  /** The lock as written, for messages. */
  readonly lockText: string;
  readonly lockClass: LockClass;
  /** For acquire/try/assert: the mode. `undefined` means any mode (sx_unlock, SA_LOCKED). */
  readonly mode?: LockMode;
  /** For try-acquire / try-upgrade: the temp holding 1 on success, 0 on failure. */
  readonly result?: number;
  readonly callee: string;
  readonly range: SourceRange;
}

/**
 * How a counter changes. `before`/`after` results let conditions such as
 * `if (--tpr->pr_uref > 0)` refer to the counter's value around the change.
 */
export type CountChange =
  | { readonly kind: 'add'; readonly amount: number }
  | { readonly kind: 'set'; readonly value: number | null }
  /** refcount_release(): -1, result is 1 when the counter reached zero. */
  | { readonly kind: 'release'; readonly amount: number }
  /** refcount_release_if_not_last(): -1 unless the counter is 1; result 1 when it released. */
  | { readonly kind: 'release-if-not-last' }
  /** refcount_acquire_if_not_zero(): +1 unless the counter is 0; result 1 when it acquired. */
  | { readonly kind: 'acquire-if-not-zero' };

export interface CountOp {
  readonly kind: 'count';
  /** The counter lvalue, e.g. `tpr->pr_uref`. */
  readonly target: Expr;
  readonly targetText: string;
  /** The counter's field name, e.g. `pr_uref`. */
  readonly counter: string;
  readonly change: CountChange;
  /** Temp receiving a value: see {@link resultIs}. */
  readonly result?: number;
  /** What the result temp holds: the counter before or after the change, or a success flag. */
  readonly resultIs?: 'before' | 'after' | 'flag';
  /** The refcount(9) function, when the change is written as a call. */
  readonly callee?: string;
  readonly range: SourceRange;
}

export type AssignOperator = '=' | '|=' | '&=' | '+=' | '-=' | '^=' | '*=' | '/=' | '<<=' | '>>=' | '%=';

export interface AssignOp {
  readonly kind: 'assign';
  readonly target: Expr;
  readonly targetText: string;
  readonly op: AssignOperator;
  readonly value: Expr;
  readonly range: SourceRange;
}

export interface CallOp {
  readonly kind: 'call';
  readonly callee: string;
  readonly args: readonly Expr[];
  /** Source text of each argument, for messages. */
  readonly argTexts: readonly string[];
  /** Temp receiving the return value. */
  readonly result?: number;
  readonly range: SourceRange;
}

/** `KASSERT(cond, (...))`, `MPASS(cond)`: the code's own statement of an invariant. */
export interface AssertOp {
  readonly kind: 'assert';
  readonly cond: Expr;
  readonly condText: string;
  readonly macro: string;
  readonly range: SourceRange;
}

/**
 * Entering or leaving the body of an iteration macro that holds a lock for
 * the body (FOREACH_PRISON_DESCENDANT_LOCKED holds the child's pr_mtx).
 */
export interface ScopeLockOp {
  readonly kind: 'scope-lock';
  readonly action: 'acquire' | 'release';
  readonly lock: Expr;
  readonly lockText: string;
  readonly lockClass: LockClass;
  readonly macro: string;
  readonly range: SourceRange;
}

export type Op = LockOp | CountOp | AssignOp | CallOp | AssertOp | ScopeLockOp;

export type Terminator =
  | { readonly kind: 'jump'; readonly target: number }
  /**
   * A two-way branch. `cond` may be `unknown` (an #ifdef with no configured
   * answer, an iteration macro's "another element?"); both sides are then
   * feasible. `origin` says where the choice came from, for traces.
   */
  | {
      readonly kind: 'branch';
      readonly cond: Expr;
      readonly condText: string;
      readonly whenTrue: number;
      readonly whenFalse: number;
      readonly origin: 'if' | 'loop' | 'switch' | 'preprocessor' | 'short-circuit' | 'macro-loop' | 'ternary';
      readonly range: SourceRange;
    }
  | { readonly kind: 'return'; readonly value?: Expr; readonly valueText?: string; readonly range: SourceRange }
  /** panic() and friends: the path ends without returning. */
  | { readonly kind: 'abort'; readonly range: SourceRange };

export interface Block {
  readonly id: number;
  readonly ops: Op[];
  term: Terminator;
  /** A `goto` label that starts here. */
  label?: string;
}

export interface TypeInfo {
  /** The type as written, e.g. `struct prison *`. */
  readonly text: string;
  /** The struct's tag when the type is a struct or a pointer to one. */
  readonly struct?: string;
  readonly pointer: number;
}

export interface Variable {
  readonly name: string;
  readonly type: TypeInfo;
  readonly range: SourceRange;
}

export interface ExtractionProblem {
  readonly message: string;
  readonly range: SourceRange;
}

export interface FunctionIR {
  readonly name: string;
  readonly range: SourceRange;
  readonly nameRange: SourceRange;
  readonly params: readonly Variable[];
  readonly locals: readonly Variable[];
  readonly returnType: TypeInfo;
  readonly isStatic: boolean;
  /** The comment block just above the definition, if any (contracts live there). */
  readonly comment?: string;
  readonly blocks: Block[];
  readonly entry: number;
  /** Problems met while reading this function; a function with any is not analysed. */
  readonly problems: readonly ExtractionProblem[];
  /** Temps are numbered per function; this is one past the largest. */
  readonly tempCount: number;
}

/**
 * A file-scope variable's initializer, as far as it is a constant:
 * `static int lastprid = 0;` has a `value`; `struct prison prison0 = {
 * .pr_ref = 1, ... }` has `fields`. The simulator boots its world from these.
 */
export interface GlobalInit {
  readonly value?: Expr;
  readonly fields?: Readonly<Record<string, Expr>>;
  readonly range: SourceRange;
}

export interface FileIR {
  readonly functions: FunctionIR[];
  /** Problems outside any function (a definition that could not be read at all). */
  readonly problems: readonly ExtractionProblem[];
  /** `#define NAME value` constants the file itself defines (PD_* flags, for instance). */
  readonly constants: Readonly<Record<string, number>>;
  /** Initialized file-scope variables (prison0's fields, lastprid), by name. */
  readonly globals?: Readonly<Record<string, GlobalInit>>;
}
