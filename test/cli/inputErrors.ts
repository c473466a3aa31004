/**
 * How a usage or input error of the CLI must look, for every command: exit
 * 2, nothing on standard output, one line on standard error, no stack
 * trace, and nothing in the working folder written or changed.
 */
import assert from 'node:assert/strict';
import { runCli, CliResult } from './runCli';
import { fingerprint } from './workspace';

export function assertNoStackTrace(r: CliResult): void {
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${out}`);
    assert.doesNotMatch(out, /\b(TypeError|RangeError|SyntaxError|ReferenceError)\b|internal error/, out);
  }
}

/** Runs the CLI in `dir` and checks it fails as a usage or input error should; returns its one line on standard error. */
export async function expectInputError(dir: string, args: string[], message: RegExp): Promise<{ result: CliResult; line: string }> {
  const before = fingerprint(dir);
  const r = await runCli(args, { cwd: dir });
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}\nstdout: ${r.stdout.slice(0, 400)}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on standard output');
  assertNoStackTrace(r);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on standard error, got:\n${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.deepEqual(fingerprint(dir), before, 'nothing in the working folder was written or changed');
  return { result: r, line: lines[0]! };
}
