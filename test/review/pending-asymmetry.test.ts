/**
 * PENDING: these claims depend on checks that have not landed yet, and
 * they FAIL until they do (they are not skipped, and do not count as
 * passing):
 *   - rule `uref-parent-asymmetry` (the uref ledger): the first three tests;
 *   - rule `interleaving-violation` (the simulator's built-in revival
 *     scenario): the last test.
 * The patch reviewer compares findings generically, so nothing in
 * server/src/review should need to change when those rules arrive; if a
 * test here still fails then, the finding's location is the first thing to
 * look at (it must be in, or have a step or related site in, a function the
 * patch touches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleId } from '../../simulator/src/findings';
import { reviewPatch, ReviewResult } from '../../server/src/review/reviewPatch';
import { describe as list, example, readFixture, service, check } from '../helpers';

const review = (patchName: string): ReviewResult =>
  reviewPatch(example(), readFixture(`test/fixtures/patches/${patchName}`), { service: service(), baseName: 'kern_jail_2011.c', patchName });
const rules = (r: ReviewResult, group: 'fixed' | 'introduced'): RuleId[] => r[group].map((f) => f.rule);

test('[needs uref-parent-asymmetry] the bundled example has the parent-reference asymmetry the maintainer describes', () => {
  const found = check(example()).filter((f) => f.rule === 'uref-parent-asymmetry');
  assert.ok(found.length > 0, `no uref-parent-asymmetry finding on examples/kern_jail_2011.c yet; findings:\n${list(check(example()))}`);
});

test('[needs uref-parent-asymmetry] the seed\'s second patch fixes the parent-reference asymmetry', () => {
  const r = review('seed-second-patch.diff');
  assert.ok(rules(r, 'fixed').includes('uref-parent-asymmetry'), `fixed: ${rules(r, 'fixed').join(', ') || 'nothing'}`);
  assert.deepEqual(rules(r, 'introduced'), []);
});

test('[needs uref-parent-asymmetry] the maintainer\'s alternative fix fixes the parent-reference asymmetry', () => {
  const r = review('alternative-fix.diff');
  assert.ok(rules(r, 'fixed').includes('uref-parent-asymmetry'), `fixed: ${rules(r, 'fixed').join(', ') || 'nothing'}`);
  assert.deepEqual(rules(r, 'introduced'), []);
});

test('[needs interleaving-violation] the seed\'s second patch fixes the revival counterexample', () => {
  const r = review('seed-second-patch.diff');
  assert.ok(rules(r, 'fixed').includes('interleaving-violation'), `fixed: ${rules(r, 'fixed').join(', ') || 'nothing'}`);
});
