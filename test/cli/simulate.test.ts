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
import { example, readFixture } from '../helpers';
import { runCli, CliResult } from './runCli';
import { fingerprint, makeWorkspace, removeWorkspace } from './workspace';

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
  });
});
after(() => removeWorkspace(dir));

function assertNoStackTrace(r: CliResult): void {
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${out}`);
    assert.doesNotMatch(out, /\b(TypeError|RangeError|SyntaxError|ReferenceError)\b|internal error/, out);
  }
}

/** Runs the CLI and checks it fails as a usage or input error should: exit 2, one line on stderr, nothing else. */
async function expectInputError(args: string[], message: RegExp): Promise<void> {
  const before = fingerprint(dir);
  const r = await runCli(args, { cwd: dir });
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}\nstdout: ${r.stdout.slice(0, 400)}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on standard output');
  assertNoStackTrace(r);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on standard error, got:\n${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.deepEqual(fingerprint(dir), before, 'nothing in the working folder was written or changed');
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

test('--preemptions bounds the first search only: with 0, every interleaving is then explored with sleep sets and the race is still found', async () => {
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

// ---------------------------------------------------------------- bad input

test('simulate without --function is a usage error that says how to find one', async () => {
  await expectInputError(['simulate', EXAMPLE], /^jailcheck: simulate needs --function NAME \(jailcheck scenarios FILE lists the functions and their scenarios\)$/);
});

test('an unknown function is named, with the file, as `check` names it', async () => {
  await expectInputError(['simulate', EXAMPLE, '--function', 'prison_nothing'], /^jailcheck: no function named prison_nothing in examples\/kern_jail_2011\.c$/);
  await expectInputError(['scenarios', EXAMPLE, '--function', 'prison_nothing'], /^jailcheck: no function named prison_nothing in examples\/kern_jail_2011\.c$/);
});

test('an unknown scenario name is refused, listing the first names there are', async () => {
  await expectInputError(simulate('--scenario', 'revival-by-magic'),
    /^jailcheck: no scenario named "revival-by-magic" for prison_deref\(\) \(jailcheck scenarios lists them: alone-held \[PD_DEREF \| PD_DEUREF\], .*, …\)$/);
});

test('a scenario file that is not JSON is one line naming the file, whatever the parser quotes of it', async () => {
  await expectInputError(simulate('--scenario', 'truncated.json'), /^jailcheck: truncated\.json: the scenario file is not JSON: Unexpected end of JSON input$/);
  await expectInputError(simulate('--scenario', 'yaml.json'), /^jailcheck: yaml\.json: the scenario file is not JSON: Unexpected token 'a'$/);
  await expectInputError(simulate('--scenario', 'binary.json'), /^jailcheck: binary\.json: the scenario file is not JSON: .*at line 1, column 2$/);
  await expectInputError(simulate('--scenario', 'list.json'), /^jailcheck: list\.json: the scenario file must hold an object$/);
  await expectInputError(simulate('--scenario', 'missing.json'), /^jailcheck: missing\.json: no such file$/);
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
  for (const [file, message] of cases) await expectInputError(simulate('--scenario', file), new RegExp(`^jailcheck: ${literal(file)}: ${literal(message)}$`));
});

test('a misspelt key is refused, not ignored (the schema forbids it too)', async () => {
  await expectInputError(simulate('--scenario', 'misspelt-key.json'),
    /^jailcheck: misspelt-key\.json: scenario "attach-after-death": unknown key "invariant" \(known: \$schema, name, description, world, threads, invariants\)$/);
  await expectInputError(simulate('--scenario', 'misspelt-jail-key.json'),
    /^jailcheck: misspelt-jail-key\.json: scenario "attach-after-death": jail 1 has an unknown key "persistent" \(known: name, parent, persist, held\)$/);
});

test('null where an object belongs, a value of the wrong type, and too many threads are refused by name, never a crash', async () => {
  await expectInputError(simulate('--scenario', 'null-thread.json'), /^jailcheck: null-thread\.json: scenario "attach-after-death": thread 1 must be an object$/);
  await expectInputError(simulate('--scenario', 'null-jail.json'), /^jailcheck: null-jail\.json: scenario "attach-after-death": jail 1 must be an object$/);
  await expectInputError(simulate('--scenario', 'null-counts.json'), /^jailcheck: null-counts\.json: scenario "attach-after-death": "world\.counts\.A" must be an object$/);
  await expectInputError(simulate('--scenario', 'world-number.json'), /^jailcheck: world-number\.json: scenario "attach-after-death": "world" must be an object$/);
  await expectInputError(simulate('--scenario', 'persist-string.json'), /^jailcheck: persist-string\.json: scenario "attach-after-death": jail A: "persist" must be true or false$/);
  await expectInputError(simulate('--scenario', 'seven-threads.json'), /^jailcheck: seven-threads\.json: scenario "attach-after-death": it has 7 threads; a scenario has at most 6$/);
});

test('a call string with a line break in it is quoted on one line', async () => {
  await expectInputError(simulate('--scenario', 'newline-call.json'),
    /^jailcheck: newline-call\.json: scenario "attach-after-death": thread 2: "prison hold\\n\(A\)" is not a call such as "prison_deref\(A, PD_DEREF\)"$/);
});

test('a call on the jail or the td of a process the world does not list is refused, not run with a NULL', async () => {
  await expectInputError(simulate('--scenario', 'unknown-process.json'),
    /^jailcheck: unknown-process\.json: scenario "attach-after-death": thread 2: in prison_free\(\): p7 is not a process of the world \("world\.processes"\)$/);
  await expectInputError(simulate('--scenario', 'td-without-process.json'),
    /^jailcheck: td-without-process\.json: scenario "attach-after-death": thread 2: in jail_attach\(\): td is the thread of process p9, which "world\.processes" does not list$/);
});

test('a non-numeric --preemptions or --time-budget, and an unknown --format, are usage errors', async () => {
  await expectInputError(simulate('--preemptions', 'two'), /^jailcheck: --preemptions needs a whole number, not "two"$/);
  await expectInputError(simulate('--preemptions', '-1'), /^jailcheck: --preemptions needs a whole number, not "-1"$/);
  await expectInputError(simulate('--preemptions', '1.5'), /^jailcheck: --preemptions needs a whole number, not "1\.5"$/);
  await expectInputError(simulate('--time-budget', '10s'), /^jailcheck: --time-budget needs a whole number, not "10s"$/);
  await expectInputError(simulate('--format', 'xml'), /^jailcheck: unknown format "xml" \(use text or json\)$/);
  await expectInputError(['scenarios', EXAMPLE, '--format', 'sarif'], /^jailcheck: unknown format "sarif" \(use text or json\)$/);
});

test('a binary, empty, missing or function-less file is refused before anything runs', async () => {
  await expectInputError(['simulate', 'binary.c', '--function', 'prison_deref'], /^jailcheck: binary\.c: this is a binary file \(it contains NUL bytes\), not C source$/);
  await expectInputError(['scenarios', 'binary.c'], /^jailcheck: binary\.c: this is a binary file \(it contains NUL bytes\), not C source$/);
  await expectInputError(['simulate', 'empty.c', '--function', 'prison_deref'], /^jailcheck: empty\.c: the file is empty; there is nothing to check$/);
  await expectInputError(['simulate', 'nowhere.c', '--function', 'prison_deref'], /^jailcheck: nowhere\.c: no such file$/);
  await expectInputError(['simulate', 'header.h', '--function', 'prison_deref'], /^jailcheck: header\.h: defines no function; nothing to simulate$/);
});

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
