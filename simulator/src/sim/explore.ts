/**
 * Systematic exploration of a scenario's executions, stateless: every
 * execution starts again from the scenario's world and replays a prefix of
 * decisions (which thread runs next, which way an unknown branch goes),
 * then takes the first alternative at every new decision. Depth-first
 * backtracking over the decisions visits every execution once.
 *
 * Three ways to cut the work:
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
 *  - source-set DPOR (Abdulla, Aronis, Jonsson and Sagonas, "Optimal
 *    dynamic partial order reduction", POPL 2014, its Algorithm 1, without
 *    wakeup trees), with sleep sets: at each scheduling point only the
 *    threads in its backtrack set are run. After each execution, every race
 *    (two dependent steps of different threads with no step between them
 *    in happens-before order) adds to the backtrack set of the point before
 *    the first step one of the threads that can start the reversed order,
 *    unless one is there already. Unbounded search only, like sleep sets.
 */
import type { Access, Machine, ThreadState, Violation } from './machine';

/** Node's and browsers' clock (the simulator is built without Node's types). */
declare const performance: { now(): number };

export interface ExploreOptions {
  /** Infinity for no bound. */
  readonly preemptionBound: number;
  readonly reduction: 'none' | 'sleep-sets' | 'dpor';
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
  /** DPOR: the threads to run from here, and those already run. */
  backtrack?: Set<number>;
  done?: Set<number>;
}

/** One step of an execution, for DPOR's race analysis. */
interface Event {
  readonly thread: number;
  readonly footprint: Access[] | null;
  /** The scheduling node this step was chosen at; -1 when its thread was the only one enabled. */
  readonly node: number;
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

export function dependent(a: Access[] | null, b: Access[] | null, lockAware = false): boolean {
  if (!a || !b) return false;
  for (const x of a) {
    for (const y of b) {
      if ((x.freeOf !== undefined && y.obj === x.freeOf) || (y.freeOf !== undefined && x.obj === y.freeOf)) return true;
      // DPOR: a release and another thread's acquire of one lock are never enabled together.
      if (lockAware && x.loc === y.loc && (x.release || y.release)) continue;
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
    if (opts.reduction === 'dpor') {
      addBacktracks(stack, run.events);
      // Backtrack: the deepest node with a thread (or a branch) left to run.
      while (stack.length > 0 && !advance(stack[stack.length - 1]!)) stack.pop();
      if (stack.length === 0) break;
      continue;
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
  readonly events: readonly Event[];
}

/** DPOR: moves `node` to its next thread (or branch) to run; false when none is left. */
function advance(node: Node): boolean {
  if (node.kind === 'branch' || !node.backtrack) {
    if (node.index + 1 >= node.options.length) return false;
    node.index++;
    return true;
  }
  for (const [i, t] of node.options.entries()) {
    if (node.backtrack.has(t) && !node.done!.has(t) && !node.sleep?.has(t)) {
      node.index = i;
      node.done!.add(t);
      return true;
    }
  }
  return false;
}

/**
 * Source-DPOR's race analysis of one execution. Happens-before is program
 * order plus the order of dependent steps; a race is a pair of dependent
 * steps of different threads, i before j, with no step k between them such
 * that i happens before k and k before j. For each race, the threads that
 * can go first in "what did not depend on i, then j" (its initials) are the
 * ways to reverse it; if none is in the backtrack set of the node before i,
 * one is added.
 */
function addBacktracks(stack: Node[], events: readonly Event[]): void {
  const n = events.length;
  if (n < 2) return;
  // hb[j] has bit i set when step i happens before step j (i < j).
  const hb: Uint8Array[] = events.map(() => new Uint8Array(n));
  const lastOf = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const e = events[j]!;
    const row = hb[j]!;
    const prev = lastOf.get(e.thread);
    const direct: number[] = [];
    if (prev !== undefined) direct.push(prev);
    for (let i = 0; i < j; i++) if (events[i]!.thread !== e.thread && dependent(events[i]!.footprint, e.footprint, true)) direct.push(i);
    for (const i of direct) {
      row[i] = 1;
      const r = hb[i]!;
      for (let k = 0; k < i; k++) if (r[k]) row[k] = 1;
    }
    lastOf.set(e.thread, j);
  }
  for (let j = 0; j < n; j++) {
    const ej = events[j]!;
    for (let i = 0; i < j; i++) {
      const ei = events[i]!;
      if (ei.thread === ej.thread || !dependent(ei.footprint, ej.footprint, true)) continue;
      let between = false;
      for (let k = i + 1; k < j && !between; k++) if (hb[k]![i] && hb[j]![k]) between = true;
      if (between || ei.node < 0) continue;
      const node = stack[ei.node];
      if (!node || !node.backtrack) continue;
      // v: the steps after i that do not depend on it, then j; its initials can start the reversal.
      const v: number[] = [];
      for (let k = i + 1; k < j; k++) if (!hb[k]![i]) v.push(k);
      v.push(j);
      const initials = new Set<number>();
      const seen = new Set<number>();
      for (const k of v) {
        const t = events[k]!.thread;
        if (seen.has(t)) continue;
        seen.add(t);
        if (!v.some((m) => m < k && hb[k]![m])) initials.add(t);
      }
      const enabled = node.options;
      // Already to be run from there, or asleep there (an equivalent order was explored).
      if ([...initials].some((t) => node.backtrack!.has(t) || node.sleep?.has(t))) continue;
      const pick = enabled.find((t) => initials.has(t));
      if (pick !== undefined) node.backtrack.add(pick);
      else for (const t of enabled) node.backtrack.add(t);
    }
  }
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
  const dpor = opts.reduction === 'dpor';
  const reduce = opts.reduction === 'sleep-sets' || dpor;
  const events: Event[] = [];
  let eventNode = -1;

  while (!m.stopped()) {
    const live = m.threads.filter((t) => !m.done(t));
    if (live.length === 0) break;
    const enabled = live.filter((t) => !m.blocked(t));
    if (enabled.length === 0) {
      m.deadlock(live);
      break;
    }
    let chosen: ThreadState;
    eventNode = -1;
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
      const ids = options.map((t) => t.id);
      const id = decide('thread', ids, footprints ? { footprints, sleep, ...(dpor ? { backtrack: new Set([ids[0]!]), done: new Set([ids[0]!]) } : {}) } : {});
      chosen = m.threads.find((t) => t.id === id)!;
      eventNode = depth - 1;
      if (reduce) {
        // Siblings explored before this one sleep, as long as they commute with what runs.
        const at = stack[depth - 1]!;
        const fps = at.footprints ?? footprints!;
        const mine = fps.get(chosen.id) ?? null;
        const next = new Map<number, Access[] | null>();
        for (const [t, fp] of sleep) if (!dependent(fp, mine)) next.set(t, fp);
        // The siblings already explored here: the options before this one, or with DPOR (which
        // does not take them in order) the ones it has run.
        const explored = at.done ? [...at.done].filter((t) => t !== chosen.id) : at.options.slice(0, at.index);
        for (const s of explored) {
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
    if (dpor) events.push({ thread: chosen.id, footprint: m.footprint(chosen), node: eventNode });
    m.step(chosen);
  }
  return { violations: m.violations(), preemptions, boundHit, cut: m.cut, events };
}
