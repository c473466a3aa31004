/**
 * Single mutations of correct code each yield exactly their one finding, on
 * the right line, with the right explanation; correct code (the modern
 * fixture, the trylock and upgrade idioms) yields none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, edit, example, lineOf, problems, readFixture } from '../helpers';

const LOCK_AND_COUNT = (f: { rule: string }) => f.rule !== 'uref-parent-asymmetry';

function only(text: string) {
  return problems(text).filter(LOCK_AND_COUNT);
}

test('removing the unlock of an early return leaves the lock held at that return', () => {
  const text = edit(example(), `\tif (pr == NULL) {
\t\tsx_sunlock(&allprison_lock);
\t\treturn (EINVAL);
\t}
\treturn (do_jail_attach(td, pr));`, `\tif (pr == NULL) {
\t\treturn (EINVAL);
\t}
\treturn (do_jail_attach(td, pr));`);
  const found = only(text);
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'lock-held-at-return');
  assert.equal(found[0]!.function, 'jail_attach');
  assert.equal(found[0]!.line, lineOf(text, 'return (EINVAL);', { after: 'jail_attach(struct thread *td, int jid)' }));
  assert.match(found[0]!.message, /allprison_lock is taken in jail_attach\(\) and still held at this return/);
});

test('an extra decrement after the count was seen to be zero takes it below zero', () => {
  const text = edit(example(), `\t\t/* The prison is unreferenced: take it off the list. */
\t\tmtx_unlock(&pr->pr_mtx);`, `\t\t/* The prison is unreferenced: take it off the list. */
\t\tpr->pr_ref--;
\t\tmtx_unlock(&pr->pr_mtx);`);
  const found = only(text);
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'refcount-below-zero');
  assert.equal(found[0]!.line, lineOf(text, 'pr->pr_ref--;', { after: 'The prison is unreferenced' }));
  assert.match(found[0]!.message, /pr->pr_ref is decremented below zero: on this path it is 0 here/);
});

test('an unlock moved out of its branch releases the lock twice on the other path', () => {
  const text = edit(example(), `\tpr->pr_ref--;
