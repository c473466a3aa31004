/**
 * Reference-count changes: refcount(9) calls on the configured counter
 * fields become count ops (with a result temp where the call returns
 * something), and so do ++, --, += and = on them, inside conditions too,
 * with the temp saying whether it holds the value before or after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionIR } from '../../simulator/src/ir';
import { FixtureCase, fixtureCase, loadFixture, mark } from './fixture';
import { blockAt, branches, dump, extract, opAt, ops, reachable, readFunction } from './irQuery';

const cases = loadFixture('counts.c');

function read(name: string, fnName: string): { c: FixtureCase; fn: FunctionIR } {
  const c = fixtureCase(cases, name);
  return { c, fn: readFunction(extract(c.text), fnName) };
}

const field = (base: string, f: string) => ({ kind: 'field', base: { kind: 'name', name: base }, field: f, arrow: true });

test('refcount_init, refcount_acquire and the refcount_release family are count ops on the named counter', () => {
  const { c, fn } = read('refcount-calls', 'prison_refcount_calls');
  const init = opAt(fn, mark(c, 'init'), 'count').op;
  assert.deepEqual([init.callee, init.counter, init.targetText, init.change, init.result], ['refcount_init', 'pr_ref', 'pr->pr_ref', { kind: 'set', value: 1 }, undefined]);
  assert.deepEqual(init.target, field('pr', 'pr_ref'));
  const acquire = opAt(fn, mark(c, 'acquire'), 'count').op;
  assert.deepEqual([acquire.callee, acquire.counter, acquire.change, acquire.result], ['refcount_acquire', 'pr_uref', { kind: 'add', amount: 1 }, undefined]);
  const release = opAt(fn, mark(c, 'release'), 'count').op;
  assert.deepEqual([release.callee, release.counter, release.change, release.resultIs], ['refcount_release', 'pr_ref', { kind: 'release', amount: 1 }, 'flag']);
  const notLast = opAt(fn, mark(c, 'notlast'), 'count').op;
  assert.deepEqual([notLast.counter, notLast.change, notLast.resultIs], ['pr_uref', { kind: 'release-if-not-last' }, 'flag']);
  const notZero = opAt(fn, mark(c, 'notzero'), 'count').op;
  assert.deepEqual([notZero.counter, notZero.change, notZero.resultIs], ['pr_ref', { kind: 'acquire-if-not-zero' }, 'flag']);
  // No call op for any of them: they are counter changes, not calls to follow.
  assert.deepEqual(ops(fn).filter((p) => p.op.kind === 'call' && p.op.callee.startsWith('refcount_')), []);
});

test('if (refcount_release(…)) and if (!refcount_release_if_not_last(…)) branch on the call\'s result temp', () => {
  const { c, fn } = read('refcount-calls', 'prison_refcount_calls');
  const release = opAt(fn, mark(c, 'release'), 'count').op;
  const notLast = opAt(fn, mark(c, 'notlast'), 'count').op;
  const onRelease = branches(fn).find((b) => b.term.cond.kind === 'temp' && b.term.cond.id === release.result)!;
  assert.ok(onRelease, dump(fn));
  assert.ok(reachable(fn, onRelease.term.whenTrue).has(blockAt(fn, mark(c, 'free'))));
  assert.ok(!reachable(fn, onRelease.term.whenFalse).has(blockAt(fn, mark(c, 'free'))));
  // The `!` swaps the sides: the call runs when the release did not happen.
  const onNotLast = branches(fn).find((b) => b.term.cond.kind === 'temp' && b.term.cond.id === notLast.result)!;
  assert.ok(reachable(fn, onNotLast.term.whenFalse).has(blockAt(fn, mark(c, 'last'))));
  assert.ok(!reachable(fn, onNotLast.term.whenTrue).has(blockAt(fn, mark(c, 'last'))), dump(fn));
});

test('if (--tpr->pr_uref > 0) is a decrement whose result is the value after it, and the branch tests that temp', () => {
  const { c, fn } = read('pre-decrement', 'prison_uref_chain');
  const dec = opAt(fn, mark(c, 'dec'), 'count');
  assert.deepEqual([dec.op.targetText, dec.op.counter, dec.op.change, dec.op.resultIs], ['tpr->pr_uref', 'pr_uref', { kind: 'add', amount: -1 }, 'after']);
  assert.equal(c.text.slice(dec.op.range.start, dec.op.range.end), '--tpr->pr_uref');
  const b = fn.blocks[dec.block]!.term;
  assert.ok(b.kind === 'branch', dump(fn));
  assert.deepEqual(b.cond, { kind: 'binary', op: '>', left: { kind: 'temp', id: dec.op.result }, right: { kind: 'num', value: 0 } });
  assert.equal(b.condText, '--tpr->pr_uref > 0');
  // > 0: break out; otherwise unlock and go round.
  assert.ok(reachable(fn, b.whenFalse).has(blockAt(fn, mark(c, 'unlock'))));
  assert.ok(!reachable(fn, b.whenTrue).has(blockAt(fn, mark(c, 'unlock'))));
});

test('if (pr->pr_uref-- == 1) is a decrement whose result is the value before it', () => {
  const { c, fn } = read('post-decrement', 'prison_uref_last');
  const dec = opAt(fn, mark(c, 'dec'), 'count');
  assert.deepEqual([dec.op.change, dec.op.resultIs], [{ kind: 'add', amount: -1 }, 'before']);
  const b = fn.blocks[dec.block]!.term;
  assert.ok(b.kind === 'branch');
  assert.deepEqual(b.cond, { kind: 'binary', op: '==', left: { kind: 'temp', id: dec.op.result }, right: { kind: 'num', value: 1 } });
});

test('counter statements: ++ is +1, -- is -1, += 2 is +2, = 0 sets, and `ref = --pr->pr_ref` assigns the after value', () => {
  const { c, fn } = read('statements', 'prison_counter_statements');
  assert.deepEqual(opAt(fn, mark(c, 'inc'), 'count').op.change, { kind: 'add', amount: 1 });
  assert.deepEqual(opAt(fn, mark(c, 'dec'), 'count').op.change, { kind: 'add', amount: -1 });
  assert.equal(opAt(fn, mark(c, 'dec'), 'count').op.targetText, 'ppr->pr_uref');
  assert.deepEqual(opAt(fn, mark(c, 'add'), 'count').op.change, { kind: 'add', amount: 2 });
  assert.deepEqual(opAt(fn, mark(c, 'set'), 'count').op.change, { kind: 'set', value: 0 });
  const predec = opAt(fn, mark(c, 'predec'), 'count');
  assert.equal(predec.op.resultIs, 'after');
  const assign = ops(fn).find((p) => p.op.kind === 'assign' && p.op.targetText === 'ref')!;
  assert.ok(assign.op.kind === 'assign');
  assert.deepEqual(assign.op.value, { kind: 'temp', id: predec.op.result });
  assert.ok(assign.index > predec.index && assign.block === predec.block, 'the assignment follows the decrement');
  assert.deepEqual(ops(fn).filter((p) => p.op.kind === 'count').length, 5);
});

test('refcount_acquire on a field that is not a configured counter stays a call, and ++ on one stays an assignment', () => {
  const { c, fn } = read('not-a-counter', 'prison_other_counts');
  const call = opAt(fn, mark(c, 'acquire'), 'call');
  assert.equal(call.op.callee, 'refcount_acquire');
  const inc = opAt(fn, mark(c, 'inc'), 'assign');
  assert.deepEqual([inc.op.targetText, inc.op.op, inc.op.value], ['pr->pr_childcount', '+=', { kind: 'num', value: 1 }]);
  assert.deepEqual(ops(fn).filter((p) => p.op.kind === 'count'), []);
});

test('refcount_load reads the counter: the condition compares the field itself, and nothing changes', () => {
  const { c, fn } = read('load', 'prison_uref_now');
  assert.deepEqual(ops(fn), []);
  const b = branches(fn)[0]!;
  assert.deepEqual(b.term.cond, { kind: 'binary', op: '==', left: field('pr', 'pr_uref'), right: { kind: 'num', value: 0 } });
  assert.equal(b.term.range.start, mark(c, 'load'));
});
