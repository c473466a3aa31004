/**
 * Two lenses above each analysed function: "Simulate" (runs the
 * jailcheck.simulate command on it) and a summary, "4 paths · 1 finding".
 */
import type { CodeLens, Connection } from 'vscode-languageserver/node';
import type { AnalysisScheduler, AnalysedDocument } from './analysis';
import { rangeOf } from './diagnostics';
import type { Logger } from './logger';
import type { PatchReviewFeature } from './patchReview';
import { SimulateCommand } from './protocol';

export function summaryTitle(paths: number, findings: number): string {
  return `${paths} path${paths === 1 ? '' : 's'} · ${findings} finding${findings === 1 ? '' : 's'}`;
}

export function lensesOf(doc: AnalysedDocument): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const f of doc.snapshot?.functions ?? []) {
    if (!f.analysed) continue;
    const start = rangeOf(doc.document, f.range).start;
    const range = { start, end: start };
    const args: SimulateCommand.Arguments = { uri: doc.uri, function: f.name };
    lenses.push({ range, command: { title: 'Simulate', command: SimulateCommand.command, arguments: [args] } });
    // A lens with an empty command is a label: nothing to run.
    lenses.push({ range, command: { title: summaryTitle(f.paths, f.findings), command: '' } });
  }
  return lenses;
}

export class CodeLensFeature {
  constructor(connection: Connection, scheduler: AnalysisScheduler, logger: Logger, review?: PatchReviewFeature) {
    connection.onCodeLens(async (params) => {
      try {
        // A patch under review: its verdict, above the first line.
        const verdict = review?.lenses(params.textDocument.uri) ?? [];
        if (verdict.length > 0) return verdict;
        const doc = await scheduler.current(params.textDocument.uri);
        return doc ? lensesOf(doc) : null;
      } catch (err) {
        logger.error(`code lenses of ${params.textDocument.uri}`, err);
        return null;
      }
    });
  }
}