\tif (pr->pr_ref == 0) {
\t\t/* The last reference goes away in a task, outside our caller's locks. */
\t\tmtx_unlock(&pr->pr_mtx);`, `\tpr->pr_ref--;
\tmtx_unlock(&pr->pr_mtx);
\tif (pr->pr_ref == 0) {
\t\t/* The last reference goes away in a task, outside our caller's locks. */`);
  const found = only(text);
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'lock-release-not-held');
  assert.equal(found[0]!.function, 'prison_free_locked');
  assert.equal(found[0]!.line, lineOf(text, 'mtx_unlock(&pr->pr_mtx);', { after: 'taskqueue_enqueue(taskqueue_thread', occurrence: 1 }));
  assert.match(found[0]!.message, /pr->pr_mtx is released on a path where it is not held/);
});

test('releasing a shared hold as exclusive is a wrong-mode release', () => {
  const text = edit(example(), `\t\t\tmtx_unlock(&tpr->pr_mtx);
\t\t\tif (flags & PD_LIST_SLOCKED)
\t\t\t\tsx_sunlock(&allprison_lock);`, `\t\t\tmtx_unlock(&tpr->pr_mtx);
\t\t\tif (flags & PD_LIST_SLOCKED)
\t\t\t\tsx_xunlock(&allprison_lock);`);
  const found = only(text);
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'lock-wrong-mode');
  assert.equal(found[0]!.line, lineOf(text, 'sx_xunlock(&allprison_lock);', { after: 'Done if there were only user references' }));
  assert.match(found[0]!.message, /allprison_lock is held shared but released as exclusive/);
});

test('moving the re-lock out of its branch acquires pr->pr_mtx twice when tpr is pr', () => {
  const text = edit(example(), `\t\tif (tpr != pr) {
\t\t\tmtx_unlock(&tpr->pr_mtx);
\t\t\tmtx_lock(&pr->pr_mtx);
\t\t}`, `\t\tif (tpr != pr)
\t\t\tmtx_unlock(&tpr->pr_mtx);
\t\tmtx_lock(&pr->pr_mtx);`);
  const found = only(text);
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'lock-double-acquire');
  assert.equal(found[0]!.line, lineOf(text, 'mtx_lock(&pr->pr_mtx);', { after: 'Done if there were only user references' }));
  assert.match(found[0]!.message, /pr->pr_mtx is acquired while this thread already holds it/);
});

test('a KASSERT stated by the code bounds the counter: a fork never finds a dead jail', () => {
  const found = only(example());
  assert.deepEqual(found, [], describe(found));
});

test('trylock and try-upgrade results decide the lock state on each branch', () => {
  const text = readFixture('test/fixtures/checks/refcounts.c');
  const found = problems(text).filter((f) => f.function === 'prison_try_hold' || f.function === 'prison_list_xlock');
  assert.deepEqual(found, [], describe(found));
  // Inverting the trylock test returns EBUSY holding the lock and unlocks it when not held.
  const inverted = edit(text, 'if (!mtx_trylock(&pr->pr_mtx))', 'if (mtx_trylock(&pr->pr_mtx))');
  const bad = problems(inverted).filter((f) => f.function === 'prison_try_hold');
  assert.deepEqual(bad.map((f) => [f.rule, f.line]).sort(), [
    ['lock-held-at-return', lineOf(inverted, 'return (EBUSY);')],
    ['lock-release-not-held', lineOf(inverted, 'mtx_unlock(&pr->pr_mtx);', { after: 'prison_try_hold(struct prison *pr)' })],
  ].sort(), describe(bad));
  // Taking the slow way after a successful upgrade drops an exclusive hold as shared.
  const upgraded = edit(text, 'if (!sx_try_upgrade(&allprison_lock)) {', 'if (sx_try_upgrade(&allprison_lock)) {');
  const wrong = problems(upgraded).filter((f) => f.function === 'prison_list_xlock');
  assert.ok(wrong.some((f) => f.rule === 'lock-wrong-mode' && f.line === lineOf(upgraded, 'sx_sunlock(&allprison_lock);', { after: 'prison_list_xlock(void)' })), describe(wrong));
});

test('two error paths that return the same way but keep different references are an inconsistent pair', () => {
  const text = readFixture('test/fixtures/checks/refcounts.c');
  const found = problems(text).filter((f) => f.rule === 'refcount-inconsistent-paths');
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.function, 'prison_osd_attach');
  assert.equal(found[0]!.line, lineOf(text, 'return (error);', { after: 'prison_osd_attach(struct prison *pr' }));
  assert.match(found[0]!.message, /pr->pr_ref: this path changes it by \+1, but another path of prison_osd_attach\(\) that the caller cannot tell apart \(same flags, same result\) leaves it unchanged/);
});

test('a decrement after the count was tested to be zero is reported; the correct variant is not', () => {
  const text = readFixture('test/fixtures/checks/refcounts.c');
  const found = problems(text).filter((f) => f.rule === 'refcount-below-zero');
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.function, 'prison_drop_twice');
  assert.equal(found[0]!.line, lineOf(text, 'pr->pr_ref--;', { after: 'prison_drop_twice(struct prison *pr)', occurrence: 2 }));
  assert.ok(!problems(text).some((f) => f.function === 'prison_osd_set'));
});

test('the modern-style fixture (refcount(9), PD_KILL, goto ladders, lock state in drflags) has no finding', () => {
  const found = problems(readFixture('test/fixtures/modern/kern_jail_modern.c'));
  assert.deepEqual(found, [], describe(found));
});

test('a double unlock typed into prison_deref()\'s ancestor loop is exactly one finding: not one per ancestor, no learnt precondition, no echo in the callers', () => {
  const text = edit(example(), '\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n',
    '\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n\t\t\tmtx_unlock(&pr->pr_mtx);\n');
  const found = only(text);
  // The loop runs for pr, then its parent, grandparent, … (pr = ppr): the same line on every trip is one problem.
  assert.equal(found.length, 1, describe(found));
  const twice = found.filter((f) => f.rule === 'lock-release-not-held');
  assert.equal(twice.length, 1, describe(found));
  assert.equal(twice[0]!.function, 'prison_deref');
  assert.equal(twice[0]!.line, lineOf(text, 'mtx_unlock(&pr->pr_mtx);', { after: 'if (pr->pr_ref > 0) {', occurrence: 2 }));
  assert.match(twice[0]!.message, /^pr->pr_mtx is released on a path where it is not held$/);
  // prison_deref() promises to release what its flags describe: the paths the error stopped keep
  // that promise for its callers, so the error is not echoed in every caller.
  assert.deepEqual(found.filter((f) => f.function !== 'prison_deref').map((f) => `${f.function}: ${f.message}`), [], describe(found));
});

test('an unlock after a failed trylock of the parent\'s mutex is a release of a lock not held, not a lock the caller must hold', () => {
  const text = `${example()}
static void
prison_try_parent(struct prison *pr)
{
\tstruct prison *ppr;

\tppr = pr->pr_parent;
\tif (!mtx_trylock(&ppr->pr_mtx)) {
\t\tmtx_unlock(&ppr->pr_mtx);
\t\treturn;
\t}
\tppr->pr_ref++;
\tmtx_unlock(&ppr->pr_mtx);
}
`;
  const found = only(text).filter((f) => f.function === 'prison_try_parent');
  assert.equal(found.length, 1, describe(found));
  assert.equal(found[0]!.rule, 'lock-release-not-held');
  assert.equal(found[0]!.line, lineOf(text, 'mtx_unlock(&ppr->pr_mtx);', { after: 'if (!mtx_trylock(&ppr->pr_mtx)) {' }));
  assert.match(found[0]!.message, /^ppr->pr_mtx \(that is, pr->pr_parent->pr_mtx\) is released on a path where it is not held$/);
});
