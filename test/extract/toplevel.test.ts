/**
 * What surrounds a function in kern_jail.c must not hide it: file-scope
 * macro invocations (`static SYSCTL_NODE(...)`, `SYSCTL_JAIL_PARAM(, ...)`),
 * functions defined by a macro (`DB_SHOW_COMMAND`), attribute macros in
 * parameter lists, pointer return types, and the contract comment above a
 * definition, which the checks read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureCase, loadFixture, mark } from './fixture';
import { assertAllRead, extract, loopBlocks, opAt, readFunction } from './irQuery';

const cases = loadFixture('toplevel.c');

test('functions after MALLOC_DEFINE, static SYSCTL_NODE, SYSCTL_PROC and SYSCTL_JAIL_PARAM are all found and read', () => {
  const c = fixtureCase(cases, 'sysctl-node');
  const ir = extract(c.text);
  assertAllRead(ir, ['prison_after_node', 'prison_after_proc']);
});

test('a function right after SYSCTL_JAIL_PARAM(, …) keeps its `static` and starts at it', () => {
  const c = fixtureCase(cases, 'sysctl-node');
  const fn = readFunction(extract(c.text), 'prison_after_proc');
  assert.equal(fn.isStatic, true);
  assert.equal(c.text.slice(fn.range.start, fn.nameRange.end), 'static void\nprison_after_proc');
});

test('a function right after a static SYSCTL_NODE keeps its range, name and parameters', () => {
  const c = fixtureCase(cases, 'sysctl-node');
  const fn = readFunction(extract(c.text), 'prison_after_node');
  assert.equal(c.text.slice(fn.range.start, fn.nameRange.end), 'static int\nprison_after_node');
  assert.equal(c.text.slice(fn.nameRange.start, fn.nameRange.end), 'prison_after_node');
  assert.ok(c.text.slice(fn.range.start, fn.range.end).endsWith('return (0);\n}'));
  assert.deepEqual(fn.params.map((p) => [p.name, p.type.text, p.type.struct]), [['pr', 'struct prison *', 'prison']]);
  assert.equal(fn.isStatic, true);
  assert.equal(fn.returnType.text, 'int');
});

test('DB_SHOW_COMMAND(prison, name) { … } is a function named by its last argument, and its body is read', () => {
  const c = fixtureCase(cases, 'db-show');
  const ir = extract(c.text);
  assertAllRead(ir, ['db_show_prison', 'db_show_prison_command']);
  const fn = readFunction(ir, 'db_show_prison_command');
  assert.equal(fn.nameRange.start, mark(c, 'name'));
  assert.ok(c.text.slice(fn.range.start).startsWith('DB_SHOW_COMMAND(prison, db_show_prison_command)\n'));
  // The TAILQ_FOREACH inside it is a loop around the call.
  const call = opAt(fn, mark(c, 'call'), 'call');
  assert.equal(call.op.callee, 'db_show_prison');
  const head = fn.blocks.find((b) => b.term.kind === 'branch' && b.term.origin === 'macro-loop')!;
  assert.ok(head, 'a macro loop');
  assert.ok(loopBlocks(fn, head.id).has(call.block));
});

test('`void *arg __unused` and `int pending __unused` are ordinary parameters', () => {
  const c = fixtureCase(cases, 'unused-param');
  const ir = extract(c.text);
  assertAllRead(ir, ['prison_task_run', 'prison_count_unused']);
  const fn = readFunction(ir, 'prison_task_run');
  assert.deepEqual(fn.params.map((p) => [p.name, p.type.text]), [['arg', 'void *'], ['pending', 'int']]);
  assert.deepEqual(fn.locals.map((v) => [v.name, v.type.text]), [['pr', 'struct prison *']]);
  assert.equal(opAt(fn, mark(c, 'call'), 'call').op.callee, 'prison_deref');
  assert.deepEqual(readFunction(ir, 'prison_count_unused').params.map((p) => p.name), ['pr']);
});

test('`struct prison *` on the line before the name is the return type: one pointer to struct prison', () => {
  const c = fixtureCase(cases, 'pointer-return');
  const ir = extract(c.text);
  assertAllRead(ir, ['prison_find', 'prison_slot', 'prison_no_comment']);
  const find = readFunction(ir, 'prison_find');
  assert.deepEqual(find.returnType, { text: 'struct prison *', struct: 'prison', pointer: 1 });
  assert.equal(find.isStatic, false);
  assert.equal(c.text.slice(find.nameRange.start, find.nameRange.end), 'prison_find');
  assert.deepEqual(readFunction(ir, 'prison_slot').returnType, { text: 'struct prison **', struct: 'prison', pointer: 2 });
});

test('the comment block above a definition is its comment, without the stars; a function with none has none', () => {
  const c = fixtureCase(cases, 'pointer-return');
  const ir = extract(c.text);
  assert.equal(readFunction(ir, 'prison_find').comment, 'Find a prison by ID.\nReturns the prison locked, or NULL if there is none.');
  assert.equal(readFunction(ir, 'prison_slot').comment, 'Not a contract: a one-line comment is taken too.');
  assert.equal(readFunction(ir, 'prison_no_comment').comment, undefined);
});
