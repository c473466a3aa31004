/**
 * Reading patches as reviewers receive them: plain, mail-quoted, with the
 * whitespace a mail archive collapsed; and refusing, in one line, what is
 * not a patch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPatch, sectionFor } from '../../server/src/review/readPatch';
import { PatchInputError } from '../../server/src/review/errors';
import { readFixture } from '../helpers';

const seedFirst = (): string => readFixture('test/fixtures/patches/seed-first-patch.diff');
const seedSecond = (): string => readFixture('test/fixtures/patches/seed-second-patch.diff');

function refused(text: string, pattern: RegExp): void {
  assert.throws(() => readPatch(text, 'x.diff'), (err: unknown) => {
    assert.ok(err instanceof PatchInputError, String(err));
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return true;
  });
}

test('the seed\'s first patch is read through three levels of quoting, its context lines given their marker back', () => {
  const p = readPatch(seedFirst());
  assert.equal(p.quoteDepth, 3);
  assert.equal(p.markersRepaired, true);
  assert.equal(p.files.length, 1);
  const [hunk] = p.files[0]!.hunks;
  assert.equal(hunk!.header, '@@ -2455,7 +2455,8 @@');
  assert.deepEqual(hunk!.lines.map((l) => l.op).join(''), '   -++   ');
  assert.equal(hunk!.lines[0]!.text, 'if (--tpr->pr_uref > 0)');
  assert.equal(hunk!.lines[0]!.markerMissing, true);
  // The hunk ends where its counts say, before the reply's prose.
  const text = seedFirst().split('\n');
  assert.equal(text[hunk!.lines.at(-1)!.patchLine - 1], '>>> if (!(flags & PD_DEREF)) {');
});

test('the seed\'s second patch is read as two hunks, its empty quoted line a blank context line', () => {
  const p = readPatch(seedSecond());
  assert.equal(p.quoteDepth, 1);
  const hunks = p.files[0]!.hunks;
  assert.deepEqual(hunks.map((h) => h.header), ['@@ -2449,27 +2449,16 @@', '@@ -2525,6 +2514,8 @@']);
  const blank = hunks[0]!.lines.at(-2)!;
  assert.deepEqual({ op: blank.op, text: blank.text }, { op: ' ', text: '' });
  assert.equal(hunks[1]!.lines.filter((l) => l.op === '+').map((l) => l.text.trim()).join(' | '),
    '/* Ensure user reference added on create is removed */ | pr->pr_uref--;');
  // The file names lost the tab before their timestamps; the timestamps are dropped all the same.
  assert.equal(p.files[0]!.oldName, 'sys/kern/kern_jail.c.orig');
  assert.equal(p.files[0]!.newName, 'sys/kern/kern_jail.c');
});

test('a context line that starts with -- after collapsing is told from a removal by the hunk\'s counts', () => {
  const patch = [
    '@@ -1,3 +1,3 @@',
    'if (x)',
    '--tpr->pr_uref;',
    '-foo();',
    '+bar();',
  ].join('\n');
  const lines = readPatch(patch).files[0]!.hunks[0]!.lines;
  assert.deepEqual(lines.map((l) => `${l.op}${l.text}`), [' if (x)', ' --tpr->pr_uref;', '-foo();', '+bar();']);
});

test('a patch that changes several files is narrowed to the one named like the base file', () => {
  const two = [
    '--- a/sys/kern/kern_prison.c', '+++ b/sys/kern/kern_prison.c', '@@ -1 +1 @@', '-a', '+b',
    '--- a/sys/kern/kern_jail.c', '+++ b/sys/kern/kern_jail.c', '@@ -5 +5 @@', '-c', '+d',
  ].join('\n');
  const p = readPatch(two);
  assert.equal(sectionFor(p, 'work/kern_jail.c').newName, 'b/sys/kern/kern_jail.c');
  assert.throws(() => sectionFor(p, 'other.c', 'two.diff'), /two\.diff: the patch changes 2 files \(b\/sys\/kern\/kern_prison\.c, b\/sys\/kern\/kern_jail\.c\) and none is named other\.c/);
});

