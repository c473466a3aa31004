/**
 * A simulation report written by hand, in the shape the simulator will
 * return, for tests of everything that renders one (interleaving
 * diagnostics, the report webview) while the simulator itself is a stub.
 *
 * The story: two threads drop the last user references of sibling jails A
 * and B; each decrements their shared parent P on the way up, so P's
 * pr_uref reaches zero while P still has a live child — the maintainer's
 * asymmetry, which needs no preemption at all (a logic error) — and the
 * KASSERT after the loop fires one step later. The third scenario's strings
 * carry markup, for the escaping tests.
 */
import type { SimulationReport, ScheduleStep, ViolationAt } from '../../simulator/src/sim/report';

/** The range of the `occurrence`-th `snippet` in `text`, after `after` when given. */
export function rangeIn(text: string, snippet: string, after?: string): { start: number; end: number } {
  const from = after ? text.indexOf(after) : 0;
  if (from < 0) throw new Error(`rangeIn: anchor not found: ${after}`);
  const start = text.indexOf(snippet, from);
  if (start < 0) throw new Error(`rangeIn: not found: ${snippet}`);
  return { start, end: start + snippet.length };
}

/** A report for prison_deref of the bundled example (or any text with the same statements). */
export function handmadeReport(text: string): SimulationReport {
  const fn = 'static void\nprison_deref';
  const lock = rangeIn(text, 'mtx_lock(&pr->pr_mtx);', fn);
  const dec = rangeIn(text, '--tpr->pr_uref > 0', fn);
  const unlock = rangeIn(text, 'mtx_unlock(&tpr->pr_mtx);', fn);
  const parentLock = rangeIn(text, 'mtx_lock(&tpr->pr_mtx);', fn);
  const step = (thread: number, range: { start: number; end: number }, operation: string,
    locks: ScheduleStep['locks'], counters: Record<string, number>, choice?: string, preemption?: boolean): ScheduleStep =>
    ({ thread, function: 'prison_deref', range, operation, locks, counters, ...(choice ? { choice } : {}), ...(preemption ? { preemption } : {}) });
  const at = (thread: number, range: { start: number; end: number }, index: number, invariant: string, message: string): ViolationAt =>
    ({ invariant, message, thread, function: 'prison_deref', range, step: index });
  return {
    function: 'prison_deref',
    elapsedMs: 42,
    scenarios: [
      {
        name: 'sibling-last-users',
        description: 'the last processes of two sibling jails exit at once',
        verdict: 'violation',
        threads: [
          { thread: 1, calls: ['prison_deref(A, PD_DEUREF)'] },
          { thread: 2, calls: ['prison_deref(B, PD_DEUREF)'] },
        ],
        executions: 17,
        states: 230,
        boundsReached: [],
        exhaustive: true,
        preemptionBound: 0,
        world: 'built',
        setup: ['prison_create(&prison0, "P", 1)', 'prison_create(P, "A", 0)', 'prison_create(P, "B", 0)'],
        counterexample: {
          invariant: 'counter-negative',
          message: 'P.pr_uref drops to 0 while its child B is still alive',
          preemptions: 0,
          label: 'logic error (no preemption needed)',
          at: at(2, dec, 6, 'counter-negative', 'P.pr_uref drops to 0 while its child B is still alive'),
          also: [at(2, dec, 7, 'kassert', 'KASSERT(tpr != &prison0) fails')],
          steps: [
            step(1, lock, 'mtx_lock(&pr->pr_mtx)', [{ lock: 'A.pr_mtx', thread: 1, mode: 'exclusive' }], { 'A.pr_uref': 1, 'P.pr_uref': 2 }),
            step(1, dec, '--tpr->pr_uref > 0 is false', [{ lock: 'A.pr_mtx', thread: 1, mode: 'exclusive' }], { 'A.pr_uref': 0, 'P.pr_uref': 2 }),
            step(1, unlock, 'mtx_unlock(&tpr->pr_mtx)', [], { 'A.pr_uref': 0, 'P.pr_uref': 2 }),
            step(1, parentLock, 'mtx_lock(&tpr->pr_mtx)', [{ lock: 'P.pr_mtx', thread: 1, mode: 'exclusive' }], { 'A.pr_uref': 0, 'P.pr_uref': 2 }, 'tpr = P'),
            step(1, dec, '--tpr->pr_uref > 0 is true', [{ lock: 'P.pr_mtx', thread: 1, mode: 'exclusive' }], { 'A.pr_uref': 0, 'P.pr_uref': 1 }),
            step(2, lock, 'mtx_lock(&pr->pr_mtx)', [{ lock: 'B.pr_mtx', thread: 2, mode: 'exclusive' }], { 'A.pr_uref': 0, 'B.pr_uref': 1, 'P.pr_uref': 1 }),
            step(2, dec, '--tpr->pr_uref > 0 is false', [{ lock: 'B.pr_mtx', thread: 2, mode: 'exclusive' }], { 'A.pr_uref': 0, 'B.pr_uref': 0, 'P.pr_uref': 1 }),
            step(2, dec, '--tpr->pr_uref > 0 is false', [{ lock: 'P.pr_mtx', thread: 2, mode: 'exclusive' }], { 'A.pr_uref': 0, 'B.pr_uref': 0, 'P.pr_uref': 0 }, 'tpr = P'),
          ],
        },
      },
      {
        name: 'attach-while-dying',
        description: 'a process attaches to a jail while its last user leaves',
        verdict: 'ok',
        threads: [
          { thread: 1, calls: ['prison_deref(A, PD_DEUREF)'] },
          { thread: 2, calls: ['jail_attach(td, A)'] },
        ],
        executions: 120,
        states: 900,
        boundsReached: [],
        exhaustive: false,
        preemptionBound: 2,
        world: 'built',
        setup: ['prison_create(&prison0, "A", 0)'],
      },
      {
        name: 'persist-race <script>',
        description: 'a "persist" flag cleared while <b>two</b> threads detach & exit',
        verdict: 'incomplete',
        threads: [
          { thread: 1, calls: ['prison_set_persist(A, 0)'] },
          { thread: 2, calls: ['prison_deref(A, PD_DEUREF)'] },
          { thread: 3, calls: ['prison_deref(A, PD_DEREF)'] },
        ],
        executions: 5000,
        states: 40000,
        boundsReached: ['time budget of 2000 ms'],
        exhaustive: false,
        preemptionBound: 1,
        world: 'stated',
        setup: ['prison_create(&prison0, "A", 1) <b>stated</b>'],
        counterexample: {
          invariant: 'lock-owner',
          message: 'pr->pr_mtx released by T3, which does not own it <img src=x onerror=alert(1)>',
          preemptions: 2,
          label: 'race (2 preemptions)',
          at: at(3, unlock, 1, 'lock-owner', 'pr->pr_mtx released by T3, which does not own it <img src=x onerror=alert(1)>'),
          also: [],
          steps: [
            step(2, lock, 'mtx_lock(&pr->pr_mtx)', [{ lock: 'A.pr_mtx', thread: 2, mode: 'exclusive' }], { 'A.pr_uref': 1 }),
            step(3, unlock, 'mtx_unlock(&tpr->pr_mtx) </script><script>alert(1)</script>', [], { 'A.pr_uref': 1 }, undefined, true),
          ],
        },
      },
    ],
  };
}
