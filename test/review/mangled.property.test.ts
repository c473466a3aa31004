/**
 * A property of the repair: any diff of the bundled example, quoted to any
 * depth and mangled the way the seed thread's archive mangled its patches
 * (whitespace runs collapsed, leading whitespace gone, context markers
 * lost), applies back to the very text it was made from — every line the
 * patch did not add byte for byte, and the added ones up to indentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTwoFilesPatch } from 'diff';
import { applyFilePatch } from '../../server/src/review/apply';
import { readPatch } from '../../server/src/review/readPatch';
import { example } from '../helpers';

const INSERTS = [
  '\tmtx_lock(&pr->pr_mtx);', '\t\tmtx_unlock(&tpr->pr_mtx);', '\tpr->pr_uref++;', '\t\t--pr->pr_ref;', '++lastprid;',
  '\t}', '', '\tif (pr->pr_uref == 0)', '\t\treturn (EINVAL);', '\t/* Revived: take the parent\'s reference again. */',
];

/** What the list archive did to the seed's patches. */
function mangle(diffText: string, depth: number): string {
  const quote = '>'.repeat(depth) + (depth > 0 ? ' ' : '');
  return diffText.split('\n').map((l) => {
    const collapsed = l.replace(/\s+/g, ' ').replace(/^ /, '');
    return depth > 0 && collapsed === '' ? '>'.repeat(depth) : quote + collapsed;
  }).join('\n');
}

const edits = fc.array(fc.record({
  at: fc.nat({ max: 440 }),
  remove: fc.nat({ max: 4 }),
  insert: fc.array(fc.constantFrom(...INSERTS), { maxLength: 3 }),
}), { minLength: 1, maxLength: 4 });

test('a mangled, quoted diff of the example applies back to the text it was made from', () => {
  const base = example();
  fc.assert(fc.property(edits, fc.nat({ max: 3 }), (changes, depth) => {
    const lines = base.split('\n');
    for (const c of [...changes].sort((a, b) => b.at - a.at)) lines.splice(c.at, c.remove, ...c.insert);
    const target = lines.join('\n');
    fc.pre(target !== base);
    const patch = mangle(createTwoFilesPatch('a/kern_jail.c', 'b/kern_jail.c', base, target), depth);
    const applied = applyFilePatch(base, readPatch(patch).files[0]!);
    const got = applied.text.split('\n');
    const want = target.split('\n');
    assert.equal(got.length, want.length);
    got.forEach((g, i) => {
      const origin = applied.patchedLines[i];
      if (origin && origin.kind === 'added') assert.equal(g.trim(), want[i]!.replace(/\s+/g, ' ').trim(), `added line ${i + 1}`);
      else assert.equal(g, want[i], `line ${i + 1}`);
    });
  }), { numRuns: 60, seed: 20110821 });
});
