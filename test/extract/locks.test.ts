/**
 * Lock operations: the lock's access path, its class and mode, and for the
 * try forms a result temp whose value decides which branch holds the lock
 * (mtx_trylock and sx_try_upgrade return 1 on success, sx_xlock_sig 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionIR } from '../../simulator/src/ir';
import { FixtureCase, fixtureCase, loadFixture, mark } from './fixture';
import { blockAt, branches, dump, extract, opAt, reachable, readFunction } from './irQuery';

const cases = loadFixture('locks.c');

function read(name: string, fnName: string): { c: FixtureCase; fn: FunctionIR } {
  const c = fixtureCase(cases, name);
  return { c, fn: readFunction(extract(c.text), fnName) };
}

function lockAt(c: FixtureCase, fn: FunctionIR, m: string): string {
  const op = opAt(fn, mark(c, m), 'lock').op;
  return [op.action, op.lockText, op.lockClass, op.mode ?? 'any'].join(' ');
}

test('if (!mtx_trylock(&pr->pr_mtx)): the result temp is 1 on the side that holds the lock', () => {
  const { c, fn } = read('trylock', 'prison_try');
  const tryOp = opAt(fn, mark(c, 'try'), 'lock').op;
  assert.deepEqual([tryOp.action, tryOp.lockText, tryOp.mode], ['try-acquire', 'pr->pr_mtx', 'exclusive']);
  assert.deepEqual(tryOp.lock, { kind: 'field', base: { kind: 'name', name: 'pr' }, field: 'pr_mtx', arrow: true });
  const b = branches(fn).find((x) => x.term.cond.kind === 'temp' && x.term.cond.id === tryOp.result)!;
  assert.ok(b, dump(fn));
  // `!` swapped the sides: the temp true (locked) goes on to the work, false returns EBUSY.
  assert.ok(reachable(fn, b.term.whenTrue).has(blockAt(fn, mark(c, 'held'))));
  assert.ok(!reachable(fn, b.term.whenTrue).has(blockAt(fn, mark(c, 'busy'))));
  assert.ok(reachable(fn, b.term.whenFalse).has(blockAt(fn, mark(c, 'busy'))));
});

test('if (!sx_try_upgrade(&allprison_lock)) { sx_sunlock; sx_xlock; }: the upgrade\'s result chooses the slow path', () => {
  const { c, fn } = read('try-upgrade', 'prison_upgrade');
  assert.equal(lockAt(c, fn, 'slock'), 'acquire allprison_lock sx shared');
  const up = opAt(fn, mark(c, 'upgrade'), 'lock').op;
  assert.deepEqual([up.action, up.lockText, up.mode], ['try-upgrade', 'allprison_lock', 'exclusive']);
  const b = branches(fn).find((x) => x.term.cond.kind === 'temp' && x.term.cond.id === up.result)!;
  assert.ok(reachable(fn, b.term.whenFalse).has(blockAt(fn, mark(c, 'sunlock'))));
  assert.ok(!reachable(fn, b.term.whenTrue).has(blockAt(fn, mark(c, 'sunlock'))));
  assert.equal(lockAt(c, fn, 'sunlock'), 'release allprison_lock sx shared');
  assert.equal(lockAt(c, fn, 'xlock'), 'acquire allprison_lock sx exclusive');
  assert.equal(lockAt(c, fn, 'downgrade'), 'downgrade allprison_lock sx shared');
  assert.ok(reachable(fn, b.term.whenTrue).has(blockAt(fn, mark(c, 'after'))));
});

test('error = sx_xlock_sig(&allprison_lock): 0 means taken, so `error != 0` is the side without the lock', () => {
  const { c, fn } = read('xlock-sig', 'prison_lock_sig');
  const sig = opAt(fn, mark(c, 'sig'), 'lock').op;
  assert.deepEqual([sig.action, sig.lockText, sig.mode], ['try-acquire', 'allprison_lock', 'exclusive']);
  const assign = fn.blocks.flatMap((b) => b.ops).find((o) => o.kind === 'assign' && o.targetText === 'error');
  assert.ok(assign && assign.kind === 'assign');
  // The C value is "not succeeded": the temp holds success.
  assert.deepEqual(assign.value, { kind: 'unary', op: '!', operand: { kind: 'temp', id: sig.result } });
  const b = branches(fn).find((x) => x.term.condText === 'error != 0')!;
  assert.equal(b.term.range.start, mark(c, 'test'));
  assert.ok(reachable(fn, b.term.whenTrue).has(blockAt(fn, mark(c, 'fail'))));
  assert.ok(reachable(fn, b.term.whenFalse).has(blockAt(fn, mark(c, 'held'))));
});

test('if (sx_xlock_sig(&allprison_lock)) tests "not taken" directly', () => {
  const { c, fn } = read('xlock-sig-cond', 'prison_lock_sig2');
  const sig = opAt(fn, mark(c, 'sig'), 'lock').op;
  const b = fn.blocks[opAt(fn, mark(c, 'sig'), 'lock').block]!.term;
  assert.ok(b.kind === 'branch');
  assert.deepEqual(b.cond, { kind: 'unary', op: '!', operand: { kind: 'temp', id: sig.result } });
  assert.ok(reachable(fn, b.whenTrue).has(blockAt(fn, mark(c, 'fail'))));
  assert.ok(reachable(fn, b.whenFalse).has(blockAt(fn, mark(c, 'held'))));
});

test('PROC_LOCK(p), PROC_LOCK_ASSERT(p, MA_OWNED) and PROC_UNLOCK(p) act on p->p_mtx', () => {
  const { c, fn } = read('proc-lock', 'prison_proc_attach');
  assert.equal(lockAt(c, fn, 'lock'), 'acquire p->p_mtx mtx exclusive');
  assert.equal(lockAt(c, fn, 'assert'), 'assert-held p->p_mtx mtx exclusive');
  assert.equal(lockAt(c, fn, 'unlock'), 'release p->p_mtx mtx any');
  assert.deepEqual(opAt(fn, mark(c, 'lock'), 'lock').op.lock,
    { kind: 'field', base: { kind: 'name', name: 'p' }, field: 'p_mtx', arrow: true });
  assert.equal(opAt(fn, mark(c, 'lock'), 'lock').op.callee, 'PROC_LOCK');
});

test('mtx_assert and sx_assert state held or not held, and the mode', () => {
  const { c, fn } = read('asserts', 'prison_asserts');
  assert.equal(lockAt(c, fn, 'owned'), 'assert-held pr->pr_mtx mtx exclusive');
  assert.equal(lockAt(c, fn, 'notowned'), 'assert-not-held pr->pr_mtx mtx any');
  assert.equal(lockAt(c, fn, 'xlocked'), 'assert-held allprison_lock sx exclusive');
  assert.equal(lockAt(c, fn, 'locked'), 'assert-held allprison_lock sx any');
});

test('sx and mtx acquire and release calls carry their class and mode; sx_unlock releases either mode', () => {
  const { c, fn } = read('modes', 'prison_modes');
  assert.equal(lockAt(c, fn, 'slock'), 'acquire allprison_lock sx shared');
  assert.equal(lockAt(c, fn, 'sunlock'), 'release allprison_lock sx shared');
  assert.equal(lockAt(c, fn, 'xlock'), 'acquire allprison_lock sx exclusive');
  assert.equal(lockAt(c, fn, 'unlock'), 'release allprison_lock sx any');
  assert.equal(lockAt(c, fn, 'mlock'), 'acquire pr->pr_mtx mtx exclusive');
  assert.equal(lockAt(c, fn, 'munlock'), 'release pr->pr_mtx mtx any');
});
