/**
 * Bad input and bad usage on the command line: each gets one short line on
 * standard error saying what is wrong, exit code 2, nothing on standard
 * output, no stack trace, and nothing written or changed anywhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, CliResult } from './runCli';
import { assertNoStackTrace, expectInputError as expectInputErrorIn } from './inputErrors';
import { fingerprint, makeWorkspace, removeWorkspace } from './workspace';
import { MAX_INPUT_BYTES } from '../../server/src/input';
import { BALANCED } from './sources';

const CUT_OFF = `static int
prison_hold_uref(struct prison *pr)
{

	mtx_lock(&pr->pr_mtx);
	if (pr->pr_uref > 0)
		pr->pr_uref++;
	mtx_unlock(&pr->pr_mtx);
	return (0);
}

static void
prison_cut(struct prison *pr, int flags)
{

	mtx_lock(&pr->pr_mtx);
	if (flags & PD_DEREF)
		pr->pr_ref--
`;

const LEAKY = `static void
prison_leaky(struct prison *pr, int flags)
{

	mtx_lock(&pr->pr_mtx);
	if (flags & PD_DEREF)
		return;
	mtx_unlock(&pr->pr_mtx);
}
`;

const HEADER = `#ifndef _SYS_JAIL_TEST_H_
#define _SYS_JAIL_TEST_H_

#define	PD_DEREF	0x01
#define	PD_DEUREF	0x02

struct prison;
void	prison_hold(struct prison *pr);
void	prison_free(struct prison *pr);

#endif
`;

let dir: string;

before(() => {
  dir = makeWorkspace({
    'empty.c': '',
    'blank.c': '\n\n   \t\n',
    'binary.o': Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]),
    'latin1.c': Uint8Array.from(Array.from({ length: 400 }, (_, i) => 0xa0 + (i % 90))),
    'notes.txt': 'Jails were introduced in FreeBSD 4.0.\nThis file is prose (with parentheses), not C.\n',
    'data.json': '{\n  "jails": [{ "jid": 1, "name": "www" }, { "jid": 2, "name": "db" }]\n}\n',
    'cut.c': CUT_OFF,
    'cut-and-leaky.c': `${LEAKY}\n${CUT_OFF}`,
    'jail.h': HEADER,
    'balanced.c': BALANCED,
    'sub/.keep': '',
  });
  fs.writeFileSync(path.join(dir, 'huge.c'), '');
  fs.truncateSync(path.join(dir, 'huge.c'), MAX_INPUT_BYTES + 1);
});

after(() => removeWorkspace(dir));

/** Runs the CLI and checks it fails as a usage or input error should, writing nothing. */
async function expectInputError(args: string[], message: RegExp): Promise<CliResult> {
  return (await expectInputErrorIn(dir, args, message)).result;
}

test('an empty file is an input error: "the file is empty"', async () => {
  await expectInputError(['check', 'empty.c'], /^jailcheck: empty\.c: the file is empty; there is nothing to check$/);
});

test('a file of blank lines is an input error too', async () => {
  await expectInputError(['check', 'blank.c'], /^jailcheck: blank\.c: the file holds only white space; there is nothing to check$/);
});

test('a binary file is refused before parsing', async () => {
  await expectInputError(['check', 'binary.o'], /^jailcheck: binary\.o: this is a binary file \(it contains NUL bytes\), not C source$/);
});

test('a file that is not UTF-8 text is refused', async () => {
  await expectInputError(['check', 'latin1.c'], /^jailcheck: latin1\.c: this is not UTF-8 or ASCII text, so not C source jailcheck can read$/);
});

test('English prose is not C: the message says so and names the first line that is not', async () => {
  await expectInputError(['check', 'notes.txt'], /^jailcheck: notes\.txt: does not look like C source: it defines no function, and line 1 is not C$/);
});

test('a JSON file is not C either', async () => {
  await expectInputError(['check', 'data.json'], /^jailcheck: data\.json: does not look like C source: it defines no function, and line 2 is not C$/);
});

