/**
 * Control flow as kern_jail.c writes it: goto cleanup ladders, switch with
 * fallthrough, KASSERT/MPASS (assert ops whose message is not evaluated),
 * panic, plain loops and conditional expressions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionIR } from '../../simulator/src/ir';
import { FixtureCase, fixtureCase, loadFixture, mark } from './fixture';
import { blockAt, branches, dump, extract, live, loopBlocks, opAt, ops, reachable, readFunction } from './irQuery';

const cases = loadFixture('control.c');

function read(name: string, fnName: string): { c: FixtureCase; fn: FunctionIR } {
  const c = fixtureCase(cases, name);
  return { c, fn: readFunction(extract(c.text), fnName) };
}

test('each goto of a cleanup ladder enters it at its own label and falls through only the labels below', () => {
  const { c, fn } = read('ladder', 'prison_create_child');
  const deref = fn.blocks.find((b) => b.label === 'done_deref_locked');
  const unlock = fn.blocks.find((b) => b.label === 'done_unlock_list');
  assert.ok(deref && unlock, dump(fn));
  assert.equal(blockAt(fn, mark(c, 'deref')), deref.id);
  assert.equal(blockAt(fn, mark(c, 'unlock')), unlock.id);
  const nullTest = branches(fn).find((b) => b.term.condText === 'pr == NULL')!;
  const errTest = branches(fn).find((b) => b.term.condText === 'error != 0')!;
  // pr == NULL: straight to done_unlock_list, never through the deref.
  assert.ok(reachable(fn, nullTest.term.whenTrue).has(unlock.id));
  assert.ok(!reachable(fn, nullTest.term.whenTrue).has(deref.id), dump(fn));
  // error != 0: to done_deref_locked, which returns before the list unlock.
  assert.ok(reachable(fn, errTest.term.whenTrue).has(deref.id));
  assert.ok(!reachable(fn, deref.id).has(unlock.id), 'done_deref_locked returns before done_unlock_list');
  // The success path reaches neither label.
  const success = blockAt(fn, mark(c, 'success'));
  assert.ok(!reachable(fn, success).has(deref.id) && !reachable(fn, success).has(unlock.id));
  const call = opAt(fn, mark(c, 'deref'), 'call');
  assert.deepEqual(call.op.argTexts, ['pr', 'PD_DEREF | PD_LOCKED | PD_LIST_XLOCKED']);
});

test('a goto to a label that does not exist is a problem of that function', () => {
  const ir = extract('static int\nf(void)\n{\n\n\tgoto nowhere;\n}\n');
  assert.deepEqual(ir.functions.map((f) => f.problems.map((p) => p.message)), [['goto nowhere names no label in this function']]);
});

test('switch: each case falls through into the next until a break or return; the default takes what no case matched', () => {
  const { c, fn } = read('fallthrough', 'prison_param_kind');
  const tests = branches(fn).filter((b) => b.term.origin === 'switch');
  assert.deepEqual(tests.map((b) => b.term.condText), ['(kind) == JAIL_SYS_NEW', '(kind) == JAIL_SYS_INHERIT', '(kind) == JAIL_SYS_DISABLE']);
  const block = (m: string) => blockAt(fn, mark(c, m));
  // JAIL_SYS_NEW runs its own code and then JAIL_SYS_INHERIT's (/* FALLTHROUGH */) without another test.
  assert.ok(reachable(fn, block('new')).has(block('inherit')));
  assert.ok(!reachable(fn, block('new')).has(block('disable')), 'the break stops the fallthrough');
  assert.ok(reachable(fn, block('inherit')).has(block('after')), 'break goes to the code after the switch');
  // JAIL_SYS_DISABLE returns; the default runs into the code after the switch.
  assert.ok(!reachable(fn, block('disable')).has(block('after')));
  assert.ok(reachable(fn, block('default')).has(block('after')));
  // The default is where the last test's false side goes.
  assert.ok(reachable(fn, tests[2]!.term.whenFalse).has(block('default')));
  assert.ok(!reachable(fn, tests[2]!.term.whenFalse).has(block('new')));
});

test('KASSERT and MPASS become assert ops on their condition; KASSERT\'s message is never evaluated', () => {
  const { c, fn } = read('asserts', 'prison_check_refs');
  const k = opAt(fn, mark(c, 'kassert'), 'assert');
  assert.equal(k.op.macro, 'KASSERT');
  assert.equal(k.op.condText, 'pr->pr_ref > 0');
  assert.deepEqual(k.op.cond, { kind: 'binary', op: '>', left: { kind: 'field', base: { kind: 'name', name: 'pr' }, field: 'pr_ref', arrow: true }, right: { kind: 'num', value: 0 } });
  const m = opAt(fn, mark(c, 'mpass'), 'assert');
  assert.equal(m.op.macro, 'MPASS');
  assert.equal(m.op.condText, 'pr->pr_uref >= 0');
  const k2 = opAt(fn, mark(c, 'kassert2'), 'assert');
  assert.equal(k2.op.condText, 'pr != &prison0 && prison_alive(pr)');
  // prison_refs() is in the first message, __func__ in the second: neither is a call or a read.
  const calls = ops(fn).flatMap((p) => (p.op.kind === 'call' ? [p.op.callee] : []));
  assert.deepEqual(calls, ['prison_alive']);
});

