/**
 * "Review Patch…": asks for a patch file (a .diff, a .patch, or a mail that
 * quotes one), has the server review it against the file the patch names
 * in the workspace (or, when that is nowhere, the C file in the active
 * editor), and opens the patch beside it: the verdict is on the patch's lines as
 * diagnostics — introduced findings on the `+` lines, fixed ones as
 * information, the summary on the first line — and in a message.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import { ReviewPatchCommand } from '../../server/src/lsp/protocol';
import type { JailcheckContext } from './context';

export async function reviewPatch(ctx: JailcheckContext): Promise<void> {
  const client = ctx.running;
  if (!client || !ctx.hasServerCommand(ReviewPatchCommand.command)) {
    void vscode.window.showWarningMessage('jailcheck: the server is not running, so the patch cannot be reviewed (Jailcheck: Restart Server, or see Jailcheck: Show Output).');
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Review Patch', canSelectMany: false, openLabel: 'Review',
    filters: { 'Patches and mails': ['patch', 'diff', 'eml', 'txt'], 'All files': ['*'] },
  });
  if (!picked?.[0]) return;
  const active = vscode.window.activeTextEditor?.document;
  const args: ReviewPatchCommand.Arguments = {
    patchUri: picked[0].toString(), ...(active?.languageId === 'c' ? { baseUri: active.uri.toString() } : {}),
  };
  const verdict = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'jailcheck: reviewing the patch…' },
    () => client.sendRequest(ExecuteCommandRequest.type, { command: ReviewPatchCommand.command, arguments: [args] }) as Promise<ReviewPatchCommand.Result>,
  );
  ctx.log.info(`patch review of ${picked[0].fsPath}: ${verdict.summary}`);
  // Opened as a diff document, the patch is reviewed by the server like any open patch, against
  // the same base, again after each edit, and its diagnostics go when it is closed. A saved mail
  // (.eml, .txt) is shown as a diff for that.
  const editor = await vscode.window.showTextDocument(picked[0], { viewColumn: vscode.ViewColumn.Beside, preview: false });
  if (editor.document.languageId !== 'diff') await vscode.languages.setTextDocumentLanguage(editor.document, 'diff');
  if (verdict.error) void vscode.window.showWarningMessage(`jailcheck: ${verdict.summary}`);
  else void vscode.window.showInformationMessage(`jailcheck: the patch ${verdict.summary}`);
}
