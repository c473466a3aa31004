/**
 * The simulator's entry point: for a function of a file, the scenarios to
 * run (built in, or the user's), each explored with increasing preemption
 * bounds until a violation shows up, every interleaving has been seen, or
 * the bound is reached; then, if time is left, every interleaving with
 * sleep-set reduction. A violation comes back as the schedule that shows
 * it, replayed step by step.
 */
import type { CallEnv } from '../analysis/summaries';
import type { JailcheckConfig } from '../config';
import type { FileIR } from '../ir';
import type { LedgerRow } from '../ledger/records';
import { explore, ExploreOptions, FoundViolation, runOne } from './explore';
import { planCall } from './harness';
import { InvariantId, Machine, Violation } from './machine';
import type { ThreadSpec } from './plan';
import { Program } from './program';
import type { Counterexample, ScenarioResult, SimulationReport, Verdict, ViolationAt } from './report';
import { builtinScenarios, ScenarioSpec } from './scenarios';
import { BuiltWorld, buildWorld, Entries, findEntries } from './worlds';

declare const performance: { now(): number };

export interface SimulateOptions {
  /** Only the scenario of this name. */
  readonly scenario?: string;
  /** The user's scenarios, run instead of the built-in ones. */
  readonly scenarios?: readonly ScenarioSpec[];
  /** The largest preemption bound of the bounded search (default 2). */
  readonly maxPreemptions?: number;
  /** Milliseconds for the whole simulation (default 10 s). */
  readonly timeBudgetMs?: number;
  /** Executions per scenario (default 20,000). */
  readonly maxExecutions?: number;
  /** After the bounded search, explore every interleaving with sleep sets while budget is left (default true). */
  readonly unbounded?: boolean;
  /** Also explore each scenario without any bound, with and without sleep sets, and report both counts. */
  readonly compareReduction?: boolean;
  readonly cancelled?: () => boolean;
}

export const DEFAULT_PREEMPTIONS = 2;
const DEFAULT_BUDGET_MS = 10_000;
const DEFAULT_EXECUTIONS = 20_000;

export function labelOf(preemptions: number): string {
  return preemptions === 0 ? 'logic error (no preemption needed)' : `race (${preemptions} preemption${preemptions === 1 ? '' : 's'})`;
}

/** One file's simulator: what it knows of the file is computed once and serves every function. */
export class Simulator {
  readonly program: Program;
  readonly entries: Entries;
  private readonly worlds = new Map<string, BuiltWorld | { error: string }>();

  constructor(file: FileIR, config: JailcheckConfig, private readonly rows: readonly LedgerRow[], private readonly summaries?: CallEnv) {
    this.program = new Program(file, config);
    this.entries = findEntries(this.program, rows, summaries);
  }

  /** The scenarios jailcheck would run for `fn`. */
  scenarios(fn: string): ScenarioSpec[] {
    return builtinScenarios(this.program, this.entries, this.summaries, this.rows, fn);
  }

  simulate(fn: string, options: SimulateOptions = {}): SimulationReport {
    const t0 = performance.now();
    let specs = options.scenarios ? [...options.scenarios] : this.scenarios(fn);
    if (options.scenario !== undefined) specs = specs.filter((s) => s.name === options.scenario);
    const deadline = t0 + (options.timeBudgetMs ?? DEFAULT_BUDGET_MS);
    const scenarios: ScenarioResult[] = [];
    for (const spec of specs) {
      // Each scenario gets an equal share of what is left, so one hard scenario cannot starve the rest.
      const left = specs.length - scenarios.length;
      const share = Math.max(0, (deadline - performance.now()) / left);
      scenarios.push(this.run(spec, { ...options, deadline: performance.now() + share }));
    }
    return { function: fn, scenarios, elapsedMs: performance.now() - t0, configuration: [...this.program.configuration].map(([line, taken]) => `${line}: ${taken ? 'taken' : 'not taken'}`) };
  }

  /** The world a scenario starts from (built once per recipe and kept). */
  world(spec: ScenarioSpec): BuiltWorld | { error: string } {
    const key = JSON.stringify(spec.recipe);
    let w = this.worlds.get(key);
    if (!w) {
      w = buildWorld(this.program, this.entries, this.summaries, spec.recipe);
      this.worlds.set(key, w);
    }
    return w;
  }