test('a call to panic() ends its path: nothing after it on that side', () => {
  const { c, fn } = read('panic', 'prison_must_live');
  const p = opAt(fn, mark(c, 'panic'), 'call');
  assert.equal(p.op.callee, 'panic');
  assert.equal(fn.blocks[p.block]!.term.kind, 'abort');
  assert.ok(!reachable(fn, p.block).has(blockAt(fn, mark(c, 'after'))));
  assert.ok(live(fn).has(blockAt(fn, mark(c, 'after'))));
});

test('for (tpr = pr;; tpr = tpr->pr_parent): the init runs once, the step on every way round, break and continue go where C says', () => {
  const { c, fn } = read('loops', 'prison_walk_up');
  const init = opAt(fn, mark(c, 'init'), 'assign');
  const step = opAt(fn, mark(c, 'step'), 'assign');
  assert.equal(init.op.targetText, 'tpr');
  assert.deepEqual(step.op.value, { kind: 'field', base: { kind: 'name', name: 'tpr' }, field: 'pr_parent', arrow: true });
  assert.ok(!reachable(fn, step.block).has(init.block), 'the init is not in the loop');
  const atRoot = branches(fn).find((b) => b.term.condText === 'tpr == &prison0')!;
  const persist = branches(fn).find((b) => b.term.condText === 'tpr->pr_flags & PR_PERSIST')!;
  const body = blockAt(fn, mark(c, 'body'));
  // break: out of the loop without the step; continue: through the step and round again.
  assert.ok(!reachable(fn, atRoot.term.whenTrue).has(step.block));
  assert.ok(reachable(fn, atRoot.term.whenTrue).has(blockAt(fn, mark(c, 'do'))));
  assert.ok(reachable(fn, persist.term.whenTrue).has(step.block));
  assert.ok(!reachable(fn, persist.term.whenTrue, step.block).has(body), 'continue skips n++');
  // do { } while (0): the body runs once, the test is the constant 0.
  const doTest = branches(fn).find((b) => b.term.origin === 'loop' && b.term.condText === '0')!;
  assert.deepEqual(doTest.term.cond, { kind: 'num', value: 0 });
  assert.ok(loopBlocks(fn, doTest.block).has(blockAt(fn, mark(c, 'do'))));
});

test('a conditional expression passes one of its two values, each on its own path', () => {
  const { c, fn } = read('ternary', 'prison_deref_either');
  const call = opAt(fn, mark(c, 'call'), 'call');
  const arg = call.op.args[1]!;
  assert.equal(arg.kind, 'temp');
  const cond = branches(fn).find((b) => b.term.condText === 'locked')!;
  const assigns = ops(fn).filter((p) => p.op.kind === 'assign' && p.op.target.kind === 'temp' && arg.kind === 'temp' && p.op.target.id === arg.id);
  assert.equal(assigns.length, 2);
  const onTrue = assigns.find((p) => reachable(fn, cond.term.whenTrue).has(p.block) && !reachable(fn, cond.term.whenFalse).has(p.block))!;
  const onFalse = assigns.find((p) => reachable(fn, cond.term.whenFalse).has(p.block) && !reachable(fn, cond.term.whenTrue).has(p.block))!;
  assert.ok(onTrue && onFalse, dump(fn));
  assert.deepEqual(onTrue.op.kind === 'assign' && onTrue.op.value, { kind: 'binary', op: '|', left: { kind: 'name', name: 'PD_DEREF' }, right: { kind: 'name', name: 'PD_LOCKED' } });
  assert.deepEqual(onFalse.op.kind === 'assign' && onFalse.op.value, { kind: 'name', name: 'PD_DEREF' });
});

test('-1 is the number minus one, in a comparison and as a return value', () => {
  const { c, fn } = read('negative', 'prison_check_id');
  const cond = branches(fn).find((b) => b.term.range.start === mark(c, 'cond'))!;
  assert.deepEqual(cond.term.cond, { kind: 'binary', op: '==', left: { kind: 'name', name: 'jid' }, right: { kind: 'num', value: -1 } });
  const ret = fn.blocks.find((b) => b.term.kind === 'return' && b.term.range.start === mark(c, 'ret'))!.term;
  assert.ok(ret.kind === 'return');
  assert.deepEqual(ret.value, { kind: 'num', value: -1 });
});
