/**
 * One row of the reference ledger: a place where a counter changes, and what
 * that change means to the jail it belongs to and to its parent.
 */
import type { LedgerEvent } from '../config';
import type { SourceRange } from '../ir';

/** Whose counter: the jail the event is about, or one of its ancestors (1 = its parent). */
export type Whose = { readonly kind: 'self' } | { readonly kind: 'ancestor'; readonly level: number | 'any' };

/**
 * What the change can do to the counter: `rise` 0 → 1 (a jail becoming
 * alive), `fall` 1 → 0 (losing its last reference), or `none` (it cannot
 * cross zero here, by the guards around it).
 */
export type Transition = 'rise' | 'fall' | 'none';

/**
 * Why an ancestor's counter changes: the jail below it `fell` or `rose` on
 * this path, it was `freed`, it is being `created`, or `unconditional`.
 */
export type Cause = 'fell' | 'rose' | 'freed' | 'created' | 'unconditional';

export interface LedgerRow {
  readonly counter: string;
  readonly function: string;
  readonly range: SourceRange;
  /** The counter as written, e.g. `tpr->pr_uref`. */
  readonly target: string;
  readonly direction: 'increment' | 'decrement' | 'set';
  readonly whose: Whose;
  readonly transition: Transition;
  readonly cause: Cause;
  readonly event: LedgerEvent;
  /** Whether the jail the event is about was allocated on this path. */
  readonly fresh: boolean;
  /** The path condition in flag bits, e.g. "flags & PD_DEUREF", or '' when unconditional. */
  readonly condition: string;
  /** The call through which the change happens, for changes made by a callee. */
  readonly via?: string;
}
