/**
 * A 100,000-line generated file in kern_jail.c's style finishes in bounded
 * time with a clear result. The time is reported (node --test prints
 * diagnostics) so a slowdown is seen before it becomes a hang.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './runCli';
import { generateKernJailStyle } from './generate';
import { makeWorkspace, removeWorkspace } from './workspace';

const LINES = 100_000;
/** Measured at 7 to 22 s on the 2-core machine, busy or not; three times the worst is a regression, not noise. */
const LIMIT_MS = 60_000;

let dir: string;
before(() => {
  dir = makeWorkspace({ 'generated.c': generateKernJailStyle(LINES) });
});
after(() => removeWorkspace(dir));

test(`a ${LINES.toLocaleString('en')}-line generated kern_jail-style file is checked in bounded time, with no finding`, async (t) => {
  const r = await runCli(['check', 'generated.c'], { cwd: dir, timeoutMs: 5 * LIMIT_MS });
  t.diagnostic(`jailcheck check on ${LINES} lines took ${(r.ms / 1000).toFixed(1)} s`);
  assert.equal(r.signal, null, `killed after ${r.ms} ms`);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'jailcheck: 0 errors, 0 warnings, 0 notes in 1 file\n');
  assert.equal(r.code, 0);
  assert.ok(r.ms < LIMIT_MS, `took ${(r.ms / 1000).toFixed(1)} s, more than ${LIMIT_MS / 1000} s`);
});

test('the generated file really has that many lines and thousands of functions', () => {
  const text = generateKernJailStyle(LINES);
  assert.ok(text.split('\n').length >= LINES);
  assert.ok((text.match(/^\{$/gm) ?? []).length > 5000);
});
