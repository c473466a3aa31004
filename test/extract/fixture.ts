/**
 * Annotated C fixtures, in the manner of vscode-anycode's: a file holds
 * several cases, each under a `// ### what it shows` header, and marker
 * lines put names on positions of the line above them:
 *
 *     	if (--tpr->pr_uref > 0)
 *     //	    ^decrement
 *
 * A marker line is a `//` comment whose first non-blank character is `^`.
 * Each `^name` marks the character in the same visual column (tabs every 8
 * columns, so `//<tab>` lines up with `<tab>`) of the nearest line above
 * that is not itself a marker line. Marker lines are ordinary comments, so
 * the case text is parsed exactly as written.
 */
import * as fs from 'fs';
import * as path from 'path';
import assert from 'node:assert/strict';
import { ROOT } from '../helpers';

export interface FixtureCase {
  /** The header's text after `// ###`. */
  readonly name: string;
  /** The case's own text (from the line after its header to the next header). */
  readonly text: string;
  /** Marker name → offset into `text`. */
  readonly marks: ReadonlyMap<string, number>;
  /** 1-based line of the header in the fixture file, for messages. */
  readonly line: number;
}

const HEADER = /^\/\/ ### (.*)$/;
const MARKER_LINE = /^\/\/[ \t]*\^/;

/** The character index of visual column `col` in `line` (tabs every 8), or -1 past its end. */
function indexAtColumn(line: string, col: number): number {
  let visual = 0;
  for (let i = 0; i < line.length; i++) {
    if (visual === col) return i;
    visual = line[i] === '\t' ? (Math.floor(visual / 8) + 1) * 8 : visual + 1;
    if (visual > col) return i;
  }
  return -1;
}

function visualColumn(line: string, index: number): number {
  let visual = 0;
  for (let i = 0; i < index; i++) visual = line[i] === '\t' ? (Math.floor(visual / 8) + 1) * 8 : visual + 1;
  return visual;
}

export function parseFixture(source: string): FixtureCase[] {
  const lines = source.split('\n');
  const cases: FixtureCase[] = [];
  let i = lines.findIndex((l) => HEADER.test(l));
  while (i >= 0 && i < lines.length) {
    const name = HEADER.exec(lines[i]!)![1]!.trim();
    let end = i + 1;
    while (end < lines.length && !HEADER.test(lines[end]!)) end++;
    const body = lines.slice(i + 1, end);
    const lineStarts: number[] = [];
    let offset = 0;
    for (const l of body) {
      lineStarts.push(offset);
      offset += l.length + 1;
    }
    const marks = new Map<string, number>();
    let target = -1;
    body.forEach((l, k) => {
      if (!MARKER_LINE.test(l)) {
        target = k;
        return;
      }
      assert.ok(target >= 0, `fixture line ${i + 2 + k}: a marker line with no code line above it`);
      for (const m of l.matchAll(/\^([\w-]+)/g)) {
        const col = visualColumn(l, m.index);
        const at = indexAtColumn(body[target]!, col);
        assert.ok(at >= 0, `fixture line ${i + 2 + k}: marker ^${m[1]} points past the end of the line above`);
        assert.ok(!marks.has(m[1]!), `fixture line ${i + 2 + k}: marker ^${m[1]} used twice in case "${name}"`);
        marks.set(m[1]!, lineStarts[target]! + at);
      }
    });
    cases.push({ name, text: body.join('\n'), marks, line: i + 1 });
    i = end;
  }
  return cases;
}

export function loadFixture(rel: string): FixtureCase[] {
  return parseFixture(fs.readFileSync(path.join(ROOT, 'test/fixtures/frontend', rel), 'utf8'));
}

/** The case named `name` (by its header's leading words). */
export function fixtureCase(cases: readonly FixtureCase[], name: string): FixtureCase {
  const found = cases.filter((c) => c.name === name || c.name.startsWith(`${name}:`));
  assert.equal(found.length, 1, `fixture case "${name}": found ${found.length} (have: ${cases.map((c) => c.name).join(' | ')})`);
  return found[0]!;
}

export function mark(c: FixtureCase, name: string): number {
  const at = c.marks.get(name);
  assert.ok(at !== undefined, `case "${c.name}" has no marker ^${name}`);
  return at;
}