  run(spec: ScenarioSpec, options: SimulateOptions & { readonly deadline: number }): ScenarioResult {
    const threadsShown = spec.threads.map((t, i) => ({ thread: i + 1, calls: t.calls.map((c) => c.text) }));
    const bound = options.maxPreemptions ?? DEFAULT_PREEMPTIONS;
    const base = { name: spec.name, description: spec.description, threads: threadsShown, preemptionBound: bound };
    const built = this.world(spec);
    if ('error' in built) {
      return { ...base, verdict: 'incomplete', executions: 0, states: 0, boundsReached: [built.error], exhaustive: false, world: 'built', setup: [] };
    }
    const threads: ThreadSpec[] = spec.threads.map((t) => ({ process: t.process, calls: t.calls.map((c) => planCall(this.program, this.summaries, c)) }));
    const invariants = spec.invariants ? new Set<InvariantId>(spec.invariants) : undefined;
    const start = (record = false): Machine => new Machine(this.program, built.world.clone(), threads, { invariants, record });
    const states = new Set<string>();
    const maxExecutions = options.maxExecutions ?? DEFAULT_EXECUTIONS;
    let executions = 0;
    const bounds: string[] = [];
    let found: FoundViolation | undefined;
    let verdict: Verdict = 'ok';
    let exhaustive = false;
    let explored = -1;
    const common = (extra: Partial<ExploreOptions>): ExploreOptions => ({
      preemptionBound: 0, reduction: 'none', stateCache: true, maxExecutions: Math.max(1, maxExecutions - executions),
      deadline: options.deadline, cancelled: options.cancelled, ...extra,
    });
    for (let k = 0; k <= bound; k++) {
      const r = explore(() => start(), common({ preemptionBound: k }), states);
      executions += r.executions;
      explored = k;
      if (r.found) { found = r.found; break; }
      if (r.cut.length > 0) { bounds.push(...r.cut.map((c) => `with up to ${k} preemption${k === 1 ? '' : 's'}: ${c}`)); verdict = 'incomplete'; break; }
      if (!r.boundHit) { exhaustive = true; break; }
    }
    if (!found && verdict === 'ok' && !exhaustive) {
      if (options.unbounded !== false) {
        const r = explore(() => start(), common({ preemptionBound: Infinity, reduction: 'dpor', stateCache: false }), states);
        executions += r.executions;
        if (r.found) found = r.found;
        else if (r.complete) exhaustive = true;
        else bounds.push(`schedules with more than ${bound} preemption${bound === 1 ? '' : 's'}: ${r.cut.join(', ')} (${r.executions} explored with DPOR and sleep sets)`);
      } else {
        bounds.push(`schedules with more than ${bound} preemption${bound === 1 ? '' : 's'} were not explored`);
      }
    }
    const reduction = options.compareReduction ? this.compare(start, options) : undefined;
    const result: ScenarioResult = {
      ...base, preemptionBound: Math.max(explored, 0), verdict: found ? 'violation' : verdict, executions, states: states.size,
      boundsReached: bounds, exhaustive: !found && exhaustive, world: built.how, setup: built.setup,
      ...(found ? { counterexample: this.counterexample(start, found) } : {}), ...(reduction ? { reduction } : {}),
    };
    return result;
  }

  /** Every interleaving, with and without sleep sets: the reduction's worth, and a check that both agree. */
  private compare(start: (record?: boolean) => Machine, options: SimulateOptions & { readonly deadline: number }): ScenarioResult['reduction'] {
    const once = (reduction: 'none' | 'sleep-sets' | 'dpor'): { executions: number; verdict: Verdict } => {
      const r = explore(() => start(), {
        preemptionBound: Infinity, reduction, stateCache: false, maxExecutions: options.maxExecutions ?? 1_000_000,
        deadline: performance.now() + (options.timeBudgetMs ?? 60_000), cancelled: options.cancelled,
      }, null);
      return { executions: r.executions, verdict: r.found ? 'violation' : r.complete ? 'ok' : 'incomplete' };
    };
    return { withReduction: once('sleep-sets'), withDpor: once('dpor'), withoutReduction: once('none') };
  }

  /** Replays the violating execution, recording every step. */
  private counterexample(start: (record?: boolean) => Machine, found: FoundViolation): Counterexample {
    const m = start(true);
    const stack = found.decisions.map((d) => ({ kind: 'thread' as const, options: [d], index: 0 }));
    const run = runOne(m, stack, { preemptionBound: Infinity, reduction: 'none', stateCache: false, maxExecutions: 1, deadline: Infinity }, null, null);
    const all = m.violations();
    const at = (v: Violation): ViolationAt => ({ invariant: v.invariant, message: v.message, thread: v.thread, function: v.fn, range: v.range, step: v.step ?? m.trace.length - 1 });
    const first = all[0] ?? found.violations[0]!;
    return {
      invariant: first.invariant, message: first.message, preemptions: run.preemptions, label: labelOf(run.preemptions),
      steps: m.trace, at: at(first), also: all.slice(1).map(at),
    };
  }
}
