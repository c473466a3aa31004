/**
 * Races and deadlocks: violations that need a preemption, labelled as races,
 * with each thread's part in them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, readFixture } from '../helpers';
import { lineAt, scenario, simulate, threadOrder } from './simHelpers';

const race = readFixture('test/fixtures/sim/race.c');
const deadlock = readFixture('test/fixtures/sim/deadlock.c');

test('testing a counter after dropping its lock: two callers race, and the shortest schedule needs one preemption', () => {
  const s = scenario(simulate(race, 'prison_drop'), 'two-callers');
  assert.equal(s.verdict, 'violation');
  const c = s.counterexample!;
  assert.equal(c.preemptions, 1);
  assert.equal(c.label, 'race (1 preemption)');
  assert.equal(c.invariant, 'use-after-free');
  assert.equal(c.message, 'pr->pr_ref reads A, which was freed');
  // Thread 1 is preempted right after it lets the lock go, and reads A when thread 2 has freed it.
  assert.equal(lineAt(race, c.at.range.start), lineOf(race, 'if (pr->pr_ref == 0) {'));
  assert.deepEqual(threadOrder(s), [1, 2, 1]);
  const switched = c.steps.findIndex((st) => st.preemption);
  assert.equal(c.steps[switched - 1]!.operation, 'mtx_unlock(&pr->pr_mtx): releases A.pr_mtx');
  assert.equal(c.steps[switched]!.thread, 2);
  assert.ok(c.steps.some((st) => st.thread === 2 && st.operation === 'free(pr, M_PRISON): A is freed'));
});

test('the same race is not there without preemptions, nor when the test is made under the lock', () => {
  const none = scenario(simulate(race, 'prison_drop', { maxPreemptions: 0, unbounded: false }), 'two-callers');
  assert.equal(none.verdict, 'ok');
  assert.deepEqual(none.boundsReached, ['schedules with more than 0 preemptions were not explored']);
  const fixed = simulate(race, 'prison_drop_locked_test');
  for (const s of fixed.scenarios) assert.equal(s.verdict, 'ok', `${s.name}: ${s.counterexample?.message}`);
  assert.equal(scenario(fixed, 'two-callers').exhaustive, true);
});

test('two functions taking two locks in opposite orders deadlock, each thread holding the lock the other waits for', () => {
  const r = simulate(deadlock, 'prison_rename');
  const s = scenario(r, 'with-prison_renumber');
  const c = s.counterexample!;
  assert.equal(c.invariant, 'deadlock');
  assert.equal(c.preemptions, 1);
  assert.equal(c.message, 'deadlock: thread 1 holds A.pr_mtx and waits for allprison_lock; thread 2 holds allprison_lock and waits for A.pr_mtx');
  assert.equal(lineAt(deadlock, c.at.range.start), lineOf(deadlock, 'sx_xlock(&allprison_lock);', { after: 'prison_rename(struct prison *pr' }));
  // Alone, or with another rename, nothing goes wrong.
  for (const name of ['alone', 'two-callers']) assert.equal(scenario(r, name).verdict, 'ok');
});
