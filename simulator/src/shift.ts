/**
 * Moves the source ranges in a piece of plain data (IR, findings, ledger
 * rows) to where the same code stands in another version of the file: a
 * function that did not change, or changed only in its spacing, keeps its
 * results, moved instead of recomputed.
 */
import type { FunctionIR, SourceRange } from './ir';

function isRange(x: unknown): x is SourceRange {
  if (typeof x !== 'object' || x === null) return false;
  const keys = Object.keys(x);
  return keys.length === 2 && typeof (x as SourceRange).start === 'number' && typeof (x as SourceRange).end === 'number';
}

/** A copy of `value` with every range's offsets passed through `f`. */
export function remapRanges<T>(value: T, f: (offset: number) => number): T {
  const visit = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(visit);
    if (isRange(x)) return { start: f(x.start), end: f(x.end) };
    if (typeof x === 'object' && x !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) out[k] = visit(v);
      return out;
    }
    return x;
  };
  return visit(value) as T;
}

export function shiftRanges<T>(value: T, delta: number): T {
  return delta === 0 ? value : remapRanges(value, (o) => o + delta);
}

/**
 * How offsets of `from` correspond to offsets of `to`, two IRs of the same
 * shape (equal but for their ranges): every range endpoint of one is paired
 * with the same endpoint of the other, walking both together. An offset
 * that is no endpoint (none should be asked for) moves with the nearest
 * endpoint before it.
 */
export function offsetMap(from: FunctionIR, to: FunctionIR): (offset: number) => number {
  const pairs = new Map<number, number>();
  const walk = (a: unknown, b: unknown): void => {
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < a.length && i < b.length; i++) walk(a[i], b[i]);
      return;
    }
    if (isRange(a) && isRange(b)) {
      pairs.set(a.start, b.start);
      pairs.set(a.end, b.end);
      return;
    }
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      for (const [k, v] of Object.entries(a)) walk(v, (b as Record<string, unknown>)[k]);
    }
  };
  walk(from, to);
  const sorted = [...pairs.keys()].sort((x, y) => x - y);
  return (offset) => {
    const exact = pairs.get(offset);
    if (exact !== undefined) return exact;
    let lo = 0;
    let hi = sorted.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= offset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return offset + (to.range.start - from.range.start);
    const base = sorted[best]!;
    return pairs.get(base)! + (offset - base);
  };
}
