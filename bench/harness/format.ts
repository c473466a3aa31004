/** The benchmark's figures as a table with units, for a terminal. */
import type { Figure, SectionResult, Unit } from './figures';

export function formatNumber(x: number, unit: Unit): string {
  if (!Number.isFinite(x)) return '–';
  switch (unit) {
    case 'ms':
      if (x >= 10_000) return `${(x / 1000).toFixed(1)} s`;
      return `${x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ms`;
    case 'ratio':
      return `${x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
    case 'per-second':
      return `${Math.round(x).toLocaleString('en-US')} /s`;
    case 'bytes':
      return x >= 10_000 ? `${(x / 1024).toFixed(0)} KB` : `${x} B`;
    default:
      return Math.round(x).toLocaleString('en-US');
  }
}

function row(f: Figure): string[] {
  const main = f.timing ? formatNumber(f.timing.median, f.unit) : f.value !== undefined ? formatNumber(f.value, f.unit) : '–';
  const p95 = f.timing && f.timing.runs > 1 ? formatNumber(f.timing.p95, f.unit) : '';
  const runs = f.timing ? `${f.timing.runs}${f.timing.warmup ? ` (+${f.timing.warmup})` : ''}` : '';
  const ratio = f.ratio ? `${formatNumber(f.ratio.value, 'ratio')} ${f.ratio.to}` : '';
  const cpu = f.timing?.cpuMedian !== undefined ? formatNumber(f.timing.cpuMedian, 'ms') : '';
  return [f.label, main, p95, runs, cpu, ratio];
}

const HEAD = ['', 'median', 'p95', 'runs (+warm-up)', 'CPU median', 'relative to'];

export function formatTable(sections: readonly SectionResult[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push('', s.title);
    if (s.skipped) {
      out.push(`  skipped: ${s.skipped}`);
      continue;
    }
    const rows = [HEAD, ...s.figures.map(row)];
    const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) {
      const cells = r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)));
      out.push(`  ${cells.join('  ').trimEnd()}`);
    }
    for (const f of s.figures) if (f.note) out.push(`  · ${f.label}: ${f.note}`);
    for (const n of s.notes) out.push(`  · ${n}`);
  }
  return out.join('\n');
}
