/**
 * Scenario files: a user's world and threads, run instead of the built-in
 * scenarios; every mistake rejected with a message that names it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { example, readFixture, ROOT } from '../helpers';
import { readScenarios, ScenarioError } from '../../simulator/src/sim/userScenario';
import { simulatorOf } from './simHelpers';

const sim = simulatorOf(example());
const base = {
  name: 'mine',
  world: { jails: [{ name: 'A', parent: 'prison0', held: true }], processes: [{ name: 'p1', jail: 'A' }, { name: 'p2' }] },
  threads: [
    { process: 'p1', calls: ['prison_deref(A, PD_DEREF | PD_DEUREF)'] },
    { process: 'p2', calls: ['jail_attach(td, A.pr_id)', "prison_proc_free(p2's jail)"] },
  ],
};
const read = (s: unknown) => readScenarios(JSON.stringify(s), sim.program);
const rejects = (s: unknown, message: string) => assert.throws(() => read(s), (e: unknown) => e instanceof ScenarioError && e.message === message);

test('a user scenario runs like a built-in one: the seed\'s schedule, written by hand, finds prison0 at zero', () => {
  const [spec] = read(base);
  const r = sim.run(spec!, { deadline: Infinity });
  assert.equal(r.verdict, 'violation');
  assert.equal(r.counterexample!.invariant, 'root-uref-zero');
  assert.equal(r.world, 'built');
  assert.deepEqual(r.threads.map((t) => t.calls), [['prison_deref(A, PD_DEREF | PD_DEUREF)'], ['jail_attach(td, A.pr_id)', "prison_proc_free(p2's jail)"]]);
});

test('the invariants a scenario lists are the only ones checked: without the counters\', the cascade runs off the top of the hierarchy', () => {
  const [spec] = read({ ...base, invariants: ['deadlock', 'use-after-free', 'null-dereference'] });
  const c = sim.run(spec!, { deadline: Infinity }).counterexample!;
  assert.equal(c.invariant, 'null-dereference');
  assert.equal(c.message, 'tpr->pr_mtx: tpr is NULL');
  assert.equal(c.also.length, 0);
});

test('counts stated outright make a stated world with those counts', () => {
  const [spec] = read({ ...base, world: { ...base.world, counts: { A: { pr_ref: 5, pr_uref: 1 } } } });
  const r = sim.run(spec!, { deadline: Infinity });
  assert.equal(r.world, 'stated');
  assert.match(r.setup[0]!, /A pr_ref=5 pr_uref=1/);
});

test('a scenario that names a function the file lacks, an unknown flag, field, jail or invariant is rejected, naming it', () => {
  rejects({ ...base, threads: [{ calls: ['prison_destroy(A)'] }] }, 'scenario "mine": thread 1: the file defines no function prison_destroy()');
  rejects({ ...base, threads: [{ calls: ['prison_deref(A, PD_DEREF | PD_FOO)'] }] }, 'scenario "mine": thread 1: in prison_deref(): unknown flag PD_FOO (the file neither defines nor uses it)');
  rejects({ ...base, threads: [{ calls: ['jail_attach(td, A.pr_idx)'] }] }, 'scenario "mine": thread 1: in jail_attach(): unknown field pr_idx (the file never uses it)');
  rejects({ ...base, threads: [{ calls: ['prison_hold(Z)'] }] }, 'scenario "mine": thread 1: in prison_hold(): Z is not a jail of the world, a flag, td, p or cred');
  rejects({ ...base, threads: [{ calls: ['prison_hold(A, A)'] }] }, 'scenario "mine": thread 1: prison_hold() takes 1 argument, "prison_hold(A, A)" passes 2');
  rejects({ ...base, invariants: ['no-bugs'] }, 'scenario "mine": unknown invariant "no-bugs" (known: kassert, counter-negative, root-uref-zero, lock-owner, lock-mode, lock-recursion, lock-assert, held-at-exit, deadlock, use-after-free, null-dereference, panic)');
  rejects({ ...base, world: { jails: [{ name: 'B', parent: 'A' }] } }, 'scenario "mine": jail B: its parent A is not prison0 or a jail listed before it');
  rejects({ ...base, world: { ...base.world, counts: { A: { pr_refs: 1 } } } }, 'scenario "mine": "world.counts.A" names the field pr_refs, which is not a counter (pr_ref, pr_uref)');
  rejects({ threads: [] }, 'scenario 1: it has no "name"');
  assert.throws(() => readScenarios('{"name": ', sim.program), /^Error: the scenario file is not JSON: /);
});

test('the shipped JSON schema accepts the scenario files of the fixtures and the docs, and refuses a misspelt key', async () => {
  const Ajv = (await import('ajv')).default;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/scenario.schema.json'), 'utf8')));
  for (const f of ['three-holds.json', 'three-drops.json', 'mixed-three.json']) {
    assert.ok(validate(JSON.parse(readFixture(`test/fixtures/sim/${f}`))), `${f}: ${ajv.errorsText(validate.errors)}`);
  }
  assert.ok(validate(base));
  assert.equal(validate({ ...base, thread: [] }), false);
});
