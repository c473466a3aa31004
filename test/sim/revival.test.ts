/**
 * The seed thread replayed by the simulator on the bundled example: a dying
 * jail revived (by attach, or by the persist flag) and left again gives its
 * parent's user reference back twice, and prison0's pr_uref reaches zero with
 * no preemption at all: a logic error, not a race, as the maintainer said.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { example, lineOf } from '../helpers';
import { firstPatch, secondPatch } from '../fixtures/seed/patches';
import { alternativeFix } from '../fixtures/ledger/variants';
import { lineAt, scenario, simulate, threadOrder } from './simHelpers';

const text = example();
const report = simulate(text, 'prison_deref');
const cascade = lineOf(text, 'if (--tpr->pr_uref > 0)');
const kassert = lineOf(text, 'KASSERT(tpr != &prison0');

test('revival by attach: prison0\'s pr_uref reaches zero at the cascade, the KASSERT fires next, with no preemption: a logic error', () => {
  const s = scenario(report, 'revival-by-attach');
  assert.equal(s.verdict, 'violation');
  assert.equal(s.world, 'built');
  const c = s.counterexample!;
  assert.equal(c.invariant, 'root-uref-zero');
  assert.equal(c.preemptions, 0);
  assert.equal(c.label, 'logic error (no preemption needed)');
  assert.equal(c.message, 'prison0.pr_uref reached 0 in prison_deref(): the host lost its last user reference');
  assert.equal(lineAt(text, c.at.range.start), cascade);
  assert.equal(c.at.function, 'prison_deref');
  assert.deepEqual(c.also.map((a) => [a.invariant, lineAt(text, a.range.start)]), [['kassert', kassert]]);
  // The step where it happens shows the counts after it.
  assert.equal(c.steps[c.at.step]!.counters['prison0.pr_uref'], 0);
  // A came back to life in do_jail_attach(): its pr_uref went from 0 to 1 there.
  const revival = c.steps.find((st) => st.operation.includes('A.pr_uref 0 → 1'));
  assert.equal(revival?.function, 'do_jail_attach');
  assert.equal(lineAt(text, revival!.range.start), lineOf(text, 'pr->pr_uref++;', { after: 'do_jail_attach(struct thread *td' }));
});

test('the seed\'s first-message schedule: one thread runs the last exit to its end, then another attaches and leaves; no preemption is needed', () => {
  const s = scenario(report, 'revival-by-attach');
  assert.deepEqual(s.threads.map((t) => t.calls), [
    ['prison_deref(A, PD_DEREF | PD_DEUREF)'],
    ['jail_attach(td, A.pr_id)', 'prison_proc_free(p2\'s jail)', 'prison_free(p2\'s jail)'],
  ]);
  // Thread 1 finishes before thread 2 starts: the locking in prison_deref() is not the problem.
  assert.deepEqual(threadOrder(s), [1, 2]);
  assert.equal(s.counterexample!.steps.some((st) => st.preemption), false);
  // The world was built by the file's own functions, from prison0 alone.
  assert.match(s.setup.join('\n'), /^prison_create\(prison0, "A", 1, &new\) → A$/m);
  assert.match(s.setup.join('\n'), /^jail_attach\(p1's td, A\.pr_id\)$/m);
  assert.match(s.setup.at(-1)!, /^then: prison0 pr_ref=3 pr_uref=3; A pr_ref=2 pr_uref=1$/);
});

test('revival by the persist flag goes wrong the same way, through prison_set_persist()', () => {
  const s = scenario(report, 'revival-by-persist');
  const c = s.counterexample!;
  assert.equal(c.invariant, 'root-uref-zero');
  assert.equal(c.preemptions, 0);
  assert.equal(lineAt(text, c.at.range.start), cascade);
  const revival = c.steps.find((st) => st.operation.includes('A.pr_uref 0 → 1'));
  assert.equal(revival?.function, 'prison_set_persist');
});

test('with two levels, the revived jail\'s parent goes below zero and the grandparent, prison0, reaches zero', () => {
  const s = scenario(report, 'revival-two-levels');
  const c = s.counterexample!;
  assert.equal(c.preemptions, 0);
  assert.equal(c.invariant, 'counter-negative');
  assert.equal(c.message, 'A.pr_uref went below zero (-1) in prison_deref()');
  assert.deepEqual(c.also.map((a) => a.invariant), ['root-uref-zero', 'kassert']);
  assert.equal(c.steps[c.also[0]!.step]!.counters['prison0.pr_uref'], 0);
});

test('the seed\'s second patch: no violation in any built-in scenario, with the executions and states covered', () => {
  const patched = simulate(secondPatch(text), 'prison_deref');
  assert.ok(patched.scenarios.length >= 10);
  for (const s of patched.scenarios) {
    assert.equal(s.verdict, 'ok', `${s.name}: ${s.counterexample?.message}`);
    assert.ok(s.executions >= 1);
    assert.equal(s.boundsReached.length, 0, s.name);
  }
  const attach = scenario(patched, 'revival-by-attach');
  assert.ok(attach.executions > 100 && attach.states > 50, `${attach.executions} executions, ${attach.states} states`);
  assert.equal(attach.exhaustive, true);
});

test('the maintainer\'s alternative fix: no violation either', () => {
  const patched = simulate(alternativeFix(text), 'prison_deref');
  for (const s of patched.scenarios) assert.equal(s.verdict, 'ok', `${s.name}: ${s.counterexample?.message}`);
});

test('the seed\'s first patch: pr->pr_mtx taken again while held, and held when prison_deref() returns without PD_DEREF', () => {
  const patched = firstPatch(text);
  const r = simulate(patched, 'prison_deref');
  const alone = scenario(r, 'alone [PD_DEREF | PD_DEUREF]').counterexample!;
  assert.equal(alone.invariant, 'lock-recursion');
  assert.equal(alone.message, 'mtx_lock(&pr->pr_mtx): A.pr_mtx is already held by this thread');
  assert.equal(lineAt(patched, alone.at.range.start), lineOf(patched, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' }));
  const held = scenario(r, 'alone [PD_DEUREF | PD_LOCKED]').counterexample!;
  assert.equal(held.invariant, 'held-at-exit');
  assert.equal(held.message, 'prison_deref() returned holding A.pr_mtx, which it promises to release');
  assert.equal(lineAt(patched, held.at.range.start), lineOf(patched, 'return;', { after: 'Done if there were only user references' }));
});
