/**
 * The simulation report webview: one panel, reused, showing the last
 * simulation (renderReport draws it). A click on a step reveals its source
 * line; the page's messages are checked before use.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { SimulateCommand } from '../../server/src/lsp/protocol';
import { LineRange, parseMessage, renderReport, ReportView } from './reportHtml';

export const REPORT_VIEW_TYPE = 'jailcheck.simulationReport';

function toRange(r: LineRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export class ReportPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private shown?: { result: SimulateCommand.Result; view: ReportView };
  private readonly disposables: vscode.Disposable[] = [];

  show(result: SimulateCommand.Result): void {
    const uri = vscode.Uri.parse(result.uri);
    const view: ReportView = {
      fileName: uri.path.slice(uri.path.lastIndexOf('/') + 1),
      report: result.report,
      functionLine: result.functionRange.start.line,
      stepRanges: result.stepRanges,
    };
    this.shown = { result, view };
    const title = `Simulation: ${result.function}()`;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
        enableScripts: true,
        enableCommandUris: false,
        localResourceRoots: [],
      });
      this.panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.disposables);
      this.panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m), undefined, this.disposables);
    } else {
      this.panel.reveal(undefined, false);
    }
    this.panel.title = title;
    this.panel.webview.html = renderReport(view, randomBytes(16).toString('hex'));
  }

  private async onMessage(raw: unknown): Promise<void> {
    if (!this.shown) return;
    const m = parseMessage(raw, this.shown.view);
    if (!m) return;
    const range = m.type === 'reveal' ? this.shown.view.stepRanges[m.scenario]![m.step]! : this.shown.result.functionRange;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(this.shown.result.uri));
    const r = toRange(range);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Selection(r.start, r.end) });
    editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
