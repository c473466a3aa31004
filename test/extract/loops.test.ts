/**
 * Iteration macros (TAILQ_FOREACH, FOREACH_PRISON_*, FOREACH_PROC_IN_SYSTEM)
 * are loops: tree-sitter sees a call missing its `;` (or a nested function
 * definition) followed by a body, and the front end must put exactly that
 * body inside a loop, with the iteration variables assigned on every trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionIR } from '../../simulator/src/ir';
import { FixtureCase, fixtureCase, loadFixture, mark } from './fixture';
import { blockAt, branchAt, dump, extract, loopBlocks, opAt, ops, reachable, readFunction } from './irQuery';

const cases = loadFixture('loops.c');

function read(name: string, fnName: string): { c: FixtureCase; fn: FunctionIR } {
  const c = fixtureCase(cases, name);
  return { c, fn: readFunction(extract(c.text), fnName) };
}

/** The macro loop headed at `header`: its head block and the blocks inside it. */
function macroLoop(c: FixtureCase, fn: FunctionIR, header = 'header'): { head: number; inside: Set<number>; exit: number; macro: string } {
  const { block, term } = branchAt(fn, mark(c, header), 'macro-loop');
  const macro = /^(\w+)\(/.exec(c.text.slice(mark(c, header)))![1]!;
  assert.match(term.condText, new RegExp(`^${macro}\\(`), 'the loop condition names its macro');
  return { head: block, inside: loopBlocks(fn, block), exit: term.whenFalse, macro };
}

function assertInside(fn: FunctionIR, loop: { inside: Set<number> }, offset: number, what: string): void {
  assert.ok(loop.inside.has(blockAt(fn, offset)), `${what} should be inside the loop:\n${dump(fn)}`);
}

function assertAfter(fn: FunctionIR, loop: { inside: Set<number>; exit: number }, offset: number, what: string): void {
  const b = blockAt(fn, offset);
  assert.ok(!loop.inside.has(b), `${what} should be after the loop, not in it:\n${dump(fn)}`);
  assert.ok(reachable(fn, loop.exit).has(b), `${what} should follow the loop's exit:\n${dump(fn)}`);
}

/** The variables the loop assigns an element to, in order. */
function elementAssignments(fn: FunctionIR, header: number): string[] {
  return ops(fn).filter((p) => p.op.kind === 'assign' && p.op.range.start === header && p.op.value.kind === 'element')
    .map((p) => (p.op.kind === 'assign' ? p.op.targetText : ''));
}

test('TAILQ_FOREACH followed by a block is a loop around that block, and code after it runs on the way out', () => {
  const { c, fn } = read('braced', 'prison_find_braced');
  const loop = macroLoop(c, fn);
  assertInside(fn, loop, mark(c, 'body'), 'mtx_lock in the body');
  assertAfter(fn, loop, mark(c, 'after'), 'return (NULL)');
  assert.deepEqual(elementAssignments(fn, mark(c, 'header')), ['pr']);
});

test('a brace-less FOREACH_PRISON_DESCENDANT takes exactly the next statement as its body', () => {
  const { c, fn } = read('braceless', 'prison_count_children');
  const loop = macroLoop(c, fn);
  assertInside(fn, loop, mark(c, 'body'), 'the assignment under the if');
  assertAfter(fn, loop, mark(c, 'after'), 'mtx_unlock after the loop');
  assert.deepEqual(elementAssignments(fn, mark(c, 'header')), ['cpr', 'descend']);
});

test('FOREACH_PRISON_DESCENDANT_LOCKED glued to a one-line body on the next line loops over that line only', () => {
  const { c, fn } = read('glued', 'prison_clear_allow');
  const loop = macroLoop(c, fn);
  assertInside(fn, loop, mark(c, 'body'), 'tpr->pr_allow &= ~flag');
  assertAfter(fn, loop, mark(c, 'after'), 'prison_notify(pr)');
  const body = opAt(fn, mark(c, 'body'), 'assign');
  assert.equal(body.op.targetText, 'tpr->pr_allow');
  assert.equal(body.op.op, '&=');
});

test('a brace-less _LOCKED loop whose body is an if takes the whole if, and holds the child\'s lock around it', () => {
  const { c, fn } = read('glued-if', 'prison_raise_level');
  const loop = macroLoop(c, fn);
  assertInside(fn, loop, mark(c, 'body'), 'the assignment under the if');
  assertAfter(fn, loop, mark(c, 'after'), 'prison_notify(pr)');
  const scope = ops(fn).filter((p) => p.op.kind === 'scope-lock');
  assert.deepEqual(scope.map((p) => p.op.kind === 'scope-lock' && `${p.op.action} ${p.op.lockText}`), ['acquire tpr->pr_mtx', 'release tpr->pr_mtx']);
  assert.ok(scope.every((p) => loop.inside.has(p.block)));
});

test('_LOCKED iteration macros hold the child\'s pr_mtx for the body: a scope-lock acquire before it and a release after', () => {
  const { c, fn } = read('glued', 'prison_clear_allow');
  const loop = macroLoop(c, fn);
  const scope = ops(fn).filter((p) => p.op.kind === 'scope-lock');
  assert.equal(scope.length, 2, dump(fn));
  const [acquire, release] = scope;
  for (const s of scope) {
    assert.ok(loop.inside.has(s.block), 'both scope-lock ops are inside the loop');
    assert.ok(s.op.kind === 'scope-lock' && s.op.lockText === 'tpr->pr_mtx' && s.op.lockClass === 'mtx'
      && s.op.macro === 'FOREACH_PRISON_DESCENDANT_LOCKED', JSON.stringify(s.op));
  }
  assert.equal(acquire!.op.kind === 'scope-lock' && acquire!.op.action, 'acquire');
  assert.equal(release!.op.kind === 'scope-lock' && release!.op.action, 'release');
  const body = opAt(fn, mark(c, 'body'), 'assign');
  // Acquire, then the body, in one block; the release is on the way back to the head.
  assert.equal(acquire!.block, body.block);
  assert.ok(acquire!.index < body.index);
  assert.ok(reachable(fn, body.block).has(release!.block));
  assert.ok(!reachable(fn, loop.exit).has(release!.block), 'the exit does not pass the release');
});

test('continue in a _LOCKED loop releases the child\'s lock on the way round; break leaves with it held', () => {
  const { c, fn } = read('locked-scope', 'prison_set_level');
  const loop = macroLoop(c, fn);
  const release = ops(fn).find((p) => p.op.kind === 'scope-lock' && p.op.action === 'release')!;
  assert.ok(release, dump(fn));
  const persist = branchAt(fn, mark(c, 'persist'), 'if').term;
  const stop = branchAt(fn, mark(c, 'stop'), 'if').term;
  // The continue: every way back to the head passes the release.
  assert.ok(reachable(fn, persist.whenTrue).has(loop.head));
  assert.ok(!reachable(fn, persist.whenTrue, release.block).has(loop.head), dump(fn));
  // The break: straight to the code after the loop, no release on the way (as the macro's for-update does).
  const after = blockAt(fn, mark(c, 'after'));
  assert.ok(reachable(fn, stop.whenTrue, release.block).has(after), dump(fn));
  assertInside(fn, loop, mark(c, 'body'), 'the assignment');
  assertAfter(fn, loop, mark(c, 'after'), 'sx_sunlock');
});

test('FOREACH_PRISON_DESCENDANT_LOCKED_LEVEL assigns the child, descend and level, and holds the child\'s lock', () => {
  const { c, fn } = read('locked-level', 'prison_walk_levels');
  const loop = macroLoop(c, fn);
  assert.deepEqual(elementAssignments(fn, mark(c, 'header')), ['cpr', 'descend', 'level']);
  const scope = ops(fn).filter((p) => p.op.kind === 'scope-lock').map((p) => p.op.kind === 'scope-lock' && `${p.op.action} ${p.op.lockText}`);
  assert.deepEqual(scope, ['acquire cpr->pr_mtx', 'release cpr->pr_mtx']);
  assertInside(fn, loop, mark(c, 'body'), 'the assignment');
});

test('a macro loop that is the body of an if runs only when the if is true, and its block is its body', () => {
  for (const name of ['after-if', 'after-if-braceless']) {
    const { c, fn } = read(name, name === 'after-if' ? 'prison_kill_children' : 'prison_kill_children2');
    const cond = branchAt(fn, mark(c, 'cond'), 'if').term;
    const loop = macroLoop(c, fn);
    assertInside(fn, loop, mark(c, 'body'), `${name}: prison_hold(cpr)`);
    assertAfter(fn, loop, mark(c, 'after'), `${name}: prison_free(pr)`);
    assert.ok(reachable(fn, cond.whenTrue).has(loop.head), `${name}: the loop is on the true side`);
    assert.ok(!reachable(fn, cond.whenFalse).has(loop.head), `${name}: the false side skips the loop:\n${dump(fn)}`);
    assert.ok(reachable(fn, cond.whenFalse).has(blockAt(fn, mark(c, 'after'))));
  }
});

test('FOREACH_PROC_IN_SYSTEM(p) { … }, which parses as a nested function definition, is a loop over p with PROC_LOCK inside', () => {
  const { c, fn } = read('proc-in-system', 'prison_count_procs');
  const loop = macroLoop(c, fn);
  assert.deepEqual(elementAssignments(fn, mark(c, 'header')), ['p']);
  const lock = opAt(fn, mark(c, 'lock'), 'lock');
  const unlock = opAt(fn, mark(c, 'unlock'), 'lock');
  assert.deepEqual([lock.op.action, lock.op.lockText, unlock.op.action, unlock.op.lockText], ['acquire', 'p->p_mtx', 'release', 'p->p_mtx']);
  assertInside(fn, loop, mark(c, 'lock'), 'PROC_LOCK');
  assertInside(fn, loop, mark(c, 'unlock'), 'PROC_UNLOCK');
  assertAfter(fn, loop, mark(c, 'after'), 'sx_sunlock');
});

test('TAILQ_FOREACH_SAFE assigns both the element and the saved next pointer', () => {
  const { c, fn } = read('safe', 'prison_reap');
  const loop = macroLoop(c, fn);
  assert.deepEqual(elementAssignments(fn, mark(c, 'header')), ['pr', 'npr']);
  assertInside(fn, loop, mark(c, 'body'), 'TAILQ_REMOVE');
  assertAfter(fn, loop, mark(c, 'after'), 'sx_xunlock');
});

test('a macro loop nested in another is its own loop inside the outer one', () => {
  const { c, fn } = read('nested', 'prison_count_all');
  const outer = macroLoop(c, fn, 'outer');
  const inner = macroLoop(c, fn, 'inner');
  assert.ok(outer.inside.has(inner.head), 'the inner head is inside the outer loop');
  assertInside(fn, inner, mark(c, 'body'), 'n++');
  assertInside(fn, outer, mark(c, 'body'), 'n++');
  // prison_touch(pr) is after the inner loop but still inside the outer one.
  assertAfter(fn, inner, mark(c, 'tail'), 'prison_touch');
  assertInside(fn, outer, mark(c, 'tail'), 'prison_touch');
  assertAfter(fn, outer, mark(c, 'after'), 'return (n)');
});
