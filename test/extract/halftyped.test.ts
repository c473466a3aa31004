/**
 * Code as it is while someone types it: a function that does not parse is
 * listed with exactly one problem and is not analysed (one information
 * note), and every other function of the file is still read and analysed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex } from '../../server/src/lineIndex';
import { check, describe } from '../helpers';
import { fixtureCase, loadFixture, mark } from './fixture';
import { extract, readFunction } from './irQuery';

const cases = loadFixture('halftyped.c');

/** What each case's broken function is told, line numbers relative to the case. */
const EXPECTED: Record<string, RegExp> = {
  'missing-paren': /^missing `\)` at line 5$/,
  'half-if': /^missing `\)` at line 7$/,
  'open-brace': /^missing `\}` at line 9$/,
  'stray-token': /^text it cannot read at line 6$/,
  'cut-off': /^its closing `\}` is missing \(the body opened at line 14 runs into the end of the file\)$/,
  'unclosed-middle': /^its closing `\}` is missing \(the body opened at line 3 runs into the next function, at line 8\)$/,
  'open-comment': /^unreadable statement at line 5$/,
};

test('every half-typed case is covered by this test', () => {
  assert.deepEqual(cases.map((c) => c.name.split(':')[0]).sort(), Object.keys(EXPECTED).sort());
});

for (const [name, message] of Object.entries(EXPECTED)) {
  test(`${name}: the broken function gets exactly one problem, the other function is read`, () => {
    const c = fixtureCase(cases, name);
    const ir = extract(c.text);
    assert.deepEqual(ir.functions.map((f) => f.name).sort(), ['prison_broken', 'prison_leaky']);
    assert.deepEqual(ir.problems, []);
    const broken = ir.functions.find((f) => f.name === 'prison_broken')!;
    assert.equal(broken.problems.length, 1, JSON.stringify(broken.problems));
    assert.match(broken.problems[0]!.message, message);
    if (c.marks.has('damage')) {
      const index = new LineIndex(c.text);
      assert.equal(index.position(broken.problems[0]!.range.start).line, index.position(mark(c, 'damage')).line);
    }
    readFunction(ir, 'prison_leaky');
  });

  test(`${name}: one information note for the broken function, and the other function's finding is still reported`, () => {
    const c = fixtureCase(cases, name);
    const findings = check(c.text);
    const notes = findings.filter((f) => f.rule === 'parse-problem');
    assert.equal(notes.length, 1, describe(findings));
    const note = notes[0]!;
    assert.equal(note.severity, 'information');
    assert.equal(note.function, 'prison_broken');
    assert.equal(note.line, new LineIndex(c.text).position(c.text.indexOf('prison_broken(')).line, 'reported on the name');
    assert.ok(note.message.startsWith('prison_broken() was not analysed: '), note.message);
    assert.match(note.message.slice('prison_broken() was not analysed: '.length), message);
    const others = findings.filter((f) => f.rule !== 'parse-problem');
    assert.deepEqual(others.map((f) => [f.rule, f.function, f.line]),
      [['lock-held-at-return', 'prison_leaky', new LineIndex(c.text).position(mark(c, 'leak')).line]], describe(findings));
  });
}
