/**
 * The simulator's part of a patch review: each patch of the seed thread and
 * the maintainer's alternative, reviewed with the interleaving findings on
 * (the default of `jailcheck review`). The schedule that brings prison0's
 * pr_uref to zero is found on the base at the cascade release (line 393);
 * the second patch and the alternative fix make it go away, the first patch
 * leaves it and adds two lock errors the simulator confirms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex } from '../../server/src/lineIndex';
import { reviewPatch, ReviewResult } from '../../server/src/review/reviewPatch';
import type { Finding } from '../../simulator/src/findings';
import { example, lineOf, readFixture, service } from '../helpers';

const review = (patchName: string): ReviewResult =>
  reviewPatch(example(), readFixture(`test/fixtures/patches/${patchName}`), { service: service(), baseName: 'kern_jail_2011.c', patchName });
const lineIn = (text: string, f: Finding): number => new LineIndex(text).position(f.range.start).line;
const interleavings = (fs: readonly Finding[]): Finding[] => fs.filter((f) => f.rule === 'interleaving-violation');
const REVIVAL = /^logic error \(no preemption needed\): prison0\.pr_uref reached 0 in prison_deref\(\): the host lost its last user reference, when thread 1 runs prison_deref\(A, PD_DEREF \| PD_DEUREF\) while thread 2 runs /;

function assertRevival(text: string, f: Finding | undefined): void {
  assert.ok(f, 'no revival counterexample');
  assert.equal(f.function, 'prison_deref');
  assert.equal(f.preemptions, 0);
  assert.equal(lineIn(text, f), lineOf(text, 'if (--tpr->pr_uref > 0)'));
  assert.match(f.message, REVIVAL);
  // The sites where the dying jail came back are related: attach and persist, as the ledger says.
  const revivedIn = f.related.filter((r) => /brings A back to life/.test(r.message)).map((r) => new LineIndex(text).position(r.range.start).line).sort((a, b) => a - b);
  assert.deepEqual(revivedIn, [
    lineOf(text, 'pr->pr_uref++;', { after: 'do_jail_attach(struct thread *td' }),
    lineOf(text, 'pr->pr_uref++;', { after: 'prison_set_persist(int jid' }),
  ]);
}

test('the second patch fixes the revival counterexample, and the asymmetry, and introduces nothing', () => {
  const r = review('seed-second-patch.diff');
  assert.deepEqual(r.fixed.map((f) => f.rule).sort(), ['interleaving-violation', 'uref-parent-asymmetry']);
  assertRevival(r.baseText, interleavings(r.fixed)[0]);
  assert.deepEqual(r.introduced, []);
  assert.deepEqual(r.unchanged, []);
});

test('the alternative fix (revival takes the parent references again) fixes the revival counterexample too', () => {
  const r = review('alternative-fix.diff');
  assertRevival(r.baseText, interleavings(r.fixed)[0]);
  assert.deepEqual(r.introduced, []);
});

test('the first patch leaves the revival counterexample, and the simulator confirms the two lock errors it introduces', () => {
  const r = review('seed-first-patch.diff');
  assert.deepEqual(r.fixed, []);
  const unchanged = interleavings(r.unchanged.map((u) => u.patched));
  assert.equal(unchanged.length, 1);
  assertRevival(r.patchedText, unchanged[0]);
  const introduced = interleavings(r.introduced).map((f) => [lineIn(r.patchedText, f), f.message.split(', when ')[0]]);
  assert.deepEqual(introduced, [
    [lineOf(r.patchedText, 'return;', { after: 'Done if there were only user references' }),
      'logic error (no preemption needed): prison_deref() returned holding A.pr_mtx, which it promises to release'],
    [lineOf(r.patchedText, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' }),
      'logic error (no preemption needed): mtx_lock(&pr->pr_mtx): A.pr_mtx is already held by this thread'],
  ]);
  assert.deepEqual(r.introduced.filter((f) => f.rule !== 'interleaving-violation').map((f) => f.rule), ['lock-held-at-return', 'lock-double-acquire']);
});

test('making attach alone refuse a dying jail leaves the counterexample: persist still revives it', () => {
  const r = review('attach-refuses-dying.diff');
  const unchanged = interleavings(r.unchanged.map((u) => u.patched));
  assert.equal(unchanged.length, 1);
  assert.match(unchanged[0]!.message, /scenario revival-by-persist\)$/);
  assert.deepEqual(r.fixed, []);
});