test('a directory is refused by name', async () => {
  await expectInputError(['check', 'sub'], /^jailcheck: sub: is a directory, not a C file$/);
});

test('a missing file is refused by name', async () => {
  await expectInputError(['check', 'nowhere.c'], /^jailcheck: nowhere\.c: no such file$/);
});

test('a device is refused instead of being read for ever', async () => {
  await expectInputError(['check', '/dev/zero'], /^jailcheck: \/dev\/zero: is not a regular file$/);
});

test('a file over the size limit is refused from its size, without reading it', async () => {
  await expectInputError(['check', 'huge.c'], /^jailcheck: huge\.c: 16\.0 MB is more than jailcheck reads \(16 MB\); is this really a C source file\?$/);
});

test('one bad file among good ones fails the whole run before anything is printed', async () => {
  await expectInputError(['check', 'balanced.c', 'nowhere.c'], /^jailcheck: nowhere\.c: no such file$/);
});

test('an unknown --format is a usage error naming the formats there are', async () => {
  await expectInputError(['check', '--format', 'xml', 'balanced.c'], /^jailcheck: unknown format "xml" \(use text, json or sarif\)$/);
});

test('an unknown --function is a usage error naming the file', async () => {
  await expectInputError(['check', '--function', 'prison_nothing', 'balanced.c'], /^jailcheck: no function named prison_nothing in balanced\.c$/);
});

test('an unknown --parser is a usage error', async () => {
  await expectInputError(['check', '--parser', 'gcc', 'balanced.c'], /^jailcheck: unknown parser "gcc" \(use auto, native or wasm\)$/);
});

test('an unknown option, a missing file argument and an unknown command are usage errors (exit 2), without a stack trace', async () => {
  for (const [args, message] of [
    [['check', '--bogus', 'balanced.c'], /^error: unknown option '--bogus'$/m],
    [['check'], /^error: missing required argument 'files'$/m],
    [['frobnicate', 'balanced.c'], /^error: unknown command 'frobnicate'$/m],
  ] as const) {
    const before = fingerprint(dir);
    const r = await runCli([...args], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\(run jailcheck --help for usage\)/);
    assertNoStackTrace(r);
    assert.deepEqual(fingerprint(dir), before);
  }
});

test('a function cut off mid-statement is one note, not an error: exit 0, the rest of the file checked', async () => {
  const r = await runCli(['check', 'cut.c'], { cwd: dir });
  assertNoStackTrace(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout,
    'cut.c:13:1: note: prison_cut() was not analysed: its closing `}` is missing (the body opened at line 14 runs into the end of the file) [parse-problem] in prison_cut()\n'
    + 'jailcheck: 0 errors, 0 warnings, 1 note in 1 file\n');
});

test('a cut-off function does not hide a finding elsewhere in the file: exit 1', async () => {
  const r = await runCli(['check', '--no-steps', 'cut-and-leaky.c'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^cut-and-leaky\.c:7:3: error: pr->pr_mtx .* \[lock-held-at-return\] in prison_leaky\(\)$/);
  assert.match(lines[1]!, /^cut-and-leaky\.c:23:1: note: prison_cut\(\) was not analysed: its closing `\}` is missing .* \[parse-problem\] in prison_cut\(\)$/);
  assert.equal(lines[2], 'jailcheck: 1 error, 0 warnings, 1 note in 1 file');
});

test('a C file that defines no function is checked and says there was nothing to check: exit 0', async () => {
  const before = fingerprint(dir);
  const r = await runCli(['check', 'jail.h'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'jailcheck: jail.h: defines no function; nothing to check\n');
  assert.equal(r.stdout, 'jailcheck: 0 errors, 0 warnings, 0 notes in 1 file\n');
  assert.deepEqual(fingerprint(dir), before);
});

test('a file whose locking and counting are balanced has no finding: exit 0 and the summary line only', async () => {
  const before = fingerprint(dir);
  const r = await runCli(['check', 'balanced.c'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'jailcheck: 0 errors, 0 warnings, 0 notes in 1 file\n');
  assert.equal(r.stderr, '');
  assert.deepEqual(fingerprint(dir), before);
});
