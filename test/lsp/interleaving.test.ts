/**
 * Interleaving diagnostics: a counterexample of the simulator becomes a
 * diagnostic on the step that broke the invariant, labelled by its number of
 * preemptions, with the schedule as related information. Tested with a
 * hand-made report, the mapping alone and through the server (its simulator
 * replaced by one that returns the report); the real simulator's are in
 * protocol.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { interleavingDiagnostics } from '../../server/src/lsp/interleaving';
import { cascadeFunctions } from '../../server/src/interleavings';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { DEFAULT_SETTINGS, readSettings } from '../../server/src/lsp/settings';
import { example, lineOf, service } from '../helpers';
import { handmadeReport } from './handmadeReport';
import { fileUri, LspClient, positionOf, PublishDiagnosticsParams, ROOT } from './lspClient';

const EXAMPLE = example();
const DOC = TextDocument.create('file:///k.c', 'c', 1, EXAMPLE);

const RUNS = [{ function: 'prison_deref', report: handmadeReport(EXAMPLE) }];

test('a counterexample becomes one diagnostic on the step that broke the invariant, labelled, with its schedule as related lines', () => {
  const diagnostics = interleavingDiagnostics(RUNS, 'pr_uref', DOC.uri, DOC, DEFAULT_SETTINGS);
  // The `ok` scenario has no counterexample; the race comes from a stated world, which the file may never produce.
  assert.equal(diagnostics.length, 1);
  const d = diagnostics[0]!;
  assert.equal(d.code, 'interleaving-violation');
  assert.equal(d.severity, 1);
  assert.equal(d.message, 'logic error (no preemption needed): P.pr_uref drops to 0 while its child B is still alive, '
    + 'when thread 1 runs prison_deref(A, PD_DEUREF) while thread 2 runs prison_deref(B, PD_DEUREF) (scenario sibling-last-users)');
  assert.equal(d.range.start.line + 1, lineOf(EXAMPLE, '--tpr->pr_uref > 0'), 'on the violating step');
  const related = d.relatedInformation!.map((r) => r.message);
  // The schedule up to the violation (7 steps), then what the same schedule broke next.
  assert.equal(related.length, 8, related.join('\n'));
  assert.equal(related[0], 'thread 1: mtx_lock(&pr->pr_mtx) [held: A.pr_mtx by thread 1]');
  assert.equal(related[3], 'thread 1: mtx_lock(&tpr->pr_mtx) (choice: tpr = P) [held: P.pr_mtx by thread 1]');
  assert.equal(related[6], 'thread 2: --tpr->pr_uref > 0 is false [held: B.pr_mtx by thread 2]');
  assert.equal(related[7], 'then: KASSERT(tpr != &prison0) fails');
  assert.equal(d.relatedInformation![2]!.location.range.start.line + 1, lineOf(EXAMPLE, 'mtx_unlock(&tpr->pr_mtx);', { after: 'Remove a prison reference.' }));
});

test('a race says how many preemptions it needs', () => {
  const report = handmadeReport(EXAMPLE);
  const race = { ...report.scenarios[2]!, world: 'built' as const };
  const [d] = interleavingDiagnostics([{ function: 'prison_deref', report: { ...report, scenarios: [race] } }], 'pr_uref', DOC.uri, DOC, DEFAULT_SETTINGS);
  assert.match(String(d!.message), /^race \(2 preemptions\): pr->pr_mtx released by T3/);
  assert.match(d!.relatedInformation![1]!.message, /preempts the other thread/);
});

test('the interleaving rule follows the severity setting, off included', () => {
  const warn = readSettings({ severity: { 'interleaving-violation': 'warning' } });
  assert.equal(interleavingDiagnostics(RUNS, 'pr_uref', DOC.uri, DOC, warn)[0]!.severity, 2);
  const off = readSettings({ severity: { 'interleaving-violation': 'off' } });
  assert.deepEqual(interleavingDiagnostics(RUNS, 'pr_uref', DOC.uri, DOC, off), []);
});

test('the background simulates the functions that give references back up the hierarchy, as jailcheck check does', () => {
  const ledger = service().analyse(EXAMPLE).ledger;
  assert.deepEqual(cascadeFunctions(ledger.rows, DEFAULT_CONFIG), ['prison_deref']);
});

test('the server publishes the background simulation\'s counterexample with the static findings of the same version', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-report-'));
  const reportFile = path.join(dir, 'report.json');
  fs.writeFileSync(reportFile, JSON.stringify(handmadeReport(EXAMPLE)));
  const client = await LspClient.start({
    command: [process.execPath, '--import', 'tsx', path.join(ROOT, 'test/lsp/fakeSimulatorServer.ts')],
    env: { JAILCHECK_FAKE_REPORT: reportFile },
    initializationOptions: { debounceMs: 0 },
  });
  try {
    const uri = fileUri('interleaving.c');
    const withSimulation = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'interleaving-violation'));
    const first = await client.open(uri, EXAMPLE);
    assert.ok(!first.diagnostics.some((d) => d.code === 'interleaving-violation'), 'static findings come first, without waiting');
    const published = await withSimulation;
    assert.equal(published.version, 1);
    const d = published.diagnostics.find((x) => x.code === 'interleaving-violation')!;
    assert.match(d.message, /logic error \(no preemption needed\)/);
    assert.equal(d.relatedInformation!.length, 8, 'the schedule up to the violation, and the KASSERT after it');

    // Turning background simulation off (a settings push) removes it at the next analysis.
    const without = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri);
    client.notify('workspace/didChangeConfiguration', { settings: { jailcheck: { debounceMs: 0, simulator: { background: false } } } });
    assert.ok(!(await without).diagnostics.some((x) => x.code === 'interleaving-violation'));
  } finally {
    await client.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an exception inside the simulator costs only that request: it is logged with its stack and the server keeps serving', async () => {
  const client = await LspClient.start({
    command: [process.execPath, '--import', 'tsx', path.join(ROOT, 'test/lsp/fakeSimulatorServer.ts')],
    env: { JAILCHECK_FAKE_REPORT: 'throw' },
    initializationOptions: { debounceMs: 0 },
  });
  try {
    const uri = fileUri('throwing.c');
    const backgroundFailed = client.next<{ message: string }>('window/logMessage', (p) => /background simulation of .* failed/.test(p.message));
    // The background simulation throws too: the static findings are published all the same.
    const published = await client.open(uri, EXAMPLE);
    assert.ok(published.diagnostics.some((d) => d.code === 'uref-parent-asymmetry'));
    await assert.rejects(
      client.request('workspace/executeCommand', { command: 'jailcheck.simulate', arguments: [{ uri, function: 'prison_deref' }] }),
      /jailcheck\.simulate failed: simulator exploded on prison_deref/);
    const hover = await client.request<{ contents: { value: string } }>('textDocument/hover',
      { textDocument: { uri }, position: positionOf(EXAMPLE, 'if (flags & PD_DEUREF) {', { after: 'Remove a prison reference.', offset: 4 }) });
    assert.match(hover.contents.value, /pr->pr_mtx held on all/);
    const errors = client.logs().filter((l) => /simulator exploded/.test(l));
    assert.ok(errors.some((l) => /command jailcheck\.simulate: simulator exploded on prison_deref\n.*at /s.test(l)), errors.join('\n---\n'));
    assert.match((await backgroundFailed).message, /simulator exploded on prison_deref\n.*at /s);
  } finally {
    await client.shutdown();
  }
});
