/**
 * Compiler-style text: `file:line:col: severity: message [rule]`, then the
 * path as `note:` lines, so editors and `grep` understand it.
 */
import type { ReportFinding } from './report';

export function formatText(findings: readonly ReportFinding[], options: { readonly steps?: boolean } = {}): string {
  const lines: string[] = [];
  for (const f of findings) {
    const where = `${f.file}:${f.start.line}:${f.start.column}`;
    const sev = f.severity === 'information' ? 'note' : f.severity;
    lines.push(`${where}: ${sev}: ${f.message} [${f.rule}]${f.function ? ` in ${f.function}()` : ''}`);
    if (options.steps !== false) {
      for (const s of f.steps) {
        const locks = s.locks && s.locks.length ? `  [held: ${s.locks.join(', ')}]` : s.locks ? '  [held: nothing]' : '';
        // A schedule step's message already starts with its thread ("thread 2: …"),
        // because editors show only the message; do not name the thread twice.
        lines.push(`${s.file}:${s.start.line}:${s.start.column}: note: ${s.message}${locks}`);
      }
      for (const r of f.related) lines.push(`${r.file}:${r.start.line}:${r.start.column}: note: ${r.message}`);
    }
  }
  return lines.join('\n');
}

export function summaryLine(findings: readonly ReportFinding[], files: number): string {
  const count = (s: string): number => findings.filter((f) => f.severity === s).length;
  const parts = [`${count('error')} error${count('error') === 1 ? '' : 's'}`, `${count('warning')} warning${count('warning') === 1 ? '' : 's'}`, `${count('information')} note${count('information') === 1 ? '' : 's'}`];
  return `jailcheck: ${parts.join(', ')} in ${files} file${files === 1 ? '' : 's'}`;
}
