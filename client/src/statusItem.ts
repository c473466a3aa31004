/**
 * The jailcheck status bar item, fed by the server's jailcheck/status
 * notifications: a spinner while an analysis or a simulation runs, the time
 * of the last analysis, the warning colour when it reached a budget, the
 * error colour when the server is down, and a tooltip that says which
 * tree-sitter binding parses (and why, when it is the WebAssembly fallback).
 */
import * as vscode from 'vscode';
import type { StatusNotification } from '../../server/src/lsp/protocol';

const ACTIONS = ['jailcheck.showOutput', 'jailcheck.restartServer'];

function basename(uri: string): string {
  return decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1));
}

function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('jailcheck.status', vscode.StatusBarAlignment.Right, 100);
  /** The last status the server sent, for the tooltip. */
  private last?: StatusNotification.Params;

  constructor() {
    this.item.name = 'jailcheck';
    this.item.command = 'jailcheck.showOutput';
    this.starting();
    this.item.show();
  }

  starting(): void {
    this.item.text = '$(loading~spin) jailcheck';
    this.item.backgroundColor = undefined;
    this.item.tooltip = this.tooltip('Starting the language server…');
  }

  stopped(reason: string): void {
    this.item.text = '$(error) jailcheck';
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    this.item.tooltip = this.tooltip(`The language server is not running: ${reason}`);
  }

  update(p: StatusNotification.Params): void {
    this.last = p;
    const a = p.lastAnalysis;
    const budget = (a?.budgets.length ?? 0) > 0;
    if (p.state === 'busy') {
      this.item.text = p.activity === 'simulation' ? '$(loading~spin) jailcheck: simulating' : '$(loading~spin) jailcheck';
    } else if (p.error) {
      this.item.text = '$(error) jailcheck';
    } else if (budget) {
      this.item.text = '$(warning) jailcheck: budget reached';
    } else {
      this.item.text = a ? `$(check) jailcheck ${Math.round(a.durationMs)} ms` : '$(check) jailcheck';
    }
    this.item.backgroundColor = p.error ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : budget ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const lines: string[] = [];
    if (p.state === 'busy') lines.push(p.activity === 'simulation' ? `Simulating ${p.uri ? basename(p.uri) : ''}…` : `Analysing ${p.uri ? basename(p.uri) : ''}…`);
    if (a) {
      lines.push(`Last analysis: ${basename(a.uri)} (version ${a.version}) in ${a.durationMs} ms at ${clock(a.finishedAt)}; `
        + `${a.functions} functions, ${a.reanalysed} re-analysed, ${a.problems} finding${a.problems === 1 ? '' : 's'}.`);
    }
    if (budget) lines.push(`Budget reached: ${a!.budgets.join(' ')}`);
    if (p.error) lines.push(`Error: ${p.error}`);
    this.item.tooltip = this.tooltip(lines.join('\n\n'));
  }

  private tooltip(body: string): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ACTIONS };
    md.appendMarkdown('**jailcheck**\n\n');
    md.appendText(body);
    if (this.last) {
      const parser = this.last.parser.backend === 'native'
        ? 'Parser: native tree-sitter.'
        : `Parser: WebAssembly tree-sitter${this.last.parser.fallbackReason ? ` (${this.last.parser.fallbackReason})` : ''}.`;
      md.appendMarkdown('\n\n');
      md.appendText(parser);
    }
    md.appendMarkdown('\n\n[Show Output](command:jailcheck.showOutput) · [Restart Server](command:jailcheck.restartServer)');
    return md;
  }

  dispose(): void {
    this.item.dispose();
  }
}
