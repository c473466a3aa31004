/**
 * Systematic exploration of a scenario's executions, stateless: every
 * execution starts again from the scenario's world and replays a prefix of
 * decisions (which thread runs next, which way an unknown branch goes),
 * then takes the first alternative at every new decision. Depth-first
 * backtracking over the decisions visits every execution once.
 *
 * Two ways to cut the work:
 *  - preemption bounding (CHESS): switching away from a thread that could go
 *    on costs one preemption; only executions within the bound are run.
 *    Here states reached again with no fewer preemptions left are not
 *    explored twice (a cache keyed by the whole state), which is sound under
 *    the bound.
 *  - sleep sets (Godefroid): after the subtree where thread t ran first has
 *    been explored, t sleeps in its siblings' subtrees until something that
 *    does not commute with t's next step runs. Sound for unbounded search,
 *    which is where it is used (naively combined with a preemption bound it
 *    would miss executions; see Coons, Musuvathi and McKinley, "Bounded
 *    partial-order reduction", OOPSLA 2013).
 */
import type { Access, Machine, ThreadState, Violation } from './machine';

/** Node's and browsers' clock (the simulator is built without Node's types). */
declare const performance: { now(): number };

export interface ExploreOptions {
  /** Infinity for no bound. */
  readonly preemptionBound: number;
  readonly reduction: 'none' | 'sleep-sets';
  readonly stateCache: boolean;
  readonly maxExecutions: number;
  /** performance.now() after which exploration stops. */
  readonly deadline: number;
  readonly cancelled?: () => boolean;
}

interface Node {
  readonly kind: 'thread' | 'branch';
  readonly options: readonly number[];
  index: number;
  /** Footprints of the threads' next steps at this node (sleep sets). */
  readonly footprints?: ReadonlyMap<number, Access[] | null>;
  readonly sleep?: ReadonlyMap<number, Access[] | null>;
}

export interface FoundViolation {
  readonly violations: readonly Violation[];
  /** The decisions that reproduce the execution. */
  readonly decisions: readonly number[];
  readonly preemptions: number;
}

export interface ExploreResult {
  readonly found?: FoundViolation;
  readonly executions: number;
  /** Distinct states met at scheduling points. */
  readonly states: ReadonlySet<string> | number;
  /** Executions that a budget, not the end of the program, cut short; and why. */
  readonly cut: readonly string[];
  /** Whether some execution was not run because it needed more preemptions than the bound. */
  readonly boundHit: boolean;
  /** Whether every execution (within the bound) was run. */
  readonly complete: boolean;
}

export function dependent(a: Access[] | null, b: Access[] | null): boolean {
  if (!a || !b) return false;
  for (const x of a) {
    for (const y of b) {
      if ((x.freeOf !== undefined && y.obj === x.freeOf) || (y.freeOf !== undefined && x.obj === y.freeOf)) return true;
      if (x.loc === y.loc && (x.write || y.write)) return true;
    }
  }
  return false;
}

/**
 * Explores the executions of the machines `start` makes (each a fresh copy
 * of the scenario's initial state).
 */
export function explore(start: () => Machine, opts: ExploreOptions, countStates: Set<string> | null): ExploreResult {
  const stack: Node[] = [];
  const cache = new Map<string, number>();
  const cut = new Set<string>();
  let executions = 0;
  let boundHit = false;
  let complete = true;

  for (;;) {
    if (executions >= opts.maxExecutions) { cut.add(`stopped after ${opts.maxExecutions} executions`); complete = false; break; }
    if (performance.now() > opts.deadline) { cut.add('stopped by the time budget'); complete = false; break; }
    if (opts.cancelled?.()) { cut.add('cancelled'); complete = false; break; }
    executions++;
    const run = runOne(start(), stack, opts, opts.stateCache ? cache : null, countStates);
    if (run.boundHit) boundHit = true;
    // An execution that runs out of steps loops where the model cannot see an end; the others would too.
    if (run.cut) { cut.add(run.cut); complete = false; break; }
    if (run.violations.length > 0) {
      return {
        found: { violations: run.violations, decisions: stack.map((n) => n.options[n.index]!), preemptions: run.preemptions },
        executions, states: countStates ?? cache.size, cut: [...cut], boundHit, complete: false,
      };
    }
    // Backtrack: the deepest decision with an alternative left.
    while (stack.length > 0 && stack[stack.length - 1]!.index + 1 >= stack[stack.length - 1]!.options.length) stack.pop();
    if (stack.length === 0) break;
    stack[stack.length - 1]!.index++;
  }
  return { executions, states: countStates ?? cache.size, cut: [...cut], boundHit, complete };
}

