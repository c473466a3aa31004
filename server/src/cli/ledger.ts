/** `jailcheck ledger FILE`: the reference ledger of a file, as a table or JSON (docs/ledger.md). */
import type { Command } from 'commander';
import type { LedgerRow } from '../../../simulator/src/ledger/index';
import { AnalysisService } from '../analysisService';
import { InputError } from '../input';
import { LineIndex } from '../lineIndex';
import type { ParserPreference } from '../parsing/parser';
import { readSource } from '../input';
import { formatText } from './formatText';
import { toReport } from './report';

export interface LedgerReportRow {
  readonly line: number;
  readonly column: number;
  readonly function: string;
  readonly counter: string;
  readonly target: string;
  readonly change: LedgerRow['direction'];
  /** `self`, `parent`, `ancestor N` or `ancestors`. */
  readonly whose: string;
  readonly transition: LedgerRow['transition'];
  readonly event: LedgerRow['event'];
  readonly cause: LedgerRow['cause'];
  readonly condition: string;
  readonly via?: string;
}

export function whoseWords(r: LedgerRow): string {
  if (r.whose.kind === 'self') return 'self';
  if (r.whose.level === 1) return 'parent';
  return r.whose.level === 'any' ? 'ancestors' : `ancestor ${r.whose.level}`;
}

const TRANSITION = { rise: '0→1', fall: '1→0', none: '—' } as const;

export function ledgerRows(text: string, rows: readonly LedgerRow[]): LedgerReportRow[] {
  const index = new LineIndex(text);
  return rows.map((r) => {
    const p = index.position(r.range.start);
    return {
      line: p.line, column: p.column, function: r.function, counter: r.counter, target: r.target, change: r.direction,
      whose: whoseWords(r), transition: r.transition, event: r.event, cause: r.cause, condition: r.condition,
      ...(r.via ? { via: r.via } : {}),
    };
  });
}

function table(rows: readonly LedgerReportRow[]): string {
  const header = ['line', 'function', 'counter', 'change', 'whose', 'transition', 'event', 'why', 'when'];
  const body = rows.map((r) => [
    String(r.line), `${r.function}()`, r.target + (r.via ? ` (via ${r.via}())` : ''), r.change, r.whose,
    TRANSITION[r.transition], r.event, r.whose === 'self' && r.cause === 'unconditional' ? '-' : r.cause, r.condition || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => [...b[i]!].length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}

export function registerLedger(program: Command): void {
  program
    .command('ledger')
    .description('print the reference ledger: every counter change, whose counter, which transition, in what event')
    .argument('<file>', 'C file')
    .option('-f, --format <format>', 'text or json', 'text')
    .option('--counter <name>', 'only this counter (pr_ref, pr_uref, …)')
    .option('--parser <backend>', 'tree-sitter binding: auto, native or wasm', 'auto')
    .action(async (file: string, opts: { format: string; counter?: string; parser: string }) => {
      if (!['text', 'json'].includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text or json)`);
      const text = readSource(file);
      const service = await AnalysisService.create(opts.parser as ParserPreference);
      const analysed = service.analyse(text);
      const rows = ledgerRows(text, analysed.ledger.rows.filter((r) => !opts.counter || r.counter === opts.counter));
      const index = new LineIndex(text);
      const findings = analysed.ledger.findings.map((f) => toReport(file, index, f));
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify({ version: 1, file, rows, findings }, null, 2)}\n`);
      } else {
        process.stdout.write(`${table(rows)}\n`);
        if (findings.length) process.stdout.write(`\n${formatText(findings)}\n`);
        process.stdout.write(`\njailcheck ledger: ${rows.length} change${rows.length === 1 ? '' : 's'}, ${findings.length} asymmetr${findings.length === 1 ? 'y' : 'ies'}\n`);
      }
      process.exitCode = findings.length ? 1 : 0;
    });
}
