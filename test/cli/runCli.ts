/**
 * Runs the jailcheck command line in a child process, the way a user's
 * shell would: its own working folder, stdout, stderr and exit code. The
 * CLI is bundled from the current source once per test process (esbuild,
 * as `npm run build` does), so the tests never run a stale dist/cli.js and
 * each run starts in a fraction of a second.
 */
import { execFile } from 'node:child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let bundle: Promise<string> | undefined;

/** dist/cli.js's bundle of the current source, under out/ (ignored by git), removed when the process exits. */
export function cliBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = path.join(ROOT, 'out', 'test-cli', String(process.pid));
    const outfile = path.join(dir, 'cli.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'server/src/cli/main.ts')], outfile, bundle: true, platform: 'node', target: 'node20',
      format: 'cjs', logLevel: 'warning', external: ['vscode', 'tree-sitter', 'tree-sitter-c', 'web-tree-sitter'],
    });
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return outfile;
  })();
  return bundle;
}

export async function runCli(args: readonly string[], options: { cwd: string; timeoutMs?: number }): Promise<CliResult> {
  const cli = await cliBundle();
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], {
      cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout, stderr, ms: performance.now() - t0,
      });
    });
  });
}