test('a patch with Windows line endings reads like any other', () => {
  const p = readPatch('--- a/f.c\r\n+++ b/f.c\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n');
  assert.deepEqual(p.files[0]!.hunks[0]!.lines.map((l) => `${l.op}${l.text}`), [' a', '-b', '+c']);
});

test('empty input, prose and binary data are refused with one line each', () => {
  refused('', /x\.diff: is empty, not a patch/);
  refused('\n  \n', /x\.diff: is empty/);
  refused('Thanks for the review, I will send a new version.\n', /x\.diff: no unified-diff hunk .* found; is this a patch\?/);
  refused('GIF89a\0\0\x01\x02', /x\.diff: this is a binary file, not a patch/);
  refused('diff --git a/logo.png b/logo.png\nindex 1..2 100644\nGIT binary patch\nliteral 12\n', /changes a binary file/);
  refused('*** a.c\n--- b.c\n***************\n*** 1 ****\n! x\n--- 1 ----\n! y\n', /context diff; jailcheck reads unified diffs/);
});

test('a hunk cut short is refused, naming the hunk and its header', () => {
  refused('--- a/f.c\n+++ b/f.c\n@@ -10,4 +10,5 @@\n a\n-b\n+c\n', /x\.diff: hunk 1 \(@@ -10,4 \+10,5 @@, line 3\) does not have the 4 old and 5 new lines its header announces/);
});

test('a mail that quotes two patches at different depths is refused rather than guessed at', () => {
  const thread = `${seedFirst()}\n${seedSecond()}`;
  refused(thread, /hunks are quoted at different depths \(lines \d+ and \d+\), so this holds more than one patch/);
});

test('a patch that creates, deletes or binary-replaces the base file is refused', () => {
  const section = (text: string) => () => sectionFor(readPatch(text, 'x.diff'), 'kern_jail.c', 'x.diff');
  assert.throws(section('--- /dev/null\n+++ b/kern_jail.c\n@@ -0,0 +1 @@\n+int x;\n'), /^PatchInputError: x\.diff: the patch creates b\/kern_jail\.c; jailcheck reviews changes to an existing file$/);
  assert.throws(section('--- a/kern_jail.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-int x;\n'), /^PatchInputError: x\.diff: the patch deletes a\/kern_jail\.c/);
  assert.throws(section('diff --git a/kern_jail.c b/kern_jail.c\nindex 1..2 100644\nBinary files a/kern_jail.c and b/kern_jail.c differ\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n'),
    /^PatchInputError: x\.diff: the patch changes b\/kern_jail\.c as a binary file/);
});

test('a git patch that also adds a file and changes a binary one still yields the base file\'s hunks', () => {
  const patch = [
    'From 1234 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH] jail: take parent references on revival', '',
    'diff --git a/doc/logo.png b/doc/logo.png', 'index 1..2 100644', 'GIT binary patch', 'literal 3', 'zcmZ?wbh', '',
    'diff --git a/sys/kern/new.c b/sys/kern/new.c', 'new file mode 100644', '--- /dev/null', '+++ b/sys/kern/new.c', '@@ -0,0 +1 @@', '+int x;',
    'diff --git a/sys/kern/kern_jail.c b/sys/kern/kern_jail.c', 'index 3..4 100644', '--- a/sys/kern/kern_jail.c', '+++ b/sys/kern/kern_jail.c',
    '@@ -1,2 +1,2 @@', ' a', '-b', '+c', '-- ', '2.39.5', '',
  ].join('\n');
  const p = readPatch(patch);
  assert.deepEqual(p.files.map((f) => [f.newName, f.binary, f.hunks.length]),
    [['b/doc/logo.png', true, 0], ['b/sys/kern/new.c', false, 1], ['b/sys/kern/kern_jail.c', false, 1]]);
  assert.deepEqual(sectionFor(p, 'kern_jail.c').hunks[0]!.lines.map((l) => `${l.op}${l.text}`), [' a', '-b', '+c']);
});
