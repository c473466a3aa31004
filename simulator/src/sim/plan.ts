/**
 * What a simulated thread does: a short list of calls into the file, with
 * the locks each call's contract needs taken before it (by a "caller" the
 * harness plays) and the locks it hands back released after it.
 */
import type { LockClass, LockMode } from '../ir';

/** An argument of a planned call, in terms of the world. */
export type ArgSpec =
  /** A named object: a jail (`A`, `prison0`); `@p2` is the jail process p2 is in when the call is made. */
  | { readonly k: 'obj'; readonly name: string }
  /** A field of a named object, read when the call is made: `A.pr_id`. */
  | { readonly k: 'field'; readonly name: string; readonly field: string }
  | { readonly k: 'int'; readonly v: number; readonly text?: string }
  | { readonly k: 'str' }
  | { readonly k: 'null' }
  /** A process's `struct thread`, `struct proc` or `struct ucred`: the calling thread's own unless named. */
  | { readonly k: 'td' | 'proc' | 'cred'; readonly process?: string }
  /** A pointer to a fresh variable the callee writes (`struct prison **prp`). */
  | { readonly k: 'out' };

export interface CallSpec {
  readonly fn: string;
  readonly args: readonly ArgSpec[];
  /** As the user reads it: `prison_deref(A, PD_DEREF | PD_DEUREF)`. */
  readonly text: string;
  /** The call creates a jail under `parent`: name it. */
  readonly creates?: { readonly name: string; readonly parent: string };
}

/** A lock a call needs held, in terms of its arguments. */
export type LockTarget =
  | { readonly global: string }
  /** `args[arg]`'s field, `up` levels up the parent chain. */
  | { readonly arg: number; readonly field: string; readonly up: number };

export interface LockNeed {
  readonly target: LockTarget;
  readonly mode: LockMode;
  readonly lockClass: LockClass;
  /** Why the caller holds it: "PD_LIST_XLOCKED promises it", "do_jail_attach() asserts it". */
  readonly why: string;
}

export interface PlannedCall {
  readonly call: CallSpec;
  readonly needs: readonly LockNeed[];
  /** The callee promises to release every lock its contract names (prison_deref). */
  readonly releasesAll: boolean;
}

export interface ThreadSpec {
  /** The process the thread acts for (its td, proc and ucred). */
  readonly process: string;
  readonly calls: readonly PlannedCall[];
}
