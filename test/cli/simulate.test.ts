/**
 * `jailcheck simulate` and `jailcheck scenarios`, run as a user runs them:
 * the bundled CLI in a child process. The seed story's verdict and label,
 * the JSON shape docs/simulate.md documents (its tables are read here, so
 * the page and the output cannot drift apart), scenario files, and bad
 * input: one line on standard error, exit code 2, nothing on standard
 * output, no stack trace, nothing written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { example, readFixture, ROOT } from '../helpers';
import { assertSessionsRun, consoleSessions, fieldTables } from './docPages';
import { runCli } from './runCli';
import { expectInputError as expectInputErrorIn } from './inputErrors';
import { makeWorkspace, removeWorkspace } from './workspace';

const DOC = readFixture('docs/simulate.md');

const EXAMPLE = 'examples/kern_jail_2011.c';
const RACE = 'test/fixtures/sim/race.c';
const DEADLOCK = 'test/fixtures/sim/deadlock.c';

/** A user scenario on the example, as docs/simulate.md writes one; each bad file below changes one thing. */
const GOOD = {
  name: 'attach-after-death',
  world: { jails: [{ name: 'A', parent: 'prison0', held: true }], processes: [{ name: 'p1', jail: 'A' }, { name: 'p2' }] },
  threads: [
    { process: 'p1', calls: ['prison_deref(A, PD_DEREF | PD_DEUREF)'] },
    { process: 'p2', calls: ['jail_attach(td, A.pr_id)', "prison_proc_free(p2's jail)"] },
  ],
};
const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
const withThread = (calls: string[], process = 'p2'): unknown => ({ ...GOOD, threads: [GOOD.threads[0], { process, calls }] });

/** A function with #if groups inside: the simulator runs one configuration and says which. Written for these tests. */
const IFDEF = `struct prison prison0 = {
\t.pr_ref\t\t= 1,
\t.pr_uref\t= 1,
};

void
prison_tweak(struct prison *pr)
{

\tmtx_lock(&pr->pr_mtx);
#ifdef VIMAGE
\tpr->pr_ref++;
#else
\tpr->pr_ref--;
#endif
#ifndef INET6
\tpr->pr_uref--;
#endif
\tmtx_unlock(&pr->pr_mtx);
}
`;

/** The ```json block of docs/simulate.md: its full scenario-file example. */
function docExample(): string {
  const blocks = [...DOC.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.equal(blocks.length, 1, 'docs/simulate.md has one scenario-file example');
  return blocks[0]!;
}

let dir: string;
before(() => {
  dir = makeWorkspace({
    [EXAMPLE]: example(),
    [RACE]: readFixture(RACE),
    [DEADLOCK]: readFixture(DEADLOCK),
    'test/fixtures/sim/three-holds.json': readFixture('test/fixtures/sim/three-holds.json'),
    'test/fixtures/sim/three-drops.json': readFixture('test/fixtures/sim/three-drops.json'),
    'good.json': json(GOOD),
    'binary.c': Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]),
    'empty.c': '',
    'header.h': '#define PD_DEREF 0x01\nstruct prison;\n',
    'truncated.json': '{ "name": ',
    'yaml.json': 'name: mine\nthreads:\n  - calls: [prison_hold(A)]\n',
    'binary.json': Uint8Array.from([0x7b, 0x00, 0x0a, 0x01, 0x7d]),
    'list.json': '[]\n',
    'no-function.json': json(withThread(['prison_destroy(A)'])),
    'no-flag.json': json({ ...GOOD, threads: [{ process: 'p1', calls: ['prison_deref(A, PD_DEREF | PD_FOO)'] }] }),
    'no-field.json': json(withThread(['jail_attach(td, A.pr_idx)'])),
    'no-jail.json': json(withThread(['prison_hold(Z)'])),
    'arity.json': json(withThread(['prison_hold(A, A)'])),
    'no-invariant.json': json({ ...GOOD, invariants: ['no-bugs'] }),
    'counts-field.json': json({ ...GOOD, world: { ...GOOD.world, counts: { A: { pr_refs: 1 } } } }),
    'misspelt-key.json': json({ ...GOOD, invariant: ['deadlock'] }),
    'misspelt-jail-key.json': json({ ...GOOD, world: { ...GOOD.world, jails: [{ name: 'A', parent: 'prison0', persistent: true }] } }),
    'null-thread.json': json({ ...GOOD, threads: [null] }),
    'null-jail.json': json({ ...GOOD, world: { ...GOOD.world, jails: [null] } }),
    'null-counts.json': json({ ...GOOD, world: { ...GOOD.world, counts: { A: null } } }),
    'world-number.json': json({ ...GOOD, world: 5 }),
    'persist-string.json': json({ ...GOOD, world: { ...GOOD.world, jails: [{ name: 'A', parent: 'prison0', persist: 'yes' }] } }),
    'newline-call.json': json(withThread(['prison hold\n(A)'])),
    'unknown-process.json': json(withThread(["prison_free(p7's jail)"])),
    'td-without-process.json': json(withThread(['jail_attach(td, A.pr_id)'], 'p9')),
    'seven-threads.json': json({ ...GOOD, threads: Array.from({ length: 7 }, () => ({ calls: ['prison_hold(A)'] })) }),
    'doc-example.json': docExample(),
    'ifdef.c': IFDEF,
  });
});
after(() => removeWorkspace(dir));

