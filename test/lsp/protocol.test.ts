/**
 * The bundled language server (dist/server.js), driven over stdio as an
 * editor drives it: initialize, didOpen, didChange, hover, codeLens,
 * executeCommand. `npm test` builds the bundle before running these.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { check, example, lineOf, service } from '../helpers';
import { LineIndex } from '../../server/src/lineIndex';
import { firstPatch } from '../fixtures/seed/patches';
import { Diagnostic, fileUri, LspClient, LspError, positionOf, PublishDiagnosticsParams, ROOT, SERVER } from './lspClient';

const EXAMPLE = example();
const PATCH1 = firstPatch(EXAMPLE);

/** "406 lock-held-at-return: message", 1-based lines, for assertion messages. */
function show(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `${d.range.start.line + 1} ${d.code}: ${d.message}`).join('\n') || '(none)';
}

function problems(p: PublishDiagnosticsParams): Diagnostic[] {
  return p.diagnostics.filter((d) => d.severity !== undefined && d.severity <= 2);
}

const LOCK_RULES = new Set(['lock-held-at-return', 'lock-release-not-held', 'lock-double-acquire', 'lock-wrong-mode', 'lock-join-mismatch', 'lock-assert-fails', 'lock-contract-violated']);

/** The lock findings: what the seed's patches change (the pr_uref asymmetry is in every version). */
function lockProblems(p: PublishDiagnosticsParams): Diagnostic[] {
  return problems(p).filter((d) => LOCK_RULES.has(String(d.code)));
}

interface HoverResult { contents: { kind: string; value: string }; range: { start: { line: number } } }

/** prison_deref's definition (not its forward declaration): the name at the start of a line. */
const DEREF = '\nprison_deref(struct prison *pr, int flags)';
/** No debounce, no background simulation: one publication per version (the simulator's tests are below). */
const QUIET = { debounceMs: 0, simulator: { background: false } };

const DOUBLE_UNLOCK_AFTER = '\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n';

