/**
 * docs/cli.md shows real runs. This test runs every command of its
 * ```console blocks and compares the output, and applies its ```diff block
 * to the example to check it is the seed's first patch — so the page
 * cannot drift from the program.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { example, readFixture } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { assertSessionsRun, consoleSessions } from './docPages';
import { makeWorkspace, removeWorkspace } from './workspace';

const DOC = readFixture('docs/cli.md');

function blocks(lang: string): string[] {
  return [...DOC.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
}

/** Applies a unified diff's hunks to `text`; each hunk's old lines must be where it says. */
function applyDiff(text: string, diff: string): string {
  const lines = text.split('\n');
  const hunks = diff.split(/^(?=@@ )/m).slice(1);
  let shift = 0;
  for (const hunk of hunks) {
    const [header, ...body] = hunk.replace(/\n$/, '').split('\n');
    const oldStart = Number(/^@@ -(\d+)/.exec(header!)![1]);
    const oldLines = body.filter((l) => !l.startsWith('+')).map((l) => l.slice(1));
    const newLines = body.filter((l) => !l.startsWith('-')).map((l) => l.slice(1));
    const at = oldStart - 1 + shift;
    assert.deepEqual(lines.slice(at, at + oldLines.length), oldLines, `hunk ${header} does not apply`);
    lines.splice(at, oldLines.length, ...newLines);
    shift += newLines.length - oldLines.length;
  }
  return lines.join('\n');
}

let dir: string;
before(() => {
  dir = makeWorkspace({ 'examples/kern_jail_2011.c': example(), 'first-patch.c': firstPatch(example()) });
});
after(() => removeWorkspace(dir));

test('the diff docs/cli.md shows, applied to the bundled example, is the seed\'s first patch', () => {
  const diffs = blocks('diff');
  assert.equal(diffs.length, 1);
  assert.equal(applyDiff(example(), diffs[0]!), firstPatch(example()));
});

test('every command in docs/cli.md prints what the page says, with the exit codes it says', async () => {
  const all = consoleSessions(DOC);
  assert.ok(all.length >= 8, `${all.length} commands`);
  await assertSessionsRun('docs/cli.md', all, dir);
});
