/**
 * Moves every source range in a piece of plain data (IR, findings) by a
 * number of characters: when an edit earlier in the file moves a function
 * that did not itself change, its cached results are moved, not recomputed.
 */
import type { SourceRange } from './ir';

function isRange(x: unknown): x is SourceRange {
  if (typeof x !== 'object' || x === null) return false;
  const keys = Object.keys(x);
  return keys.length === 2 && typeof (x as SourceRange).start === 'number' && typeof (x as SourceRange).end === 'number';
}

export function shiftRanges<T>(value: T, delta: number): T {
  if (delta === 0) return value;
  const visit = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(visit);
    if (isRange(x)) return { start: x.start + delta, end: x.end + delta };
    if (typeof x === 'object' && x !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) out[k] = visit(v);
      return out;
    }
    return x;
  };
  return visit(value) as T;
}