describe('the language server over stdio', () => {
  let client: LspClient;
  before(async () => {
    assert.ok(fs.existsSync(SERVER), 'dist/server.js is missing: run npm run build');
    client = await LspClient.start({ initializationOptions: QUIET });
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0, 'the server exits with 0 after shutdown and exit');
  });

  test('the bundled example opens with no lock problem: its locking is correct, as the maintainer says', async () => {
    const published = await client.open(fileUri('example.c'), EXAMPLE);
    assert.equal(published.version, 1);
    assert.deepEqual(lockProblems(published), [], show(published.diagnostics));
  });

  test('the bundled example shows the parent-reference asymmetry, with the creation and revival sites as related information', async () => {
    const published = await client.open(fileUri('example-ledger.c'), EXAMPLE);
    const asymmetry = published.diagnostics.filter((d) => d.code === 'uref-parent-asymmetry');
    assert.equal(asymmetry.length, 1, show(published.diagnostics));
    assert.equal(asymmetry[0]!.range.start.line + 1, lineOf(EXAMPLE, '--tpr->pr_uref > 0'));
    assert.match(asymmetry[0]!.message, /revived .* releases a parent reference it does not hold/);
    const related = (asymmetry[0]!.relatedInformation ?? []).map((r) => `${r.location.range.start.line + 1}: ${r.message}`);
    assert.ok(related.some((r) => /prison_create\(\)/.test(r)), related.join('\n'));
    assert.ok(related.some((r) => /do_jail_attach\(\) brings a dying jail back/.test(r)), related.join('\n'));
    assert.ok(related.some((r) => /prison_set_persist\(\) brings a dying jail back/.test(r)), related.join('\n'));
  });

  test('the language server reports exactly what the command line reports', async () => {
    for (const [name, text] of [['same-as-cli-example.c', EXAMPLE], ['same-as-cli-patch1.c', PATCH1]] as const) {
      const published = await client.open(fileUri(name), text);
      const cli = check(text).map((f) => `${f.line} ${f.rule}: ${f.message}`);
      assert.deepEqual(published.diagnostics.map((d) => `${d.range.start.line + 1} ${d.code}: ${d.message}`), cli);
    }
  });

  test('the first patch opens with a double acquire and a lock held at return in prison_deref, for version 1', async () => {
    const published = await client.open(fileUri('patch1.c'), PATCH1);
    assert.equal(published.version, 1);
    const found = lockProblems(published);
    assert.deepEqual(found.map((d) => d.code).sort(), ['lock-double-acquire', 'lock-held-at-return'], show(found));

    const double = found.find((d) => d.code === 'lock-double-acquire')!;
    assert.equal(double.range.start.line + 1, lineOf(PATCH1, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' }));
    assert.match(double.message, /pr->pr_mtx is acquired while this thread already holds it/);
    assert.equal(double.severity, 1, 'an error');
    assert.equal(double.source, 'jailcheck');

    const held = found.find((d) => d.code === 'lock-held-at-return')!;
    assert.equal(held.range.start.line + 1, lineOf(PATCH1, 'return;', { after: 'Done if there were only user references to remove.' }));
    assert.match(held.message, /pr->pr_mtx is still held when prison_deref\(\) returns/);
  });

  test('the double acquire carries its path as related information, one located line per step', async () => {
    const published = await client.open(fileUri('patch1-related.c'), PATCH1);
    const double = published.diagnostics.find((d) => d.code === 'lock-double-acquire')!;
    const related = double.relatedInformation ?? [];
    assert.ok(related.length >= 3, show(published.diagnostics));
    for (const r of related) {
      assert.equal(r.location.uri, fileUri('patch1-related.c'));
      assert.doesNotMatch(r.message, /\n/, 'each step is one line');
    }
    const decrement = related.find((r) => /--tpr->pr_uref > 0 is false/.test(r.message));
    assert.ok(decrement, related.map((r) => r.message).join('\n'));
    assert.equal(decrement.location.range.start.line + 1, lineOf(PATCH1, '--tpr->pr_uref > 0'));
    assert.ok(related.some((r) => /tpr->pr_mtx \(that is, pr->pr_parent->pr_mtx\) acquired .*\[held: .*pr->pr_mtx/.test(r.message)),
      related.map((r) => r.message).join('\n'));
  });

  test('an incremental edit that adds a double unlock publishes a release-not-held for that version', async () => {
    const uri = fileUri('edit.c');
    await client.open(uri, EXAMPLE);
    const at = positionOf(EXAMPLE, DOUBLE_UNLOCK_AFTER, { offset: DOUBLE_UNLOCK_AFTER.length });
    const published = await client.change(uri, 2, { range: { start: at, end: at }, text: '\t\t\tmtx_unlock(&pr->pr_mtx);\n' });
    assert.equal(published.version, 2);
    const release = published.diagnostics.filter((d) => d.code === 'lock-release-not-held' && d.range.start.line === at.line);
    assert.ok(release.length >= 1, show(published.diagnostics));
    assert.match(release[0]!.message, /^pr->pr_mtx .*is released on a path where it is not held/);

    // Undoing the edit (a full-text change this time) takes the finding away again.
    const undone = await client.change(uri, 3, { text: EXAMPLE });
    assert.deepEqual(lockProblems(undone), [], show(undone.diagnostics));
  });

  test('hovering inside prison_deref after its conditional mtx_lock shows pr->pr_mtx held on all paths', async () => {
    const uri = fileUri('hover.c');
    await client.open(uri, EXAMPLE);
    const position = positionOf(EXAMPLE, 'if (flags & PD_DEUREF) {', { after: DEREF, offset: 4 });
    const hover = await client.request<HoverResult>('textDocument/hover', { textDocument: { uri }, position });
    assert.equal(hover.contents.kind, 'markdown');
    assert.match(hover.contents.value, /`prison_deref\(\)` before line \d+/);
    assert.match(hover.contents.value, /pr->pr_mtx held on all \d+ paths/);
    // allprison_lock depends on the caller's flags, and the hover says which.
    assert.match(hover.contents.value, /allprison_lock shared held on \d+ of \d+ paths \(when flags & PD_LIST_SLOCKED\)/);
    assert.equal(hover.range.start.line, position.line);
  });

  test('the hover after the first decrement reports the counter change so far', async () => {
    const uri = fileUri('hover-counter.c');
    await client.open(uri, EXAMPLE);
    const position = positionOf(EXAMPLE, 'KASSERT(tpr != &prison0', { after: DEREF });
    const hover = await client.request<HoverResult>('textDocument/hover', { textDocument: { uri }, position });
    assert.match(hover.contents.value, /Counter changes so far: .*pr_uref` −1/);
  });

  test('hovering outside any function answers nothing', async () => {
    const uri = fileUri('hover-outside.c');
    await client.open(uri, EXAMPLE);
    const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    assert.equal(hover, null);
  });

  test('each analysed function has a Simulate lens and a paths · findings summary; prison_deref of the first patch has 2 findings', async () => {
    const uri = fileUri('lenses.c');
    await client.open(uri, PATCH1);
    const lenses = await client.request<Array<{ range: { start: { line: number } }; command: { title: string; command: string; arguments?: unknown[] } }>>(
      'textDocument/codeLens', { textDocument: { uri } });
    const line = positionOf(PATCH1, DEREF).line; // the `static void` line above the name, 0-based
    const here = lenses.filter((l) => l.range.start.line === line);
    assert.equal(here.length, 2, JSON.stringify(lenses.map((l) => [l.range.start.line, l.command.title])));
    assert.equal(here[0]!.command.title, 'Simulate');
    assert.equal(here[0]!.command.command, 'jailcheck.simulate');
    assert.deepEqual(here[0]!.command.arguments, [{ uri, function: 'prison_deref' }]);
    assert.match(here[1]!.command.title, /^\d+ paths · 2 findings$/);
    const functions = (PATCH1.match(/^[a-z_]+\(/gm) ?? []).length;
    assert.equal(lenses.length, 2 * functions, 'two lenses per function');
  });

  test('jailcheck.simulate runs on the function under the cursor and returns its report', async () => {
    const uri = fileUri('simulate.c');
    await client.open(uri, EXAMPLE);
    const position = positionOf(EXAMPLE, 'pr->pr_ref--;', { after: DEREF });
    const result = await client.request<{ function: string; version: number; report: { function: string; scenarios: unknown[] }; functionRange: { start: { line: number } } }>(
      'workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, position }] });
    assert.equal(result.function, 'prison_deref');
    assert.equal(result.report.function, 'prison_deref');
    assert.equal(result.version, 1);
    assert.equal(result.functionRange.start.line, positionOf(EXAMPLE, DEREF).line, 'the range starts at `static void`');
    assert.ok(Array.isArray(result.report.scenarios));
  });

  test('jailcheck.simulate outside any function is refused with a message that says why', async () => {
    const uri = fileUri('simulate-outside.c');
    await client.open(uri, EXAMPLE);
    await assert.rejects(
      client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, position: { line: 0, character: 0 } }] }),
      (err: LspError) => /line 1 is not inside a function/.test(err.message));
    await assert.rejects(
      client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'no_such_function' }] }),
      (err: LspError) => /no function named no_such_function/.test(err.message));
  });

  test('jailcheck.lockStateAt returns the hover state as data', async () => {
    const uri = fileUri('lockstate.c');
    await client.open(uri, EXAMPLE);
    const position = positionOf(EXAMPLE, 'if (flags & PD_DEUREF) {', { after: DEREF, offset: 4 });
    const result = await client.request<{ function: string; summary: string; state: { paths: number; locks: Array<{ name: string; held: number }> } }>(
      'workspace/executeCommand', { command: 'jailcheck.lockStateAt', arguments: [{ uri, position }] });
    assert.equal(result.function, 'prison_deref');
    const mtx = result.state.locks.find((l) => l.name === 'pr->pr_mtx');
    assert.ok(mtx, result.summary);
    assert.equal(mtx.held, result.state.paths, 'held on every path');
    assert.match(result.summary, /pr->pr_mtx held on all/);
  });

  test('a bad command argument gets an error answer and the server keeps serving', async () => {
    await assert.rejects(client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: ['not an object'] }),
      (err: LspError) => /expects one argument/.test(err.message));
    const uri = fileUri('after-error.c');
    const published = await client.open(uri, PATCH1);
    assert.equal(lockProblems(published).length, 2);
  });

  test('closing a document clears its diagnostics', async () => {
    const uri = fileUri('closed.c');
    await client.open(uri, PATCH1);
    const cleared = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && p.diagnostics.length === 0);
    client.notify('textDocument/didClose', { textDocument: { uri } });
    assert.deepEqual((await cleared).diagnostics, []);
  });

  test('every analysis is announced on jailcheck/status: busy, then idle with the version, its time and the parser', async () => {
    const uri = fileUri('status.c');
    const busy = client.next<{ state: string; activity?: string; uri?: string }>('jailcheck/status', (p) => p.state === 'busy' && p.uri === uri);
    const idle = client.next<{ state: string; parser: { backend: string }; lastAnalysis?: { uri: string; version: number; durationMs: number; budgets: string[] } }>(
      'jailcheck/status', (p) => p.state === 'idle' && p.lastAnalysis?.uri === uri);
    await client.open(uri, EXAMPLE);
    assert.equal((await busy).activity, 'analysis');
    const done = await idle;
    assert.equal(done.lastAnalysis!.version, 1);
    assert.ok(done.lastAnalysis!.durationMs > 0);
    assert.deepEqual(done.lastAnalysis!.budgets, []);
    assert.ok(['native', 'wasm'].includes(done.parser.backend));
    assert.ok(client.logs().some((l) => /^parser: /.test(l)), client.logs().join('\n'));
  });
});

describe('debounced analysis', () => {
  test('edits inside the debounce window are analysed once, for the last version', async () => {
    const client = await LspClient.start({ initializationOptions: { ...QUIET, debounceMs: 300 } });
    try {
      const uri = fileUri('debounce.c');
      await client.open(uri, EXAMPLE);
      const last = client.diagnostics(uri, 4);
      for (const version of [2, 3, 4]) {
        client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text: version === 4 ? PATCH1 : EXAMPLE + `\n/* ${version} */\n` }] });
      }
      const published = await last;
      assert.equal(lockProblems(published).length, 2);
      const versions = client.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics' && (n.params as PublishDiagnosticsParams).uri === uri)
        .map((n) => (n.params as PublishDiagnosticsParams).version);
      assert.deepEqual(versions, [1, 4], 'versions 2 and 3 were never analysed');
    } finally {
      await client.shutdown();
    }
  });
});

describe('settings', () => {
  const open = async (settings: unknown): Promise<PublishDiagnosticsParams> => {
    const client = await LspClient.start({ initializationOptions: QUIET, configuration: (items) => items.map(() => settings) });
    try {
      return await client.open(fileUri('settings.c'), PATCH1);
    } finally {
      await client.shutdown();
    }
  };

  test('per-rule severity from workspace/configuration: a rule can be downgraded or turned off', async () => {
    const published = await open({ severity: { 'lock-double-acquire': 'warning', 'lock-held-at-return': 'off', 'uref-parent-asymmetry': 'hint' } });
    assert.deepEqual(published.diagnostics.map((d) => [d.code, d.severity]).sort(),
      [['lock-double-acquire', 2], ['uref-parent-asymmetry', 4]], show(published.diagnostics));
  });

  test('a tiny step budget is reported as an information note naming the setting to raise, and on the status', async () => {
    const client = await LspClient.start({ initializationOptions: QUIET, configuration: (items) => items.map(() => ({ bounds: { maxSteps: 20 } })) });
    try {
      const uri = fileUri('budget.c');
      const idle = client.next<{ state: string; lastAnalysis?: { uri: string; budgets: string[] } }>('jailcheck/status',
        (p) => p.state === 'idle' && p.lastAnalysis?.uri === uri);
      const published = await client.open(uri, PATCH1);
      const notes = published.diagnostics.filter((d) => d.code === 'analysis-incomplete');
      assert.ok(notes.length > 0, show(published.diagnostics));
      assert.equal(notes[0]!.severity, 3, 'information');
      assert.match(notes[0]!.message, /raise jailcheck\.bounds\.maxSteps/);
      const budgets = (await idle).lastAnalysis!.budgets;
      assert.equal(budgets.length, notes.length);
      assert.match(budgets[0]!, /raise jailcheck\.bounds\.maxSteps/);
    } finally {
      await client.shutdown();
    }
  });

  test('a function the front end cannot read is an information note, and the rest of the file is still checked', async () => {
    const broken = PATCH1.replace('prison_proc_hold(struct prison *pr)\n{\n', 'prison_proc_hold(struct prison *pr)\n{\n\tgoto nowhere;\n');
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 } });
    try {
      const result = await client.open(fileUri('broken.c'), broken);
      const note = result.diagnostics.find((d) => d.code === 'parse-problem');
      assert.ok(note, show(result.diagnostics));
      assert.equal(note.severity, 3);
      assert.match(note.message, /prison_proc_hold\(\) was not analysed: goto nowhere names no label/);
      assert.equal(lockProblems(result).length, 2, 'prison_deref is still checked');
    } finally {
      await client.shutdown();
    }
  });

  test('in an untrusted workspace a workspace setting that widens a budget falls back to the user value', async () => {
    // The workspace asks for a huge budget; the user's own value (the baseline) is tiny: the tiny one wins.
    const widened = await open({ bounds: { maxSteps: 10_000_000 }, untrustedBaseline: { 'bounds.maxSteps': 20 } });
    assert.ok(widened.diagnostics.some((d) => d.code === 'analysis-incomplete'), show(widened.diagnostics));
    // A narrower workspace value still applies.
    const narrowed = await open({ bounds: { maxSteps: 20 }, untrustedBaseline: { 'bounds.maxSteps': 200_000 } });
    assert.ok(narrowed.diagnostics.some((d) => d.code === 'analysis-incomplete'), show(narrowed.diagnostics));
    // Trusted (no baseline): the workspace's wide budget is used and the analysis completes.
    const trusted = await open({ bounds: { maxSteps: 10_000_000 } });
    assert.ok(!trusted.diagnostics.some((d) => d.code === 'analysis-incomplete'), show(trusted.diagnostics));
  });

  test('a malformed setting is logged and ignored, and the analysis still runs', async () => {
    const client = await LspClient.start({ initializationOptions: QUIET, configuration: (items) => items.map(() => ({ bounds: { maxSteps: 'lots' } })) });
    try {
      const published = await client.open(fileUri('bad-settings.c'), PATCH1);
      assert.equal(lockProblems(published).length, 2);
      assert.ok(client.logs().some((l) => /jailcheck\.bounds\.maxSteps: expected a number/.test(l)), client.logs().join('\n'));
    } finally {
      await client.shutdown();
    }
  });
});

describe('parsers', () => {
  const diagnosticsWith = async (parser: string, text: string) => {
    const client = await LspClient.start({ initializationOptions: { ...QUIET, parser } });
    try {
      const status = client.next<{ state: string; parser: { backend: string } }>('jailcheck/status', (p) => p.state === 'idle');
      const published = await client.open(fileUri('parser.c'), text);
      return { backend: (await status).parser.backend, logs: client.logs(), diagnostics: published.diagnostics.map((d) => ({ code: d.code, range: d.range, message: d.message })) };
    } finally {
      await client.shutdown();
    }
  };

  test('native and WebAssembly tree-sitter give the same diagnostics', async () => {
    const doubleUnlock = EXAMPLE.replace(DOUBLE_UNLOCK_AFTER, `${DOUBLE_UNLOCK_AFTER}\t\t\tmtx_unlock(&pr->pr_mtx);\n`);
    for (const text of [EXAMPLE, PATCH1, doubleUnlock]) {
      const native = await diagnosticsWith('native', text);
      const wasm = await diagnosticsWith('wasm', text);
      assert.equal(native.backend, 'native');
      assert.equal(wasm.backend, 'wasm');
      assert.ok(wasm.logs.some((l) => /parser: WebAssembly tree-sitter/.test(l)), wasm.logs.join('\n'));
      assert.deepEqual(wasm.diagnostics, native.diagnostics);
    }
  });
});

describe('jailcheck lsp (the CLI)', () => {
  test('the CLI\'s other commands do not start a server: check exits on its own with stdin left open', async () => {
    const child = spawn(process.execPath, [`${ROOT}/dist/cli.js`, 'check', `${ROOT}/examples/kern_jail_2011.c`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill(); reject(new Error(`check did not exit within 60 s:\n${out}`)); }, 60_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    assert.ok(code === 0 || code === 1, `check's own exit status (0 or 1 by its findings), not a server's: ${code}\n${out}`);
    assert.match(out, /^jailcheck: .* in 1 file$/m);
    assert.doesNotMatch(out, /Content-Length/);
  });

  test('serves the same diagnostics over stdio as the bundled server', async () => {
    const client = await LspClient.start({ command: [process.execPath, `${ROOT}/dist/cli.js`, 'lsp'], initializationOptions: { debounceMs: 0 } });
    try {
      const published = await client.open(fileUri('cli.c'), PATCH1);
      assert.deepEqual(lockProblems(published).map((d) => d.code).sort(), ['lock-double-acquire', 'lock-held-at-return']);
    } finally {
      assert.equal(await client.shutdown(), 0);
    }
  });
});

describe('progress', () => {
  test('a client that passes no token but supports progress sees the simulation as server-created progress', async () => {
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 }, workDoneProgress: true });
    try {
      const uri = fileUri('progress.c');
      await client.open(uri, EXAMPLE);
      const end = client.next<{ value: { kind: string } }>('$/progress', (p) => p.value.kind === 'end');
      await client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'prison_deref' }] });
      await end;
      assert.ok(client.serverRequests.some((r) => r.method === 'window/workDoneProgress/create'));
      const begin = client.notifications.find((n) => n.method === '$/progress' && (n.params as { value: { kind: string } }).value.kind === 'begin');
      assert.match((begin!.params as { value: { title: string; cancellable: boolean } }).value.title, /Simulating prison_deref\(\)/);
      assert.equal((begin!.params as { value: { cancellable: boolean } }).value.cancellable, true);
    } finally {
      await client.shutdown();
    }
  });

  test('a client-given work-done token receives the progress', async () => {
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 } });
    try {
      const uri = fileUri('progress-token.c');
      await client.open(uri, EXAMPLE);
      const begin = client.next<{ token: string; value: { kind: string } }>('$/progress', (p) => p.token === 'sim-1' && p.value.kind === 'begin');
      await client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'prison_deref' }], workDoneToken: 'sim-1' });
      await begin;
      assert.ok(!client.serverRequests.some((r) => r.method === 'window/workDoneProgress/create'));
    } finally {
      await client.shutdown();
    }
  });
});

describe('the simulator in the language server', () => {
  test('the background simulation publishes the revival counterexample with the static findings of the same version, as jailcheck check reports it', async () => {
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 } });
    try {
      const uri = fileUri('background.c');
      const simulated = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics',
        (p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'interleaving-violation'), 60_000);
      const first = await client.open(uri, EXAMPLE);
      assert.ok(!first.diagnostics.some((d) => d.code === 'interleaving-violation'), 'the static findings do not wait for the simulator');
      const published = await simulated;
      assert.equal(published.version, 1);
      assert.ok(published.diagnostics.some((d) => d.code === 'uref-parent-asymmetry'), 'published with the static findings');
      const found = published.diagnostics.filter((d) => d.code === 'interleaving-violation');
      const revival = found.find((d) => /^logic error \(no preemption needed\): prison0\.pr_uref reached 0/.test(d.message));
      assert.ok(revival, show(found));
      assert.equal(revival.range.start.line + 1, lineOf(EXAMPLE, '--tpr->pr_uref > 0'));
      const steps = revival.relatedInformation ?? [];
      assert.ok(steps.length > 3, show(found));
      assert.ok(steps.every((r) => !r.message.includes('\n')));
      assert.ok(steps.some((r) => /^thread 2: /.test(r.message)), steps.map((r) => r.message).join('\n'));
      // The command line finds the same counterexamples at the same places.
      const cli = service().analyse(EXAMPLE, { simulate: true }).findings.filter((f) => f.rule === 'interleaving-violation');
      const index = new LineIndex(EXAMPLE);
      const head = (m: string) => m.slice(0, m.indexOf(' (scenario'));
      assert.deepEqual(found.map((d) => `${d.range.start.line + 1} ${head(d.message)}`).sort(),
        cli.map((f) => `${index.position(f.range.start).line} ${head(f.message)}`).sort());
    } finally {
      await client.shutdown();
    }
  });

  test('jailcheck.simulate returns prison_deref\'s scenarios with the revival counterexample, and the editor range of each step', async () => {
    const client = await LspClient.start({ initializationOptions: QUIET });
    try {
      const uri = fileUri('simulate-real.c');
      await client.open(uri, EXAMPLE);
      const result = await client.request<{ report: { scenarios: Array<{ name: string; verdict: string; counterexample?: { label: string; steps: unknown[]; at: { step: number } } }> };
        stepRanges: Array<Array<{ start: { line: number } }>> }>(
        'workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'prison_deref' }] }, 60_000);
      const scenarios = result.report.scenarios;
      const i = scenarios.findIndex((s) => s.name === 'revival-by-attach');
      assert.ok(i >= 0, scenarios.map((s) => s.name).join(', '));
      const cx = scenarios[i]!.counterexample!;
      assert.equal(scenarios[i]!.verdict, 'violation');
      assert.equal(cx.label, 'logic error (no preemption needed)');
      assert.equal(result.stepRanges[i]!.length, cx.steps.length);
      assert.equal(result.stepRanges[i]![cx.at.step]!.start.line + 1, lineOf(EXAMPLE, '--tpr->pr_uref > 0'));
      await assert.rejects(
        client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'prison_deref', scenario: 'no-such-scenario' }] }),
        (err: LspError) => /no scenario named "no-such-scenario"/.test(err.message));
    } finally {
      await client.shutdown();
    }
  });
});
