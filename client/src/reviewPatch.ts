/**
 * "Review Patch…": the hook for the patch reviewer (its own issue). When the
 * server offers jailcheck.reviewPatch, this asks for a patch file and hands
 * it over with the C document in the active editor; the reviewer's work
 * decides the arguments' final shape and how the verdict is shown (here, for
 * now, in the output channel). Until then the command says plainly that
 * patch review is not available yet.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import { ReviewPatchCommand } from '../../server/src/lsp/protocol';
import type { JailcheckContext } from './context';

export async function reviewPatch(ctx: JailcheckContext): Promise<void> {
  const client = ctx.running;
  if (!client || !ctx.hasServerCommand(ReviewPatchCommand.command)) {
    void vscode.window.showInformationMessage('jailcheck: patch review is not available yet — this version of the jailcheck server does not offer it.');
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Review Patch', canSelectMany: false, openLabel: 'Review',
    filters: { 'Patches and mails': ['patch', 'diff', 'eml', 'txt'], 'All files': ['*'] },
  });
  if (!picked?.[0]) return;
  const active = vscode.window.activeTextEditor?.document;
  const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
    command: ReviewPatchCommand.command,
    arguments: [{ patchUri: picked[0].toString(), ...(active?.languageId === 'c' ? { documentUri: active.uri.toString() } : {}) }],
  });
  ctx.log.info(`patch review of ${picked[0].fsPath}:\n${JSON.stringify(result, null, 2)}`);
  ctx.log.show(true);
}
