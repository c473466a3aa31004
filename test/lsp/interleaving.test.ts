/**
 * Interleaving diagnostics: a counterexample of the simulator becomes a
 * diagnostic on the step that broke the invariant, labelled by its number of
 * preemptions, with the schedule as related information. Tested with a
 * hand-made report, the mapping alone and through the server (its simulator
 * replaced by one that returns the report).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { counterexampleDiagnostics, preemptionLabel, touchesCounters } from '../../server/src/lsp/interleaving';
import { DEFAULT_SETTINGS, readSettings } from '../../server/src/lsp/settings';
import { example, lineOf, service } from '../helpers';
import { handmadeReport } from './handmadeReport';
import { fileUri, LspClient, positionOf, PublishDiagnosticsParams, ROOT } from './lspClient';

const EXAMPLE = example();
const DOC = TextDocument.create('file:///k.c', 'c', 1, EXAMPLE);
const FUNCTION_RANGE = { start: { line: 380, character: 0 }, end: { line: 380, character: 0 } };

test('zero preemptions is labelled a logic error, more a race with their number', () => {
  assert.equal(preemptionLabel(0), 'logic error (no preemption needed)');
  assert.equal(preemptionLabel(1), 'race (1 preemption)');
  assert.equal(preemptionLabel(3), 'race (3 preemptions)');
});

test('each violated scenario becomes one diagnostic on its last step, labelled, with the schedule as related lines', () => {
  const diagnostics = counterexampleDiagnostics(handmadeReport(EXAMPLE), DOC.uri, DOC, DEFAULT_SETTINGS, FUNCTION_RANGE);
  // The `ok` scenario has no counterexample; the `incomplete` one has, but it proves no violation.
  assert.equal(diagnostics.length, 1);
  const d = diagnostics[0]!;
  assert.equal(d.code, 'interleaving-violation');
  assert.equal(d.severity, 1);
  assert.match(String(d.message), /^P\.pr_uref drops to 0 while its child B is still alive — logic error \(no preemption needed\), scenario "sibling-last-users"$/);
  assert.equal(d.range.start.line + 1, lineOf(EXAMPLE, '--tpr->pr_uref > 0'), 'on the violating step');
  const related = d.relatedInformation!;
  assert.equal(related.length, 8, 'one per step');
  assert.equal(related[0]!.message, 'T1 step 1: mtx_lock(&pr->pr_mtx) → locks: A.pr_mtx (T1); A.pr_uref=1, P.pr_uref=2');
  assert.equal(related[3]!.message, 'T1 step 4: mtx_lock(&tpr->pr_mtx) (tpr = P) → locks: P.pr_mtx (T1); A.pr_uref=0, P.pr_uref=2');
  assert.equal(related[7]!.message, 'T2 step 8: --tpr->pr_uref > 0 is false (tpr = P) → locks: P.pr_mtx (T2); A.pr_uref=0, B.pr_uref=0, P.pr_uref=0');
  assert.equal(related[2]!.location.range.start.line + 1, lineOf(EXAMPLE, 'mtx_unlock(&tpr->pr_mtx);', { after: 'Remove a prison reference.' }));
});

test('a race keeps its own label and an empty schedule falls back to the function', () => {
  const report = handmadeReport(EXAMPLE);
  const race = { ...report.scenarios[2]!, verdict: 'violation' as const, counterexample: { ...report.scenarios[2]!.counterexample!, label: '', steps: [] } };
  const [d] = counterexampleDiagnostics({ ...report, scenarios: [race] }, DOC.uri, DOC, DEFAULT_SETTINGS, FUNCTION_RANGE);
  assert.match(String(d!.message), /race \(2 preemptions\)/);
  assert.deepEqual(d!.range, FUNCTION_RANGE);
});

test('the interleaving rule follows the severity setting, off included', () => {
  const warn = readSettings({ severity: { 'interleaving-violation': 'warning' } });
  assert.equal(counterexampleDiagnostics(handmadeReport(EXAMPLE), DOC.uri, DOC, warn, FUNCTION_RANGE)[0]!.severity, 2);
  const off = readSettings({ severity: { 'interleaving-violation': 'off' } });
  assert.deepEqual(counterexampleDiagnostics(handmadeReport(EXAMPLE), DOC.uri, DOC, off, FUNCTION_RANGE), []);
});

test('only functions that change a configured counter are simulated in the background', () => {
  const ir = service().analyse(EXAMPLE).ir;
  const simulated = ir.functions.filter((f) => touchesCounters(f, ['pr_ref', 'pr_uref'])).map((f) => f.name);
  assert.ok(simulated.includes('prison_deref'));
  assert.ok(simulated.includes('prison_proc_hold'));
  assert.ok(!simulated.includes('prison_find'), simulated.join(', '));
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
    assert.equal(d.relatedInformation!.length, 8);

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
    assert.ok(errors.some((l) => /background simulation of .* failed/.test(l)), errors.join('\n---\n'));
  } finally {
    await client.shutdown();
  }
});
