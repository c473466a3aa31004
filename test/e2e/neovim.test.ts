/**
 * The language server is an LSP server, not a VS Code part: a headless
 * Neovim (Debian's 0.7) starts it over stdio, opens the seed's first patch,
 * and receives the same diagnostics as VS Code, and a hover.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { example, lineOf } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { LspClient, positionOf, PublishDiagnosticsParams } from '../lsp/lspClient';
import { ROOT } from './codeServer';

const NVIM = process.env.JAILCHECK_E2E_NVIM ?? '/usr/bin/nvim';
const SERVER = path.join(ROOT, 'dist', 'server.js');

interface NeovimResult {
  uri: string;
  version: number;
  diagnostics: PublishDiagnosticsParams['diagnostics'];
  hover: { contents: { kind: string; value: string } } | null;
}

/** Runs Neovim on `file` until it has written its result (or 30 s pass). */
function runNeovim(file: string, hoverAt: { line: number; character: number }, scratch: string): Promise<NeovimResult> {
  const out = path.join(scratch, 'result.json');
  const home = path.join(scratch, 'home');
  fs.mkdirSync(home, { recursive: true });
  const nvim = spawn(NVIM, ['--headless', '-n', '-i', 'NONE', '-u', path.join(ROOT, 'test', 'e2e', 'neovim', 'init.lua')], {
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      JAILCHECK_NODE: process.execPath,
      JAILCHECK_SERVER: SERVER,
      JAILCHECK_FILE: file,
      JAILCHECK_OUT: out,
      JAILCHECK_HOVER_LINE: String(hoverAt.line),
      JAILCHECK_HOVER_CHARACTER: String(hoverAt.character),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  nvim.stdout.on('data', (c: Buffer) => { output += c.toString(); });
  nvim.stderr.on('data', (c: Buffer) => { output += c.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      nvim.kill('SIGKILL');
      reject(new Error(`Neovim did not finish within 30 s:\n${output}`));
    }, 30_000);
    nvim.on('exit', (code) => {
      clearTimeout(timer);
      if (!fs.existsSync(out)) {
        reject(new Error(`Neovim exited (${code}) without diagnostics:\n${output}`));
        return;
      }
      resolve(JSON.parse(fs.readFileSync(out, 'utf8')) as NeovimResult);
    });
  });
}

test('a headless Neovim receives the first patch\'s diagnostics and a hover over stdio, the same as any client', async () => {
  assert.ok(fs.existsSync(NVIM), `${NVIM} is missing: run scripts/e2e-setup.sh (Debian package neovim)`);
  assert.ok(fs.existsSync(SERVER), 'dist/server.js is missing: run npm run build');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-nvim-'));
  try {
    const text = firstPatch(example());
    const file = path.join(scratch, 'kern_jail.c');
    fs.writeFileSync(file, text);
    const hoverAt = positionOf(text, 'if (flags & PD_DEUREF) {', { after: '\nprison_deref(struct prison *pr, int flags)', offset: 4 });
    const result = await runNeovim(file, hoverAt, scratch);

    assert.equal(result.uri, pathToFileURL(file).href);
    const problems = result.diagnostics.filter((d) => /^lock-/.test(String(d.code)));
    assert.deepEqual(problems.map((d) => [d.code, d.range.start.line + 1]).sort(), [
      ['lock-double-acquire', lineOf(text, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' })],
      ['lock-held-at-return', lineOf(text, 'return;', { after: 'Done if there were only user references to remove.' })],
    ].sort());
    assert.match(problems.find((d) => d.code === 'lock-double-acquire')!.message, /pr->pr_mtx is acquired while this thread already holds it/);
    assert.match(result.hover?.contents.value ?? '', /pr->pr_mtx held on all \d+ paths/);

    // The same diagnostics another client gets for the same text.
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 } });
    try {
      const published = await client.open(pathToFileURL(file).href, text);
      assert.deepEqual(result.diagnostics, published.diagnostics);
    } finally {
      await client.shutdown();
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
