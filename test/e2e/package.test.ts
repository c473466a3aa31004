/**
 * The packaged extension (jailcheck.vsix), installed the way VS Code installs
 * it, holds everything its server needs: it parses with the native
 * tree-sitter binding where that loads, and with WebAssembly where it does
 * not (here: the native binding removed, as on a machine whose libstdc++ is
 * too old for it), with the same findings and the reason in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { example } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { fileUri, LspClient } from '../lsp/lspClient';
import { CODE_SERVER, missingPrerequisites } from './codeServer';

async function findingsOf(serverJs: string): Promise<{ codes: string[]; parserLog: string }> {
  const client = await LspClient.start({ command: [process.execPath, serverJs, '--stdio'], initializationOptions: { debounceMs: 0 } });
  try {
    const published = await client.open(fileUri('packaged.c'), firstPatch(example()));
    return { codes: published.diagnostics.map((d) => `${d.range.start.line + 1} ${d.code}`), parserLog: client.logs().find((l) => l.startsWith('parser:')) ?? '' };
  } finally {
    await client.shutdown();
  }
}

test('the installed .vsix parses natively, and falls back to WebAssembly with the same findings when the native binding is missing', async () => {
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], missing.join('\n'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-vsix-'));
  try {
    const home = path.join(scratch, 'home');
    const extensions = path.join(scratch, 'extensions');
    fs.mkdirSync(home, { recursive: true });
    execFileSync(CODE_SERVER, ['--config', '/dev/null', '--user-data-dir', path.join(scratch, 'data'), '--extensions-dir', extensions,
      '--install-extension', path.resolve(__dirname, '..', '..', 'jailcheck.vsix')],
    { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') }, stdio: 'pipe', timeout: 60_000 });
    const installed = fs.readdirSync(extensions).find((d) => d.startsWith('jailcheck.jailcheck-'));
    assert.ok(installed, fs.readdirSync(extensions).join(', '));
    const root = path.join(extensions, installed);
    assert.deepEqual(fs.readdirSync(path.join(root, 'dist')).sort(), ['analysisWorker.js', 'client.js', 'server.js'], 'the bundles (the server, its analysis worker, the client) and nothing else');

    const native = await findingsOf(path.join(root, 'dist', 'server.js'));
    assert.equal(native.parserLog, 'parser: native tree-sitter');
    assert.ok(native.codes.some((c) => c.endsWith('lock-double-acquire')), native.codes.join('\n'));

    // A machine where the native binding does not load.
    for (const f of fs.readdirSync(path.join(root, 'node_modules', 'tree-sitter', 'build', 'Release'))) {
      fs.rmSync(path.join(root, 'node_modules', 'tree-sitter', 'build', 'Release', f));
    }
    const wasm = await findingsOf(path.join(root, 'dist', 'server.js'));
    assert.match(wasm.parserLog, /^parser: WebAssembly tree-sitter \(web-tree-sitter\), because native tree-sitter did not load \(.+\)$/);
    assert.deepEqual(wasm.codes, native.codes);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
