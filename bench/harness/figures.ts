/**
 * What a benchmark section returns: figures as plain data (so `--json`
 * prints them as they are), each a timing distribution or a single value,
 * with its unit. A section other modules add (the ledger, the simulator,
 * the language server) returns the same shape.
 */
import type { Distribution } from './stats';

export type Unit = 'ms' | 'ratio' | 'count' | 'per-second' | 'lines' | 'bytes';

export interface Figure {
  /** Stable within its section (`parse.native`); `section/id` names it across sections. */
  readonly id: string;
  readonly label: string;
  readonly unit: Unit;
  /** A timing: its runs, median and p95. */
  readonly timing?: Distribution;
  /** A single value: a ratio, a count, a one-off timing. */
  readonly value?: number;
  /** For a timing: its median divided by another figure's median measured in the same run. */
  readonly ratio?: { readonly value: number; readonly to: string };
  readonly note?: string;
}

export interface SectionResult {
  readonly id: string;
  readonly title: string;
  readonly figures: Figure[];
  /** Why the section measured nothing (no server bundle, over the time budget, …). */
  readonly skipped?: string;
  readonly notes: string[];
}

export function timingFigure(id: string, label: string, timing: Distribution, extra: Partial<Figure> = {}): Figure {
  return { id, label, unit: 'ms', timing, ...extra };
}

export function valueFigure(id: string, label: string, unit: Unit, value: number, extra: Partial<Figure> = {}): Figure {
  return { id, label, unit, value, ...extra };
}

/** `a`'s median over `b`'s, as the ratio field of `a`. */
export function withRatio(a: Figure, b: Figure | undefined, to = b?.label ?? ''): Figure {
  const num = a.timing?.median ?? a.value;
  const den = b?.timing?.median ?? b?.value;
  if (num === undefined || den === undefined || !(den > 0)) return a;
  return { ...a, ratio: { value: num / den, to } };
}
