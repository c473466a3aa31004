/**
 * `npm run bench` as a user meets it (dist/bench.js, built by npm test and
 * npm run bench): figures as JSON on request, the generated file written
 * out for `jailcheck check`, and short messages for bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { generateKernJail } from '../../bench/generate';

const BENCH = path.join(ROOT, 'dist', 'bench.js');

function bench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(fs.existsSync(BENCH), `${BENCH} is missing: run npm run build first`);
  const r = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-bench-'));
}

test('--emit writes the generated file, the same one the benchmark measures', () => {
  const dir = scratchDir();
  const out = path.join(dir, 'kern_jail_generated.c');
  const r = bench(['--emit', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(out, 'utf8'), generateKernJail().text);
  fs.rmSync(dir, { recursive: true });
});

test('--emit does not overwrite an existing file: one line on stderr, exit status 2, the file unchanged', () => {
  const dir = scratchDir();
  const out = path.join(dir, 'mine.c');
  fs.writeFileSync(out, 'int keep_me;\n');
  const r = bench(['--emit', out]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /already exists/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'int keep_me;\n');
  fs.rmSync(dir, { recursive: true });
});

test('a bad option value is a usage error with a short message, not a stack trace', () => {
  for (const args of [['--budget', '0'], ['--seed', 'x'], ['--only', 'no-such-section']]) {
    const r = bench(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
    assert.ok(r.stderr.trim().length > 0);
  }
});

test('--json prints each figure with its unit, and each timing with its runs, median and p95', () => {
  const r = bench(['--only', 'pipeline-example', '--budget', '4', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    date: string; machine: { cpus: number };
    sections: Array<{ id: string; figures: Array<{ id: string; unit: string; timing?: { runs: number; median: number; p95: number; warmup: number }; ratio?: { value: number; to: string } }> }>;
  };
  assert.ok(!Number.isNaN(Date.parse(report.date)));
  assert.deepEqual(report.sections.map((s) => s.id), ['pipeline-example']);
  const figures = new Map(report.sections[0]!.figures.map((f) => [f.id, f]));
  for (const id of ['parse.native', 'extract.native', 'checks']) {
    const t = figures.get(id)?.timing;
    assert.ok(t, `no timing ${id}`);
    assert.equal(figures.get(id)!.unit, 'ms');
    assert.ok(t.runs >= 1 && t.median > 0 && t.p95 >= t.median, JSON.stringify(t));
  }
  // Checks are related to the parse time of the same run (the JSON is rounded to microseconds).
  const checks = figures.get('checks')!;
  assert.equal(checks.ratio?.to, 'native parse');
  const expected = checks.timing!.median / figures.get('parse.native')!.timing!.median;
  assert.ok(Math.abs(checks.ratio!.value - expected) / expected < 0.01, `${checks.ratio!.value} vs ${expected}`);
});
