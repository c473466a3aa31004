/**
 * Workspace trust for settings. In an untrusted workspace the extension
 * still analyses (it runs nothing from the workspace), but a workspace must
 * not widen the budgets the user chose: each answer to the server's
 * `workspace/configuration` for `jailcheck` gets the user-level (or default)
 * value of every budget setting, and the server keeps the smaller one.
 */
import * as vscode from 'vscode';
import type { ConfigurationParams } from 'vscode-languageclient/node';
import { UntrustedBaseline } from '../../server/src/lsp/protocol';

/** The budget settings as the user, not the workspace, set them. */
export function userBaseline(scopeUri: string | undefined): UntrustedBaseline.Values {
  const config = vscode.workspace.getConfiguration('jailcheck', scopeUri ? vscode.Uri.parse(scopeUri) : undefined);
  const out: Partial<Record<UntrustedBaseline.BudgetSetting, number>> = {};
  for (const key of UntrustedBaseline.budgetSettings) {
    const inspected = config.inspect<number>(key);
    const value = inspected?.globalValue ?? inspected?.defaultValue;
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/** Adds the baseline to the `jailcheck` sections of a configuration answer, when the workspace is not trusted. */
export function withTrust(params: ConfigurationParams, answer: unknown[]): unknown[] {
  if (vscode.workspace.isTrusted) return answer;
  return answer.map((value, i) => {
    const item = params.items[i];
    if (item?.section !== 'jailcheck' || typeof value !== 'object' || value === null) return value;
    return { ...value, [UntrustedBaseline.key]: userBaseline(item.scopeUri) };
  });
}
