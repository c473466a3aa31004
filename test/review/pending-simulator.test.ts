/**
 * PENDING: this claim depends on a check that has not landed yet, and it
 * FAILS until it does (it is not skipped, and does not count as passing):
 * rule `interleaving-violation`, the simulator's built-in revival scenario
 * (a jail dies, attach or persist revives it, it dies again, and prison0's
 * pr_uref reaches zero). The simulator is being written by the lead.
 *
 * The patch reviewer compares findings generically, so nothing in
 * server/src/review should need to change when the rule arrives; if this
 * test still fails then, the finding's location is the first thing to look
 * at (it must be in, or have a step or related site in, a function the
 * patch touches, in the base version).
 *
 * The parent-reference asymmetry claims that used to be pending here (rule
 * `uref-parent-asymmetry`, the pr_uref ledger) now pass and live in
 * review.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewPatch } from '../../server/src/review/reviewPatch';
import { example, readFixture, service } from '../helpers';

test('[needs interleaving-violation] the seed\'s second patch fixes the revival counterexample', () => {
  const patchName = 'seed-second-patch.diff';
  const r = reviewPatch(example(), readFixture(`test/fixtures/patches/${patchName}`), { service: service(), baseName: 'kern_jail_2011.c', patchName });
  const fixed = r.fixed.map((f) => f.rule);
  assert.ok(fixed.includes('interleaving-violation'),
    `no interleaving-violation among the fixed findings: the simulator's revival scenario has not landed yet (fixed: ${fixed.join(', ') || 'nothing'})`);
  assert.deepEqual(r.introduced.map((f) => f.rule), []);
});
