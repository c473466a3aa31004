/**
 * Findings are what every front end renders: the CLI's text, JSON and SARIF,
 * the language server's diagnostics, the patch review. Architecture
 * invariant: a finding is plain data that survives JSON.stringify.
 */
import type { SourceRange } from './ir';

export type Severity = 'error' | 'warning' | 'information';

export type RuleId =
  | 'lock-held-at-return'
  | 'lock-release-not-held'
  | 'lock-double-acquire'
  | 'lock-wrong-mode'
  | 'lock-join-mismatch'
  | 'lock-assert-fails'
  | 'lock-contract-violated'
  | 'refcount-inconsistent-paths'
  | 'refcount-below-zero'
  | 'uref-parent-asymmetry'
  | 'interleaving-violation'
  | 'analysis-incomplete'
  | 'parse-problem'
  | 'unmodelled-call';

/** One step of the path (or schedule) that shows a finding. */
export interface FindingStep {
  readonly range: SourceRange;
  /** One line: what happens here ("pr->pr_mtx acquired (tpr == pr on the first trip)"). */
  readonly message: string;
  /** Locks held after the step, as the reader would write them. */
  readonly locks?: readonly string[];
  /** For schedules: which thread ran the step. */
  readonly thread?: number;
}

/** Another place that explains the finding (a creation increment, a revival site). */
export interface RelatedSite {
  readonly range: SourceRange;
  readonly message: string;
}

export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly message: string;
  /** The function the finding is in (for the ledger: the function of the primary site). */
  readonly function: string;
  readonly range: SourceRange;
  readonly steps: readonly FindingStep[];
  readonly related: readonly RelatedSite[];
  /** For interleaving findings: 0 means one thread alone can hit it. */
  readonly preemptions?: number;
}

export interface RuleInfo {
  readonly id: RuleId;
  readonly severity: Severity;
  readonly title: string;
  readonly help: string;
}

export const RULES: Readonly<Record<RuleId, RuleInfo>> = {
  'lock-held-at-return': {
    id: 'lock-held-at-return', severity: 'error', title: 'Lock still held at return',
    help: 'A path returns holding a lock that other paths with the same entry conditions and result release, or that the function promises to release.',
  },
  'lock-release-not-held': {
    id: 'lock-release-not-held', severity: 'error', title: 'Release of a lock not held',
    help: 'A lock is released on a path where it is not held.',
  },
  'lock-double-acquire': {
    id: 'lock-double-acquire', severity: 'error', title: 'Acquire of a lock already held',
    help: 'A non-recursive lock is acquired on a path where the same thread already holds it: the thread would deadlock or panic.',
  },
  'lock-wrong-mode': {
    id: 'lock-wrong-mode', severity: 'error', title: 'Release in the wrong mode',
    help: 'A shared hold is released as exclusive, or the reverse (sx_xunlock on a shared sx lock).',
  },
  'lock-join-mismatch': {
    id: 'lock-join-mismatch', severity: 'warning', title: 'Paths join with different locks held',
    help: 'Two paths that the code cannot tell apart meet with a lock held on one and not on the other.',
  },
  'lock-assert-fails': {
    id: 'lock-assert-fails', severity: 'error', title: 'Lock assertion fails',
    help: 'mtx_assert/sx_assert states a lock state that does not hold on some path.',
  },
  'lock-contract-violated': {
    id: 'lock-contract-violated', severity: 'error', title: 'Flags promise a lock the caller does not hold',
    help: 'A call passes PD_LOCKED or PD_LIST_*LOCKED while the lock that flag promises is not held, or is held in another mode.',
  },
  'refcount-inconsistent-paths': {
    id: 'refcount-inconsistent-paths', severity: 'warning', title: 'Paths change a reference count by different amounts',
    help: 'Two paths that the caller cannot tell apart (same flags, same result) leave a counter changed by different amounts.',
  },
  'refcount-below-zero': {
    id: 'refcount-below-zero', severity: 'error', title: 'Counter decremented below zero',
    help: 'A decrement happens on a path where the counter is already known to be zero.',
  },
  'uref-parent-asymmetry': {
    id: 'uref-parent-asymmetry', severity: 'error', title: 'Parent user reference asymmetry',
    help: 'The ways a jail becomes alive and the ways it dies do not take and give back the same references on its parent.',
  },
  'interleaving-violation': {
    id: 'interleaving-violation', severity: 'error', title: 'A schedule breaks an invariant',
    help: 'The simulator found a schedule of threads running the file\'s functions that breaks an invariant.',
  },
  'analysis-incomplete': {
    id: 'analysis-incomplete', severity: 'information', title: 'Analysis cut short',
    help: 'A budget was reached; raise the bound named in the message to explore further.',
  },
  'parse-problem': {
    id: 'parse-problem', severity: 'information', title: 'Function could not be read',
    help: 'The C front end could not read this function; it is not analysed.',
  },
  'unmodelled-call': {
    id: 'unmodelled-call', severity: 'information', title: 'Call whose effect is not modelled',
    help: 'A call receives a lock the analysis tracks, and its effect on that lock is not known.',
  },
};
