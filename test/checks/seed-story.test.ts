/**
 * The story jailcheck was created from (shared/seeds): two patches to
 * prison_deref() and the maintainer's verdict that its locking is correct.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byRule, describe, example, lineOf, problems } from '../helpers';
import { firstPatch, secondPatch } from '../fixtures/seed/patches';

const LOCK_RULES = new Set(['lock-held-at-return', 'lock-release-not-held', 'lock-double-acquire', 'lock-wrong-mode', 'lock-join-mismatch', 'lock-assert-fails', 'lock-contract-violated']);

test('the original prison_deref has no lock finding: its locking is correct, as the maintainer says', () => {
  const findings = problems(example()).filter((f) => LOCK_RULES.has(f.rule));
  assert.deepEqual(findings, [], describe(findings));
});

test('the first patch re-acquires pr->pr_mtx after the loop while still holding it', () => {
  const text = firstPatch(example());
  const doubles = byRule(problems(text), 'lock-double-acquire');
  assert.equal(doubles.length, 1, describe(problems(text)));
  const relock = lineOf(text, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
  assert.equal(doubles[0]!.line, relock);
  assert.equal(doubles[0]!.function, 'prison_deref');
  assert.match(doubles[0]!.message, /pr->pr_mtx is acquired while this thread already holds it/);
  // The path shows why: the loop went past pr, so pr's lock was never dropped.
  const steps = doubles[0]!.steps.map((s) => s.message);
  assert.ok(steps.some((m) => /--tpr->pr_uref > 0 is false/.test(m)), steps.join('\n'));
  assert.ok(steps.some((m) => /tpr->pr_mtx \(that is, pr->pr_parent->pr_mtx\) acquired/.test(m)), steps.join('\n'));
});

test('the first patch returns from the !(flags & PD_DEREF) path with pr->pr_mtx still held', () => {
  const text = firstPatch(example());
  const held = byRule(problems(text), 'lock-held-at-return');
  assert.equal(held.length, 1, describe(problems(text)));
  const ret = lineOf(text, 'return;', { after: 'Done if there were only user references to remove.' });
  assert.equal(held[0]!.line, ret);
  assert.match(held[0]!.message, /pr->pr_mtx is still held when prison_deref\(\) returns/);
  assert.match(held[0]!.message, /without PD_DEREF/);
});

test('the first patch yields exactly those two lock findings', () => {
  const findings = problems(firstPatch(example())).filter((f) => LOCK_RULES.has(f.rule));
  assert.deepEqual(findings.map((f) => f.rule).sort(), ['lock-double-acquire', 'lock-held-at-return'], describe(findings));
});

test('the second patch has no lock finding', () => {
  const findings = problems(secondPatch(example())).filter((f) => LOCK_RULES.has(f.rule));
  assert.deepEqual(findings, [], describe(findings));
});
