/**
 * Findings as the outside world sees them: file, 1-based lines and columns.
 * This shape is what `jailcheck check --format json` prints and what the
 * patch reviewer compares; docs/json-output.md describes it and it is kept
 * stable.
 */
import type { Finding, RuleId, Severity } from '../../../simulator/src/findings';
import type { SourceRange } from '../../../simulator/src/ir';
import { LineIndex } from '../lineIndex';

export interface ReportPosition {
  readonly line: number;
  readonly column: number;
}

export interface ReportLocation {
  readonly file: string;
  readonly start: ReportPosition;
  readonly end: ReportPosition;
}

export interface ReportStep extends ReportLocation {
  readonly message: string;
  readonly locks?: readonly string[];
  readonly thread?: number;
}

export interface ReportFinding extends ReportLocation {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly message: string;
  readonly function: string;
  readonly steps: readonly ReportStep[];
  readonly related: ReadonlyArray<ReportLocation & { readonly message: string }>;
  readonly preemptions?: number;
}

export function locate(file: string, index: LineIndex, r: SourceRange): ReportLocation {
  return { file, start: index.position(r.start), end: index.position(r.end) };
}

export function toReport(file: string, index: LineIndex, f: Finding): ReportFinding {
  return {
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    function: f.function,
    ...locate(file, index, f.range),
    steps: f.steps.map((s) => ({ ...locate(file, index, s.range), message: s.message, ...(s.locks ? { locks: s.locks } : {}), ...(s.thread !== undefined ? { thread: s.thread } : {}) })),
    related: f.related.map((r) => ({ ...locate(file, index, r.range), message: r.message })),
    ...(f.preemptions !== undefined ? { preemptions: f.preemptions } : {}),
  };
}
