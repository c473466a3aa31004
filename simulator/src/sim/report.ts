/**
 * What a simulation returns: per scenario a verdict, the coverage reached,
 * and the shortest counterexample found. Plain data (it crosses the language
 * server protocol and is printed by `jailcheck simulate --format json`;
 * docs/simulate.md describes it).
 */
import type { SourceRange } from '../ir';

export type Verdict = 'violation' | 'ok' | 'incomplete';

export interface LockHolding {
  readonly lock: string;
  readonly thread: number;
  readonly mode: 'exclusive' | 'shared';
}

export interface ScheduleStep {
  readonly thread: number;
  readonly function: string;
  readonly range: SourceRange;
  /** What happened: "mtx_lock(&pr->pr_mtx)", "--tpr->pr_uref > 0 is false". */
  readonly operation: string;
  /** Locks held after the step, with their holders. */
  readonly locks: readonly LockHolding[];
  /** Counter values after the step, e.g. { "A.pr_uref": 0, "prison0.pr_uref": 1 }. */
  readonly counters: Readonly<Record<string, number>>;
  /** A nondeterministic choice the model made here, when it made one. */
  readonly choice?: string;
  /** This step's thread took over from one that could have gone on: a preemption. */
  readonly preemption?: boolean;
}

export interface ViolationAt {
  readonly invariant: string;
  readonly message: string;
  readonly thread: number;
  readonly function: string;
  readonly range: SourceRange;
  /** Index into the counterexample's steps. */
  readonly step: number;
}

export interface Counterexample {
  /** The invariant broken, by id (see INVARIANTS in machine.ts): kassert, counter-negative, root-uref-zero, lock-owner, lock-mode, held-at-exit, deadlock, use-after-free. */
  readonly invariant: string;
  readonly message: string;
  /** Context switches away from a thread that could have continued; 0 means one thread alone hits it. */
  readonly preemptions: number;
  /** "logic error (no preemption needed)" or "race (N preemptions)". */
  readonly label: string;
  readonly steps: readonly ScheduleStep[];
  /** Where it breaks: the thread, the function, the line, and the step. */
  readonly at: ViolationAt;
  /** What else the same execution broke afterwards (the KASSERT that fires after a counter reaches zero). */
  readonly also: readonly ViolationAt[];
}

export interface ThreadPlan {
  readonly thread: number;
  /** The calls the thread makes, in order: "prison_deref(A, PD_DEUREF | PD_DEREF)". */
  readonly calls: readonly string[];
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly verdict: Verdict;
  readonly threads: readonly ThreadPlan[];
  readonly executions: number;
  readonly states: number;
  /** Bounds that cut exploration short, in words; empty when exploration was exhaustive. */
  readonly boundsReached: readonly string[];
  /** Whether every interleaving was explored (not only those within the preemption bound). */
  readonly exhaustive: boolean;
  /** The largest preemption bound explored. */
  readonly preemptionBound: number;
  /** How the starting world came to be: `built` by the file's own functions from boot, or `stated`. */
  readonly world: 'built' | 'stated';
  /** How the starting world was built, one line per operation. */
  readonly setup: readonly string[];
  readonly counterexample?: Counterexample;
  /** With --compare-reduction: the same scenario explored without any bound, with and without sleep sets. */
  readonly reduction?: ReductionComparison;
}

export interface ReductionComparison {
  readonly withReduction: { readonly executions: number; readonly verdict: Verdict };
  readonly withoutReduction: { readonly executions: number; readonly verdict: Verdict };
  /** Every interleaving, with source-set DPOR and sleep sets. */
  readonly withDpor: { readonly executions: number; readonly verdict: Verdict };
}

export interface SimulationReport {
  readonly function: string;
  readonly scenarios: readonly ScenarioResult[];
  readonly elapsedMs: number;
  /** How the #if groups inside functions were decided (one kernel configuration per simulation). */
  readonly configuration?: readonly string[];
}
