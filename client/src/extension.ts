/**
 * Entry point of the VS Code extension: everything lives in the context,
 * which owns the language client and every subscription.
 */
import type * as vscode from 'vscode';
import { JailcheckContext } from './context';

let context: JailcheckContext | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<void> {
  context = await JailcheckContext.create(extension);
}

export async function deactivate(): Promise<void> {
  await context?.dispose();
  context = undefined;
}
