/**
 * Where the output goes is the user's business: a reader that stops early
 * (`jailcheck check … | head`) ends the run quietly with the run's own exit
 * code, and a full disk is a one-line error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cliBundle } from './runCli';
import { makeWorkspace, removeWorkspace } from './workspace';

/** Many small functions, each returning with pr_mtx held on one path: a lot of output. */
function manyLeaks(count: number): string {
  return Array.from({ length: count }, (_, i) => `static void
leaky_${i}(struct prison *pr, int flags)
{

	mtx_lock(&pr->pr_mtx);
	if (flags & PD_DEREF)
		return;
	mtx_unlock(&pr->pr_mtx);
}
`).join('\n');
}

let dir: string;
before(() => {
  dir = makeWorkspace({ 'many.c': manyLeaks(400) });
});
after(() => removeWorkspace(dir));

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

test('a reader that closes the pipe early ends the run quietly, with the exit code of the findings', async () => {
  const cli = await cliBundle();
  const child = spawn(process.execPath, [cli, 'check', '--format', 'json', 'many.c'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let received = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    received += chunk.length;
    child.stdout!.destroy();
  });
  const { code, stderr } = await exitOf(child);
  assert.ok(received > 0, 'some output arrived before the pipe closed');
  assert.equal(stderr, '', 'no EPIPE stack trace');
  assert.equal(code, 1, 'the findings still decide the exit code');
});

test('a full disk is a one-line error and exit 2', async () => {
  const cli = await cliBundle();
  const full = fs.openSync('/dev/full', 'w');
  try {
    const child = spawn(process.execPath, [cli, 'check', 'many.c'], { cwd: dir, stdio: ['ignore', full, 'pipe'] });
    const { code, stderr } = await exitOf(child);
    assert.equal(stderr, 'jailcheck: cannot write the output: ENOSPC\n');
    assert.equal(code, 2);
  } finally {
    fs.closeSync(full);
  }
  assert.deepEqual(fs.readdirSync(dir), [path.basename('many.c')]);
});
