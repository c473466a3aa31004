/**
 * Applying patches in memory: offsets, fuzz, mangled whitespace repaired
 * from the base file, and a precise refusal when a hunk has no place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFilePatch } from '../../server/src/review/apply';
import { PatchDoesNotApply } from '../../server/src/review/errors';
import { readPatch } from '../../server/src/review/readPatch';
import { edit, example, lineOf, readFixture } from '../helpers';
import { firstPatch, secondPatch } from '../fixtures/seed/patches';

const fixture = (name: string): string => readFixture(`test/fixtures/patches/${name}`);
const apply = (base: string, patchName: string) =>
  applyFilePatch(base, readPatch(fixture(patchName), patchName).files[0]!, { baseName: 'kern_jail_2011.c', patchName });

test('the seed\'s first patch, quoted and whitespace-mangled, gives exactly the hand-made first patch, tabs and all', () => {
  const applied = apply(example(), 'seed-first-patch.diff');
  assert.equal(applied.text, firstPatch(example()));
  assert.deepEqual(applied.hunks.map((h) => ({ at: h.baseLine, offset: h.offset, fuzz: h.fuzz, reindented: h.reindented })),
    [{ at: 393, offset: -2062, fuzz: 0, reindented: true }]);
});

test('the seed\'s second patch applies both hunks, each at its own offset, and gives exactly the hand-made second patch', () => {
  const applied = apply(example(), 'seed-second-patch.diff');
  assert.equal(applied.text, secondPatch(example()));
  assert.deepEqual(applied.hunks.map((h) => [h.baseLine, h.offset]), [[387, -2062], [450, -2075]]);
});

test('context lines keep the base file\'s own text, not the mail\'s', () => {
  const applied = apply(example(), 'seed-first-patch.diff');
  const line = lineOf(applied.text, 'KASSERT(tpr != &prison0');
  assert.equal(applied.text.split('\n')[line - 1], '\t\t\tKASSERT(tpr != &prison0, ("prison0 pr_uref=0"));');
});

test('a clean patch applies with offsets and a context line that differs (fuzz 1), as patch(1) would', () => {
  const applied = apply(example(), 'offsets-and-fuzz.diff');
  let expected = edit(example(), '\t\tmtx_lock(&pr->pr_mtx);\n\t\tif (pr->pr_ref > 0)\n\t\t\treturn (pr);\n\t\tmtx_unlock(&pr->pr_mtx);\n\t\tbreak;',
    '\t\tmtx_lock(&pr->pr_mtx);\n\t\t/* A prison with no references is on its way out. */\n\t\tif (pr->pr_ref > 0)\n\t\t\treturn (pr);\n\t\tmtx_unlock(&pr->pr_mtx);\n\t\tbreak;');
  expected = edit(expected, '\tmtx_assert(&pr->pr_mtx, MA_OWNED);\n\tpr->pr_ref--;',
    '\tmtx_assert(&pr->pr_mtx, MA_OWNED);\n\tKASSERT(pr->pr_ref > 0,\n\t    ("Trying to free dead prison (jid=%d).", pr->pr_id));\n\tpr->pr_ref--;');
  assert.equal(applied.text, expected);
  assert.deepEqual(applied.hunks.map((h) => ({ at: h.baseLine, offset: h.offset, fuzz: h.fuzz, reindented: h.reindented })),
    [{ at: 120, offset: -30, fuzz: 0, reindented: false }, { at: 316, offset: -12, fuzz: 1, reindented: false }]);
});

test('with no fuzz allowed, the hunk whose context differs is refused', () => {
  const file = readPatch(fixture('offsets-and-fuzz.diff')).files[0]!;
  assert.throws(() => applyFilePatch(example(), file, { fuzz: 0 }), (err: unknown) => err instanceof PatchDoesNotApply && err.hunk === 2);
});

test('a hunk with no place is refused, naming the hunk, its header and the line it expected where it fits best', () => {
  const base = example();
  assert.throws(() => apply(base, 'does-not-apply.diff'), (err: unknown) => {
    assert.ok(err instanceof PatchDoesNotApply, String(err));
    assert.equal(err.hunk, 2);
    assert.equal(err.header, '@@ -390,8 +391,8 @@');
    assert.equal(err.expected, 'if (refcount_release(&tpr->pr_uref) == 0)');
    assert.equal(err.baseLine, lineOf(base, 'if (--tpr->pr_uref > 0)'));
    assert.equal(err.message,
      'hunk 2 (@@ -390,8 +391,8 @@, line 17 of does-not-apply.diff) does not apply to kern_jail_2011.c: '
      + 'expected "if (refcount_release(&tpr->pr_uref) == 0)" at line 393, found "if (--tpr->pr_uref > 0)"');
    return true;
  });
});