interface RunOutcome {
  readonly violations: Violation[];
  readonly preemptions: number;
  readonly boundHit: boolean;
  readonly cut?: string;
}

/**
 * One execution: replays the decisions on `stack`, then extends it with
 * first choices. Returns what went wrong, if anything.
 */
export function runOne(m: Machine, stack: Node[], opts: ExploreOptions, cache: Map<string, number> | null,
  countStates: Set<string> | null): RunOutcome {
  let depth = 0;
  const replaying = stack.length;
  const decide = (kind: Node['kind'], options: readonly number[], extra: Partial<Node> = {}): number => {
    if (depth < stack.length) {
      const node = stack[depth++]!;
      return node.options[node.index]!;
    }
    stack.push({ kind, options, index: 0, ...extra });
    depth++;
    return options[0]!;
  };
  m.choose = (n) => decide('branch', Array.from({ length: n }, (_, i) => i));

  for (const t of m.threads) m.settle(t);
  let current: ThreadState | undefined;
  let preemptions = 0;
  let boundHit = false;
  let sleep = new Map<number, Access[] | null>();
  const reduce = opts.reduction === 'sleep-sets';

  while (!m.stopped()) {
    const live = m.threads.filter((t) => !m.done(t));
    if (live.length === 0) break;
    const enabled = live.filter((t) => !m.blocked(t));
    if (enabled.length === 0) {
      m.deadlock(live);
      break;
    }
    let chosen: ThreadState;
    if (enabled.length === 1) {
      chosen = enabled[0]!;
      if (reduce && sleep.has(chosen.id)) break; // everything left is asleep: an equivalent execution was run
    } else {
      const fresh = depth >= replaying;
      if (cache || countStates) {
        const key = m.stateKey();
        countStates?.add(key);
        if (cache && fresh) {
          const k = `${key}@${current?.id ?? 0}`;
          const seen = cache.get(k);
          if (seen !== undefined && seen <= preemptions) break; // explored from here with as much budget or more
          cache.set(k, preemptions);
        }
      }
      const currentEnabled = current !== undefined && enabled.includes(current);
      let options = enabled;
      if (currentEnabled && preemptions >= opts.preemptionBound) {
        options = [current!];
        boundHit = true;
      } else if (currentEnabled) {
        options = [current!, ...enabled.filter((t) => t !== current)];
      }
      let footprints: Map<number, Access[] | null> | undefined;
      if (reduce) {
        footprints = new Map(options.map((t) => [t.id, m.footprint(t)]));
        options = options.filter((t) => !sleep.has(t.id));
        if (options.length === 0) break;
      }
      const id = decide('thread', options.map((t) => t.id), footprints ? { footprints, sleep } : {});
      chosen = m.threads.find((t) => t.id === id)!;
      if (reduce) {
        // Siblings explored before this one sleep, as long as they commute with what runs.
        const at = stack[depth - 1]!;
        const fps = at.footprints ?? footprints!;
        const mine = fps.get(chosen.id) ?? null;
        const next = new Map<number, Access[] | null>();
        for (const [t, fp] of sleep) if (!dependent(fp, mine)) next.set(t, fp);
        for (let i = 0; i < at.index; i++) {
          const s = at.options[i]!;
          const fp = fps.get(s) ?? null;
          if (!dependent(fp, mine)) next.set(s, fp);
        }
        sleep = next;
      }
      if (currentEnabled && chosen !== current) {
        preemptions++;
        m.preempting = true;
      }
    }
    if (reduce && enabled.length === 1) {
      const mine = m.footprint(chosen);
      for (const [t, fp] of [...sleep]) if (dependent(fp, mine)) sleep.delete(t);
    }
    current = chosen;
    m.step(chosen);
  }
  return { violations: m.violations(), preemptions, boundHit, cut: m.cut };
}
