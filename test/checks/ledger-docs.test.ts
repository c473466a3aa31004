/**
 * docs/ledger.md stays true: its JSON table names exactly the fields
 * `jailcheck ledger --format json` prints, with their types, and the rows it
 * shows are rows of the example's ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ledgerRows } from '../../server/src/cli/ledger';
import { example, ROOT, service } from '../helpers';

const page = fs.readFileSync(path.join(ROOT, 'docs', 'ledger.md'), 'utf8');

function jsonTable(): Map<string, string> {
  const section = page.slice(page.indexOf('## JSON rows'));
  const out = new Map<string, string>();
  for (const m of section.matchAll(/^\| `(\w+)` \| (\w+) \|/gm)) out.set(m[1]!, m[2]!);
  return out;
}

test('every field of a JSON ledger row is documented with its type, and nothing else is', () => {
  const text = example();
  const rows = ledgerRows(text, service().analyse(text).ledger.rows);
  const documented = jsonTable();
  const seen = new Map<string, string>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) seen.set(k, typeof v);
  assert.deepEqual([...seen.keys()].sort(), [...documented.keys()].sort());
  for (const [k, t] of seen) assert.equal(documented.get(k), t, k);
});

test('the rows the page shows are in the example\'s ledger, as printed', () => {
  const text = example();
  const rows = ledgerRows(text, service().analyse(text).ledger.rows);
  const shown = page.split('\n').filter((l) => /^\d+ {2,}\w+\(\)/.test(l));
  assert.ok(shown.length >= 5);
  for (const line of shown) {
    const [num, fn, target] = line.split(/\s{2,}/);
    assert.ok(rows.some((r) => String(r.line) === num && `${r.function}()` === fn && r.target === target), line);
  }
});
