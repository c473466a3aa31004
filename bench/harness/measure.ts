/**
 * Repeated timing with warm-up runs discarded and a time budget: a run that
 * takes seconds is repeated fewer times than one that takes milliseconds,
 * and the number of runs is reported with the figures.
 */
import { Distribution, distribution } from './stats';

export interface MeasureOptions {
  /** Runs made first and discarded (JIT compilation, caches). */
  readonly warmup: number;
  /** Measured runs made even when the budget is spent. */
  readonly minRuns: number;
  readonly maxRuns: number;
  /** Once minRuns are done, no run starts that would end after this much time (warm-up included). */
  readonly budgetMs: number;
  /**
   * Warms up on something cheaper than the measured run (the same code on a
   * smaller input), for runs too long to repeat just to warm up.
   */
  readonly warmupWith?: () => unknown;
}

/** Calls `fn` and returns how long it took, in milliseconds. */
export function timed(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Measures `run`, which returns the milliseconds of the part it times (so
 * set-up that must not count can happen inside it, outside its clock). The
 * process's CPU time is taken around the whole call, set-up included.
 */
export function measure(run: () => number, o: MeasureOptions): Distribution {
  const start = performance.now();
  let warm = 0;
  for (; warm < o.warmup; warm++) {
    if (o.warmupWith) o.warmupWith();
    else run();
    // Warming up must not eat the budget of the measured runs.
    if (performance.now() - start > o.budgetMs / 4) {
      warm++;
      break;
    }
  }
  const samples: number[] = [];
  const cpu: number[] = [];
  while (samples.length < o.maxRuns && !spent(samples, o, start)) {
    const c0 = process.cpuUsage();
    samples.push(run());
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return distribution(samples, warm, cpu);
}

/** Whether another run would overrun the budget (judged by the longest run so far), once minRuns are done. */
function spent(samples: readonly number[], o: MeasureOptions, start: number): boolean {
  if (samples.length < o.minRuns) return false;
  const longest = samples.reduce((a, b) => Math.max(a, b), 0);
  return performance.now() - start + longest > o.budgetMs;
}

/** Like measure(), for a run that waits (on another process: its CPU time is not this process's, so none is taken). */
export async function measureAsync(run: () => Promise<number>, o: MeasureOptions): Promise<Distribution> {
  const start = performance.now();
  let warm = 0;
  for (; warm < o.warmup; warm++) {
    if (o.warmupWith) await o.warmupWith();
    else await run();
    if (performance.now() - start > o.budgetMs / 4) {
      warm++;
      break;
    }
  }
  const samples: number[] = [];
  while (samples.length < o.maxRuns && !spent(samples, o, start)) samples.push(await run());
  return distribution(samples, warm);
}