test('a hunk none of whose lines is in the file says so', () => {
  const file = readPatch('@@ -1,2 +1,2 @@\n context that is not there\n-nor this\n+x\n').files[0]!;
  assert.throws(() => applyFilePatch(example(), file, { baseName: 'k.c', patchName: 'p.diff' }),
    /hunk 1 \(@@ -1,2 \+1,2 @@, line 1 of p\.diff\) does not apply to k\.c: it expects "context that is not there", which is nowhere in k\.c/);
});

test('hunks listed out of order are refused, saying so', () => {
  const base = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
  const file = readPatch('@@ -8,2 +8,2 @@\n h\n-i\n+I\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n').files[0]!;
  const copy = String(base);
  assert.throws(() => applyFilePatch(base, file, { fuzz: 0, patchName: 'p.diff' }),
    /^PatchDoesNotApply: hunk 2 \(@@ -2,2 \+2,2 @@, line 5 of p\.diff\) starts before the end of hunk 1 \(@@ -8,2 \+8,2 @@\): the hunks are out of order or overlap/);
  assert.equal(base, copy);
});

test('a hunk that fits only before the place of the hunk above it is refused, saying where it fits', () => {
  const base = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
  // The headers are in order, but their line numbers are wrong: the first hunk's lines are at 8, the second's at 2.
  const file = readPatch('@@ -2,2 +2,2 @@\n h\n-i\n+I\n@@ -8,2 +8,2 @@\n b\n-c\n+C\n').files[0]!;
  assert.throws(() => applyFilePatch(base, file, { fuzz: 0, baseName: 'f.c' }),
    /hunk 2 \(@@ -8,2 \+8,2 @@, line 5 of the patch\) does not apply to f\.c: its lines are at line 2, before where hunk 1 \(@@ -2,2 \+2,2 @@\) applied; the hunks are out of order or overlap/);
});

test('every line of the patched text knows where it came from: a base line, or a + line of the patch file', () => {
  const patch = fixture('seed-first-patch.diff');
  const applied = apply(example(), 'seed-first-patch.diff');
  const patchLines = patch.split('\n');
  const added = applied.patchedLines.flatMap((o, i) => (o.kind === 'added' ? [{ line: i + 1, patchLine: o.patchLine }] : []));
  assert.deepEqual(added.map((a) => patchLines[a.patchLine - 1]), ['>>> + if (tpr != pr)', '>>> + mtx_unlock(&tpr->pr_mtx);']);
  assert.deepEqual(added.map((a) => a.line), [lineOf(applied.text, 'if (tpr != pr)', { after: 'KASSERT(tpr != &prison0' }), lineOf(applied.text, 'if (tpr != pr)', { after: 'KASSERT(tpr != &prison0' }) + 1]);
  const removed = applied.baseLines.flatMap((f, i) => (f.kind === 'removed' ? [{ line: i + 1, patchLine: f.patchLine }] : []));
  assert.deepEqual(removed.map((r) => [r.line, patchLines[r.patchLine - 1]]), [[396, '>>> - mtx_unlock(&tpr->pr_mtx);']]);
  // A context line is tied to its line in the patch as well; a line outside the hunk is not.
  const kassert = applied.baseLines[395 - 1]!;
  assert.equal(kassert.kind, 'kept');
  assert.equal(patchLines[kassert.patchLine! - 1], '>>> KASSERT(tpr != &prison0, ("prison0 pr_uref=0"));');
  assert.equal(applied.baseLines[300 - 1]!.patchLine, undefined);
});

test('a base file with Windows line endings stays so, and is never changed', () => {
  const base = example().replace(/\n/g, '\r\n');
  const copy = String(base);
  const applied = apply(base, 'seed-first-patch.diff');
  assert.equal(applied.text, firstPatch(example()).replace(/\n/g, '\r\n'));
  assert.equal(base, copy);
});
