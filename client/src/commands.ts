/**
 * The extension's commands, as a table. A command that needs the language
 * server says why it cannot run when the server is down, instead of failing
 * silently. Titles and the "Jailcheck" category are in package.json.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import { LockStateAtCommand } from '../../server/src/lsp/protocol';
import type { JailcheckContext } from './context';
import { reviewPatch } from './reviewPatch';
import { simulate } from './simulate';

interface CommandSpec {
  readonly id: string;
  /** As in package.json, for messages. */
  readonly title: string;
  readonly needsServer: boolean;
  readonly run: (ctx: JailcheckContext) => unknown;
}

/** The active editor when it shows a C file, else a message saying what to do. */
function cEditor(title: string): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'c') return editor;
  void vscode.window.showInformationMessage(`jailcheck: ${title} works on a C file: open one and put the cursor inside a function.`);
  return undefined;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    id: 'jailcheck.simulateFunction',
    title: 'Simulate This Function',
    needsServer: true,
    run: (ctx) => {
      const editor = cEditor('Simulate This Function');
      if (!editor) return undefined;
      const p = editor.selection.active;
      return simulate(ctx, { uri: editor.document.uri.toString(), position: { line: p.line, character: p.character } });
    },
  },
  {
    id: 'jailcheck.showLockState',
    title: 'Show Lock State at Cursor',
    needsServer: true,
    run: async (ctx) => {
      const editor = cEditor('Show Lock State at Cursor');
      if (!editor) return;
      const p = editor.selection.active;
      const args: LockStateAtCommand.Arguments = { uri: editor.document.uri.toString(), position: { line: p.line, character: p.character } };
      const state = await ctx.running!.sendRequest(ExecuteCommandRequest.type, { command: LockStateAtCommand.command, arguments: [args] }) as LockStateAtCommand.Result;
      if (!state) {
        void vscode.window.showInformationMessage(`jailcheck: line ${p.line + 1} is not inside an analysed function.`);
        return;
      }
      void vscode.window.showInformationMessage(`${state.function}(), before line ${state.range.start.line + 1}: ${state.summary}`);
    },
  },
  { id: 'jailcheck.restartServer', title: 'Restart Server', needsServer: false, run: (ctx) => ctx.restart() },
  { id: 'jailcheck.reviewPatchFile', title: 'Review Patch…', needsServer: false, run: (ctx) => reviewPatch(ctx) },
  { id: 'jailcheck.showOutput', title: 'Show Output', needsServer: false, run: (ctx) => ctx.log.show(true) },
];

export function registerCommands(ctx: JailcheckContext): void {
  for (const spec of COMMANDS) {
    ctx.register(vscode.commands.registerCommand(spec.id, async () => {
      if (spec.needsServer && !ctx.running) {
        const choice = await vscode.window.showWarningMessage(
          `jailcheck: ${spec.title} needs the language server, which is not running: ${ctx.whyDown}.`, 'Restart Server', 'Show Output');
        if (choice === 'Restart Server') await ctx.restart();
        else if (choice === 'Show Output') ctx.log.show(true);
        return undefined;
      }
      try {
        return await spec.run(ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.log.error(`${spec.title}: ${message}`);
        void vscode.window.showErrorMessage(`jailcheck: ${spec.title} failed: ${message}`);
        return undefined;
      }
    }));
  }
}
