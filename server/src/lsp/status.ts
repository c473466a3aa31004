/**
 * Tells the client what the server is doing (jailcheck/status): busy with an
 * analysis or a simulation, the last analysis's time and whether it reached
 * a budget, and which tree-sitter binding parses. VS Code shows it in the
 * status bar; the parser choice also goes to the log once, with the reason
 * when the native binding did not load.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { CParser } from '../parsing/parser';
import { StatusNotification } from './protocol';
import type { AnalysedDocument } from './analysis';
import type { Logger } from './logger';

export class StatusReporter {
  private last?: StatusNotification.LastAnalysis;
  private readonly parser: StatusNotification.Params['parser'];
  private running = 0;
  private error?: string;

  constructor(private readonly connection: Connection, parser: Pick<CParser, 'backend' | 'fallbackReason'>, logger: Logger) {
    this.parser = { backend: parser.backend, ...(parser.fallbackReason ? { fallbackReason: parser.fallbackReason } : {}) };
    logger.info(parser.backend === 'native'
      ? 'parser: native tree-sitter'
      : `parser: WebAssembly tree-sitter (web-tree-sitter)${parser.fallbackReason ? `, because ${parser.fallbackReason}` : ''}`);
  }

  /** Work starts; the returned function says it ended (and sends the new state). */
  begin(activity: 'analysis' | 'simulation', uri: string): () => void {
    this.running++;
    this.send({ state: 'busy', activity, uri });
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running--;
      this.report();
    };
  }

  /** Records an analysis (sent with the next state). */
  analysed(doc: AnalysedDocument): void {
    const findings = doc.snapshot?.findings ?? [];
    this.error = doc.skipped;
    this.last = {
      uri: doc.uri,
      version: doc.version,
      durationMs: Math.round(doc.durationMs * 10) / 10,
      finishedAt: new Date().toISOString(),
      functions: doc.snapshot?.functions.length ?? 0,
      reanalysed: doc.snapshot?.reanalysed ?? 0,
      complete: doc.complete,
      problems: findings.filter((f) => f.severity !== 'information').length,
      budgets: findings.filter((f) => f.rule === 'analysis-incomplete').map((f) => f.message),
    };
  }

  /** Sends the current state. */
  report(): void {
    this.send({ state: this.running > 0 ? 'busy' : 'idle' });
  }

  private send(p: Pick<StatusNotification.Params, 'state' | 'activity' | 'uri'>): void {
    const params: StatusNotification.Params = {
      ...p, parser: this.parser, ...(this.last ? { lastAnalysis: this.last } : {}), ...(this.error ? { error: this.error } : {}),
    };
    void this.connection.sendNotification(StatusNotification.method, params);
  }
}