/** What each bad scenario file was told, without the "jailcheck: FILE.json: " prefix: the page's table must have it. */
const scenarioFileMessages: string[] = [];

/** Runs the CLI and checks it fails as a usage or input error should: exit 2, one line on stderr, nothing else. */
async function expectInputError(args: string[], message: RegExp): Promise<void> {
  const { line } = await expectInputErrorIn(dir, args, message);
  const file = args[args.indexOf('--scenario') + 1];
  if (args.includes('--scenario') && file?.endsWith('.json')) scenarioFileMessages.push(line.slice(`jailcheck: ${file}: `.length));
}

const simulate = (...more: string[]): string[] => ['simulate', EXAMPLE, '--function', 'prison_deref', ...more];

// ---------------------------------------------------------------- verdicts, labels and exit codes

test('revival-by-attach on the example: exit 1, prison0\'s pr_uref at zero on line 393 with no preemption, then the KASSERT', async () => {
  const r = await runCli(simulate('--scenario', 'revival-by-attach'), { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^prison_deref\(\): 1 scenario, 1 with a violation \(\d+\.\d\d s\)$/);
  assert.match(lines[2]!, /^VIOLATION revival-by-attach: p1 runs prison_deref\(A, PD_DEREF \| PD_DEUREF\) while p2 runs jail_attach\(td, A\.pr_id\), /);
  assert.ok(lines.includes('          examples/kern_jail_2011.c:393: prison0.pr_uref reached 0 in prison_deref(): the host lost its last user reference [root-uref-zero] — logic error (no preemption needed)'), r.stdout);
  assert.ok(lines.includes('          then examples/kern_jail_2011.c:395: KASSERT(tpr != &prison0) fails in prison_deref() [kassert]'), r.stdout);
  assert.ok(lines.includes('          world: built by the file\'s own functions: prison_proc_hold(prison0); prison_hold(prison0); prison_proc_hold(prison0); prison_hold(prison0); prison_create(prison0, "A", 1, &new) → A; jail_attach(p1\'s td, A.pr_id); prison_set_persist(A.pr_id, 0); then: prison0 pr_ref=3 pr_uref=3; A pr_ref=2 pr_uref=1'), r.stdout);
  // The schedule: thread 1 runs to its end before thread 2 starts, and no step is a preemption.
  const steps = lines.filter((l) => /^ +\d+ {2}T\d /.test(l));
  const threads = steps.map((l) => Number(/T(\d)/.exec(l)![1]));
  assert.deepEqual([...new Set(threads)], [1, 2]);
  assert.deepEqual(threads, [...threads].sort(), 'thread 1 first, then thread 2');
  assert.ok(!r.stdout.includes('[preemption]'));
  assert.match(steps.find((l) => l.endsWith(' ✗'))!, /^ +36 {2}T2 {4}393 {2}prison_deref: ✗ prison0\.pr_uref reached 0/);
});

test('a race needs a preemption and says how many; a lock-order deadlock too', async () => {
  const race = await runCli(['simulate', RACE, '--function', 'prison_drop'], { cwd: dir });
  assert.equal(race.code, 1, race.stderr);
  assert.match(race.stdout, /^prison_drop\(\): 4 scenarios, 1 with a violation /);
  assert.match(race.stdout, /\n {10}test\/fixtures\/sim\/race\.c:46: pr->pr_ref reads A, which was freed \[use-after-free\] — race \(1 preemption\)\n/);
  assert.match(race.stdout, /\[preemption\]/);
  const deadlock = await runCli(['simulate', DEADLOCK, '--function', 'prison_rename', '--scenario', 'with-prison_renumber'], { cwd: dir });
  assert.equal(deadlock.code, 1, deadlock.stderr);
  assert.match(deadlock.stdout, /test\/fixtures\/sim\/deadlock\.c:30: deadlock: thread 1 holds A\.pr_mtx and waits for allprison_lock; thread 2 holds allprison_lock and waits for A\.pr_mtx \[deadlock\] — race \(1 preemption\)/);
});

test('--preemptions bounds the first search only: with 0, every interleaving is then explored with DPOR and the race is still found', async () => {
  const r = await runCli(['simulate', RACE, '--function', 'prison_drop', '--scenario', 'two-callers', '--preemptions', '0'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /\[use-after-free\] — race \(1 preemption\)/);
});

test('no violation: exit 0, OK, and how far the exploration went', async () => {
  const r = await runCli(simulate('--scenario', 'removal'), { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nOK {8}removal: p1 runs prison_deref\(A, PD_DEREF \| PD_DEUREF\) while admin runs jail_remove\(A\.pr_id\); /);
  assert.match(r.stdout, /\n {10}\d[\d,]* executions, \d[\d,]* distinct states, every interleaving\n/);
  const bounded = await runCli(['simulate', RACE, '--function', 'prison_drop_locked_test', '--format', 'json'], { cwd: dir });
  assert.equal(bounded.code, 0, bounded.stderr);
  const out = JSON.parse(bounded.stdout) as { scenarios: Array<{ verdict: string; exhaustive: boolean; counterexample?: unknown }> };
  assert.ok(out.scenarios.every((s) => s.verdict === 'ok' && s.exhaustive && !s.counterexample));
});

test('a budget that stops the search makes the verdict INCOMPLETE (exit 0), and the coverage line claims no bound it did not finish', async () => {
  const r = await runCli(simulate('--scenario', 'removal', '--time-budget', '0'), { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nINCOMPLETE removal: /);
  assert.match(r.stdout, /\n {10}\d+ executions?, \d+ distinct states?, not every schedule without preemption\n {10}bound reached: with up to 0 preemptions: stopped by the time budget\n/);
  assert.doesNotMatch(r.stdout, /every interleaving with up to/);
});

// ---------------------------------------------------------------- scenario files and the scenarios command

test('a scenario file from test/fixtures/sim runs instead of the built-in scenarios', async () => {
  const r = await runCli(['simulate', RACE, '--function', 'prison_drop', '--scenario', 'test/fixtures/sim/three-drops.json'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^prison_drop\(\): 1 scenario, 1 with a violation /);
  assert.match(r.stdout, /\nVIOLATION three-drops: three processes of jail A each drop their reference/);
  assert.match(r.stdout, /\n {10}thread 3: prison_drop\(A\)\n/);
  assert.match(r.stdout, /\[use-after-free\] — race \(1 preemption\)/);
});

test('--compare-reduction prints every interleaving\'s count with DPOR, with sleep sets alone and without, the verdicts agreeing', async () => {
  const r = await runCli(['simulate', EXAMPLE, '--function', 'prison_hold', '--scenario', 'test/fixtures/sim/three-holds.json', '--compare-reduction', '--time-budget', '60000'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nOK {8}three-holds: /);
  assert.match(r.stdout, /\n {10}every interleaving: 1 execution with DPOR \(ok\), 25 executions with sleep sets alone \(ok\), 34,650 executions without \(ok\)\n/);
});

test('the scenario-file example of docs/simulate.md is valid, and runs as the page says: a violation, then OK, exit 1', async () => {
  const Ajv = (await import('ajv')).default;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/scenario.schema.json'), 'utf8')));
  assert.ok(validate(JSON.parse(docExample())), JSON.stringify(validate.errors));
  const r = await runCli(simulate('--scenario', 'doc-example.json'), { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /\nVIOLATION attach-after-last-exit: /);
  assert.match(r.stdout, /:393: prison0\.pr_uref reached 0 in prison_deref\(\): the host lost its last user reference \[root-uref-zero\] — logic error \(no preemption needed\)/);
  assert.match(r.stdout, /\nOK {8}two-exits: the last two processes of jail A exit at the same time\n[\s\S]*, every interleaving\n/);
});

test('scenarios lists the file\'s own operations and the built-in scenarios by name, and runs nothing', async () => {
  const r = await runCli(['scenarios', EXAMPLE], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^the file's own operations: create → prison_create\(\), attach → jail_attach\(\), /);
  assert.equal(lines[2], 'prison_deref(): 15 scenarios');
  const names = lines.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim());
  for (const n of ['revival-by-attach', 'revival-by-persist', 'revival-two-levels', 'removal', 'two-callers', 'hold-and-release']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  for (const flags of ['PD_DEREF | PD_DEUREF', 'PD_DEREF | PD_DEUREF | PD_LOCKED | PD_LIST_XLOCKED', 'PD_DEUREF | PD_LOCKED']) {
    for (const alone of ['alone-held', 'alone', 'alone-two-levels']) assert.ok(names.includes(`${alone} [${flags}]`), `${alone} [${flags}]`);
  }
  const other = await runCli(['scenarios', DEADLOCK, '--function', 'prison_rename'], { cwd: dir });
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stdout, /\n {2}with-prison_renumber\n {6}p1 runs prison_rename\(A, "…"\) while p2 runs prison_renumber\(A\); /);
});

// ---------------------------------------------------------------- docs/simulate.md

/** The time a run took is the one thing that changes between runs. */
const untimed = (s: string): string => s.replace(/ \(\d+\.\d\d s\)$/m, ' (TIME s)');

test('every command on docs/simulate.md prints what the page says (but the time), with the exit codes it says', async () => {
  const all = consoleSessions(DOC);
  assert.ok(all.length >= 4, `${all.length} commands`);
  await assertSessionsRun('docs/simulate.md', all, dir, untimed);
});

/** The field tables of the page's JSON section, by their #### title. */
const SHAPES = fieldTables(DOC.slice(DOC.indexOf('\n## JSON output\n'), DOC.indexOf('\n## ', DOC.indexOf('\n## JSON output\n') + 5)), 4);
/** Every documented field met in some output, as "Section.field": each must be, or the table documents a field no output has. */
const seen = new Set<string>();

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function assertShape(value: unknown, section: string, where: string): void {
  const fields = SHAPES.get(section);
  assert.ok(fields, `docs/simulate.md has no table "#### ${section}"`);
  assert.equal(typeOf(value), 'object', where);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) assert.ok(fields.has(key), `${where}: field "${key}" is not documented under "${section}"`);
  for (const [key, field] of fields) {
    if (!(key in obj)) {
      assert.ok(!field.always, `${where}: documented field "${key}" is missing`);
      continue;
    }
    seen.add(`${section}.${key}`);
    assertValue(obj[key], field.type, `${where}.${key}`);
  }
}

function assertValue(v: unknown, type: string, where: string): void {
  const map = /^map of (\w+)$/.exec(type);
  if (map) {
    assert.equal(typeOf(v), 'object', where);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) assert.equal(typeOf(x), map[1], `${where}.${k}`);
    return;
  }
  if (type.endsWith('[]')) {
    assert.equal(typeOf(v), 'array', where);
    (v as unknown[]).forEach((item, i) => assertValue(item, type.slice(0, -2), `${where}[${i}]`));
    return;
  }
  if (SHAPES.has(type)) assertShape(v, type, where);
  else assert.equal(typeOf(v), type, where);
}

test('docs/simulate.md documents both JSON documents and every object in them', () => {
  assert.deepEqual([...SHAPES.keys()], ['The simulate document', 'Scenario', 'Thread', 'Reduction', 'Exploration', 'Counterexample', 'Site', 'Step', 'Lock',
    'Later violation', 'The scenarios document', 'Function', 'Listed scenario', 'World', 'Jail', 'Process', 'Listed thread']);
});

test('simulate --format json prints exactly the documented shape, every field the documented type', async () => {
  const runs: Array<[string[], number]> = [
    [simulate('--scenario', 'revival-by-attach', '--format', 'json'), 1],
    [['simulate', RACE, '--function', 'prison_drop', '--format', 'json'], 1],
    [['simulate', EXAMPLE, '--function', 'prison_hold', '--scenario', 'test/fixtures/sim/three-holds.json', '--compare-reduction', '--time-budget', '60000', '--format', 'json'], 0],
    [['simulate', 'ifdef.c', '--function', 'prison_tweak', '--format', 'json'], 0],
    [simulate('--scenario', 'removal', '--time-budget', '0', '--format', 'json'), 0],
  ];
  const outs = await Promise.all(runs.map(([args]) => runCli(args, { cwd: dir })));
  outs.forEach((r, i) => {
    assert.equal(r.code, runs[i]![1], `${runs[i]![0].join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    assertShape(JSON.parse(r.stdout), 'The simulate document', `output of ${runs[i]![0].join(' ')}`);
  });
  const [revival, race, reduction, ifdef, cut] = outs.map((r) => JSON.parse(r.stdout));
  // Values, not only types: the seed story's counterexample as the page describes it.
  assert.equal(revival.version, 1);
  assert.equal(revival.file, EXAMPLE);
  const s = revival.scenarios[0];
  assert.deepEqual([s.name, s.verdict, s.world, s.exhaustive, s.executions], ['revival-by-attach', 'violation', 'built', false, 1]);
  assert.deepEqual(s.threads[1], { thread: 2, calls: ['jail_attach(td, A.pr_id)', "prison_proc_free(p2's jail)", "prison_free(p2's jail)"] });
  const c = s.counterexample;
  assert.deepEqual([c.invariant, c.preemptions, c.label], ['root-uref-zero', 0, 'logic error (no preemption needed)']);
  assert.deepEqual([c.at.line, c.at.thread, c.at.function, c.at.step], [393, 2, 'prison_deref', 36]);
  assert.equal(c.steps[c.at.step - 1].operation, c.at.operation);
  assert.equal(c.at.counters['prison0.pr_uref'], 0);
  assert.deepEqual(c.also, [{ invariant: 'kassert', message: 'KASSERT(tpr != &prison0) fails in prison_deref()', step: 38, line: 395 }]);
  assert.ok(c.steps.some((st: { choice?: string }) => st.choice === 'error taken as false'));
  assert.ok(!c.steps.some((st: { preemption?: boolean }) => st.preemption));
  const raced = race.scenarios.find((x: { verdict: string }) => x.verdict === 'violation');
  assert.deepEqual([raced.counterexample.preemptions, raced.counterexample.label], [1, 'race (1 preemption)']);
  assert.equal(raced.counterexample.steps.filter((st: { preemption?: boolean }) => st.preemption).length, 1);
  assert.deepEqual(reduction.scenarios[0].reduction, { withReduction: { executions: 25, verdict: 'ok' }, withDpor: { executions: 1, verdict: 'ok' }, withoutReduction: { executions: 34650, verdict: 'ok' } });
  assert.deepEqual(ifdef.configuration, ['#ifdef VIMAGE: taken', '#ifndef INET6: not taken']);
  assert.equal(cut.scenarios[0].verdict, 'incomplete');
  assert.match(cut.scenarios[0].boundsReached[0], /^with up to 0 preemptions: stopped by the time budget$/);
});

test('scenarios --format json prints exactly the documented shape', async () => {
  const r = await runCli(['scenarios', EXAMPLE, '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assertShape(out, 'The scenarios document', 'scenarios output');
  assert.equal(out.entries.attach, 'jail_attach');
  assert.deepEqual(out.functions.map((f: { function: string }) => f.function), ['prison_deref']);
  const revival = out.functions[0].scenarios.find((x: { name: string }) => x.name === 'revival-by-attach');
  assert.deepEqual(revival.world, { jails: [{ name: 'A', parent: 'prison0', held: true }], processes: [{ name: 'p1', jail: 'A' }, { name: 'p2', jail: 'prison0' }] });
  assert.deepEqual(revival.threads[1], { process: 'p2', calls: ['jail_attach(td, A.pr_id)', "prison_proc_free(p2's jail)", "prison_free(p2's jail)"] });
});

test('every field the JSON tables document was met in some output (a field no output has does not stay on the page)', () => {
  const documented = [...SHAPES].flatMap(([section, fields]) => [...fields.keys()].map((k) => `${section}.${k}`));
  // A violation at a step that is also a choice or a preemption is possible but not in these outputs; a built-in jail is never persistent.
  const rare = new Set(['Site.choice', 'Site.preemption', 'Jail.persist']);
  assert.deepEqual(documented.filter((f) => !seen.has(f) && !rare.has(f)), []);
});

// ---------------------------------------------------------------- bad input

test('simulate without --function is a usage error that says how to find one', async () => {
  await expectInputError(['simulate', EXAMPLE], /^jailcheck: simulate needs --function NAME \(jailcheck scenarios FILE lists the functions and their scenarios\)$/);
});

test('an unknown function is named, with the file, as `check` names it', async () => {
  await Promise.all([
    expectInputError(['simulate', EXAMPLE, '--function', 'prison_nothing'], /^jailcheck: no function named prison_nothing in examples\/kern_jail_2011\.c$/),
    expectInputError(['scenarios', EXAMPLE, '--function', 'prison_nothing'], /^jailcheck: no function named prison_nothing in examples\/kern_jail_2011\.c$/),
  ]);
});

test('an unknown scenario name is refused, listing the first names there are', async () => {
  await expectInputError(simulate('--scenario', 'revival-by-magic'),
    /^jailcheck: no scenario named "revival-by-magic" for prison_deref\(\) \(jailcheck scenarios lists them: alone-held \[PD_DEREF \| PD_DEUREF\], .*, …\)$/);
});

test('a scenario file that is not JSON is one line naming the file, whatever the parser quotes of it', async () => {
  await Promise.all([
    expectInputError(simulate('--scenario', 'truncated.json'), /^jailcheck: truncated\.json: the scenario file is not JSON: Unexpected end of JSON input$/),
    expectInputError(simulate('--scenario', 'yaml.json'), /^jailcheck: yaml\.json: the scenario file is not JSON: Unexpected token 'a'$/),
    expectInputError(simulate('--scenario', 'binary.json'), /^jailcheck: binary\.json: the scenario file is not JSON: .*at line 1, column 2$/),
    expectInputError(simulate('--scenario', 'list.json'), /^jailcheck: list\.json: the scenario file must hold an object$/),
    expectInputError(simulate('--scenario', 'missing.json'), /^jailcheck: missing\.json: no such file$/),
  ]);
});

test('a scenario naming a function, flag, field, jail or invariant the file does not have is refused, naming it', async () => {
  const cases: Array<[string, string]> = [
    ['no-function.json', 'scenario "attach-after-death": thread 2: the file defines no function prison_destroy()'],
    ['no-flag.json', 'scenario "attach-after-death": thread 1: in prison_deref(): unknown flag PD_FOO (the file neither defines nor uses it)'],
    ['no-field.json', 'scenario "attach-after-death": thread 2: in jail_attach(): unknown field pr_idx (the file never uses it)'],
    ['no-jail.json', 'scenario "attach-after-death": thread 2: in prison_hold(): Z is not a jail of the world, a flag, td, p or cred'],
    ['arity.json', 'scenario "attach-after-death": thread 2: prison_hold() takes 1 argument, "prison_hold(A, A)" passes 2'],
    ['no-invariant.json', 'scenario "attach-after-death": unknown invariant "no-bugs" (known: kassert, counter-negative, root-uref-zero, lock-owner, lock-mode, lock-recursion, lock-assert, held-at-exit, deadlock, use-after-free, null-dereference, panic)'],
    ['counts-field.json', 'scenario "attach-after-death": "world.counts.A" names the field pr_refs, which is not a counter (pr_ref, pr_uref)'],
  ];
  await Promise.all(cases.map(([file, message]) => expectInputError(simulate('--scenario', file), new RegExp(`^jailcheck: ${literal(file)}: ${literal(message)}$`))));
});

test('a misspelt key is refused, not ignored (the schema forbids it too)', async () => {
  await Promise.all([
    expectInputError(simulate('--scenario', 'misspelt-key.json'),
      /^jailcheck: misspelt-key\.json: scenario "attach-after-death": unknown key "invariant" \(known: \$schema, name, description, world, threads, invariants\)$/),
    expectInputError(simulate('--scenario', 'misspelt-jail-key.json'),
      /^jailcheck: misspelt-jail-key\.json: scenario "attach-after-death": jail 1 has an unknown key "persistent" \(known: name, parent, persist, held\)$/),
  ]);
});

test('null where an object belongs, a value of the wrong type, and too many threads are refused by name, never a crash', async () => {
  await Promise.all([
    expectInputError(simulate('--scenario', 'null-thread.json'), /^jailcheck: null-thread\.json: scenario "attach-after-death": thread 1 must be an object$/),
    expectInputError(simulate('--scenario', 'null-jail.json'), /^jailcheck: null-jail\.json: scenario "attach-after-death": jail 1 must be an object$/),
    expectInputError(simulate('--scenario', 'null-counts.json'), /^jailcheck: null-counts\.json: scenario "attach-after-death": "world\.counts\.A" must be an object$/),
    expectInputError(simulate('--scenario', 'world-number.json'), /^jailcheck: world-number\.json: scenario "attach-after-death": "world" must be an object$/),
    expectInputError(simulate('--scenario', 'persist-string.json'), /^jailcheck: persist-string\.json: scenario "attach-after-death": jail A: "persist" must be true or false$/),
    expectInputError(simulate('--scenario', 'seven-threads.json'), /^jailcheck: seven-threads\.json: scenario "attach-after-death": it has 7 threads; a scenario has at most 6$/),
  ]);
});

test('a call string with a line break in it is quoted on one line', async () => {
  await expectInputError(simulate('--scenario', 'newline-call.json'),
    /^jailcheck: newline-call\.json: scenario "attach-after-death": thread 2: "prison hold\\n\(A\)" is not a call such as "prison_deref\(A, PD_DEREF\)"$/);
});

test('a call on the jail or the td of a process the world does not list is refused, not run with a NULL', async () => {
  await Promise.all([
    expectInputError(simulate('--scenario', 'unknown-process.json'),
      /^jailcheck: unknown-process\.json: scenario "attach-after-death": thread 2: in prison_free\(\): p7 is not a process of the world \("world\.processes"\)$/),
    expectInputError(simulate('--scenario', 'td-without-process.json'),
      /^jailcheck: td-without-process\.json: scenario "attach-after-death": thread 2: in jail_attach\(\): td is the thread of process p9, which "world\.processes" does not list$/),
  ]);
});

test('a non-numeric --preemptions or --time-budget, and an unknown --format, are usage errors', async () => {
  await Promise.all([
    expectInputError(simulate('--preemptions', 'two'), /^jailcheck: --preemptions needs a whole number, not "two"$/),
    expectInputError(simulate('--preemptions', '-1'), /^jailcheck: --preemptions needs a whole number, not "-1"$/),
    expectInputError(simulate('--preemptions', '1.5'), /^jailcheck: --preemptions needs a whole number, not "1\.5"$/),
    expectInputError(simulate('--time-budget', '10s'), /^jailcheck: --time-budget needs a whole number, not "10s"$/),
    expectInputError(simulate('--format', 'xml'), /^jailcheck: unknown format "xml" \(use text or json\)$/),
    expectInputError(['scenarios', EXAMPLE, '--format', 'sarif'], /^jailcheck: unknown format "sarif" \(use text or json\)$/),
  ]);
});

test('a binary, empty, missing or function-less file is refused before anything runs', async () => {
  await Promise.all([
    expectInputError(['simulate', 'binary.c', '--function', 'prison_deref'], /^jailcheck: binary\.c: this is a binary file \(it contains NUL bytes\), not C source$/),
    expectInputError(['scenarios', 'binary.c'], /^jailcheck: binary\.c: this is a binary file \(it contains NUL bytes\), not C source$/),
    expectInputError(['simulate', 'empty.c', '--function', 'prison_deref'], /^jailcheck: empty\.c: the file is empty; there is nothing to check$/),
    expectInputError(['simulate', 'nowhere.c', '--function', 'prison_deref'], /^jailcheck: nowhere\.c: no such file$/),
    expectInputError(['simulate', 'header.h', '--function', 'prison_deref'], /^jailcheck: header\.h: defines no function; nothing to simulate$/),
  ]);
});

test('every scenario-file message above is on docs/simulate.md, word for word', () => {
  assert.ok(scenarioFileMessages.length >= 20, `${scenarioFileMessages.length} messages`);
  const page = DOC.replace(/\\\|/g, '|');
  for (const m of scenarioFileMessages) {
    const message = m.replace(/^scenario "attach-after-death": /, '');
    // The parser's own words vary with the input; the page gives one example and the form.
    const shown = message.startsWith('the scenario file is not JSON: ') && message !== 'the scenario file is not JSON: Unexpected end of JSON input'
      ? 'the scenario file is not JSON: ' : message;
    assert.ok(page.includes(`\`${shown}`) || page.includes(` ${shown}`), `docs/simulate.md does not show: ${shown}`);
  }
});

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
