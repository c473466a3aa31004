/**
 * package.json's contributions agree with the server: the settings VS Code
 * shows have the defaults the server uses when a client sends none, every
 * rule can be given a severity, and the trust baseline names real settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/settings';
import { UntrustedBaseline } from '../../server/src/lsp/protocol';
import { RULES } from '../../simulator/src/findings';
import { ROOT } from '../helpers';

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  engines: { vscode: string };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    configuration: { properties: Record<string, { default: unknown; scope?: string; properties?: Record<string, unknown> }> };
  };
};
const properties = manifest.contributes.configuration.properties;

function serverDefault(key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULT_SETTINGS);
}

test('every analysis setting VS Code shows defaults to the value the server uses without it', () => {
  for (const [name, p] of Object.entries(properties)) {
    const key = name.replace(/^jailcheck\./, '');
    if (key === 'trace.server') continue;
    assert.deepEqual(p.default, serverDefault(key), name);
  }
});

test('analysis settings are resource-scoped, so each folder can have its own', () => {
  for (const [name, p] of Object.entries(properties)) {
    if (/^jailcheck\.(vocabulary|bounds\.|simulator\.|severity)/.test(name)) assert.equal(p.scope, 'resource', name);
  }
});

test('jailcheck.severity lists every rule', () => {
  assert.deepEqual(Object.keys(properties['jailcheck.severity']!.properties!).sort(), Object.keys(RULES).sort());
});

test('the budgets an untrusted workspace cannot widen are real settings', () => {
  for (const key of UntrustedBaseline.budgetSettings) assert.ok(properties[`jailcheck.${key}`], key);
});

test('the extension starts from the client bundle on C files and patches, on VS Code 1.91 or later, with its commands in the Jailcheck category', () => {
  assert.equal(manifest.main, './dist/client.js');
  assert.deepEqual(manifest.activationEvents, ['onLanguage:c', 'onLanguage:diff']);
  assert.equal(manifest.engines.vscode, '^1.91.0');
  const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
  for (const t of ['Jailcheck: Simulate This Function', 'Jailcheck: Show Lock State at Cursor', 'Jailcheck: Restart Server', 'Jailcheck: Review Patch…']) {
    assert.ok(titles.includes(t), t);
  }
});
