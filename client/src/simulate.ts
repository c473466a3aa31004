/**
 * Runs jailcheck.simulate on the server with a cancellable progress
 * notification, and shows the report. Cancelling cancels the request; the
 * server stops the simulator between executions.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, WorkDoneProgress } from 'vscode-languageclient/node';
import { SimulateCommand } from '../../server/src/lsp/protocol';
import type { JailcheckContext } from './context';

let tokens = 0;

export async function simulate(ctx: JailcheckContext, args: SimulateCommand.Arguments): Promise<SimulateCommand.Result | undefined> {
  const client = ctx.running;
  if (!client) {
    void vscode.window.showWarningMessage(`jailcheck cannot simulate: the language server is not running (${ctx.whyDown}).`);
    return undefined;
  }
  const what = args.function ? `${args.function}()` : 'the function under the cursor';
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `jailcheck: simulating ${what}`, cancellable: true },
    async (progress, token) => {
      const workDoneToken = `jailcheck-simulate-${process.pid}-${++tokens}`;
      const listening = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
        if (value.kind !== 'end' && value.message) progress.report({ message: value.message });
      });
      try {
        const result = await client.sendRequest(ExecuteCommandRequest.type,
          { command: SimulateCommand.command, arguments: [args], workDoneToken }, token) as SimulateCommand.Result;
        ctx.log.info(`simulated ${result.function}(): ${result.report.scenarios.length} scenario(s) in ${Math.round(result.report.elapsedMs)} ms`);
        ctx.reports.show(result);
        return result;
      } catch (err) {
        if (token.isCancellationRequested) {
          ctx.log.info(`simulation of ${what} cancelled`);
          return undefined;
        }
        const message = err instanceof Error ? err.message : String(err);
        ctx.log.warn(`simulation of ${what} failed: ${message}`);
        void vscode.window.showErrorMessage(`jailcheck: ${message}`);
        return undefined;
      } finally {
        listening.dispose();
      }
    });
}
