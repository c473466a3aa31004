/** Order statistics of timing samples. */

export interface Distribution {
  /** Measured runs (warm-up runs are not among them). */
  readonly runs: number;
  /** Warm-up runs made and discarded before the measured ones. */
  readonly warmup: number;
  readonly median: number;
  /** Nearest-rank 95th percentile; with fewer than 20 runs it is the largest or next-largest sample. */
  readonly p95: number;
  readonly min: number;
  readonly max: number;
  /**
   * Median CPU time of this process over the same runs, when measured: on a
   * busy machine the wall time grows with other processes' load, the CPU
   * time much less.
   */
  readonly cpuMedian?: number;
}

/** The value at nearest rank `q` (0 < q ≤ 1) of sorted samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function distribution(samples: readonly number[], warmup: number, cpu?: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: sorted.length, warmup, median: median(sorted), p95: quantile(sorted, 0.95),
    min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN,
    ...(cpu && cpu.length > 0 ? { cpuMedian: median([...cpu].sort((a, b) => a - b)) } : {}),
  };
}
