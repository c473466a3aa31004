/**
 * Interleaving findings: the simulator's counterexamples as findings like
 * any other (rule `interleaving-violation`), for `jailcheck check`, the patch
 * review and the editor. Which functions are simulated: those that give
 * references back up the jail hierarchy (the ledger's cascades, prison_deref
 * in every kern_jail.c), since their built-in scenarios run the file's other
 * reference operations beside them.
 *
 * Only counterexamples from worlds the file's own functions built are
 * reported: a world jailcheck had to state outright could hold counts the
 * file never produces, and a finding from it could be a false alarm (it is
 * still shown by `jailcheck simulate`).
 */
import type { JailcheckConfig } from '../../simulator/src/config';
import type { Finding, FindingStep, RelatedSite } from '../../simulator/src/findings';
import type { LedgerRow } from '../../simulator/src/ledger/records';
import type { ScenarioResult, SimulationReport } from '../../simulator/src/sim/report';
import type { Simulator } from '../../simulator/src/sim/simulate';
import type { simulateFunction, SimulationSource } from './simulate';

/** The functions whose scenarios `check` runs: where a jail's fall gives its parent's live count back. */
export function cascadeFunctions(rows: readonly LedgerRow[], config: JailcheckConfig): string[] {
  const out = new Set<string>();
  for (const r of rows) {
    if (r.counter === config.vocabulary.liveCounter && r.whose.kind === 'ancestor' && r.direction === 'decrement' && !r.via) out.add(r.function);
  }
  return [...out];
}

const MAX_STEPS = 60;

/** Violations of one family tell one story: a counter that goes wrong and the KASSERT that then fires. */
const FAMILY: Readonly<Record<string, string>> = {
  'kassert': 'count', 'counter-negative': 'count', 'root-uref-zero': 'count', 'panic': 'count',
  'lock-owner': 'lock', 'lock-mode': 'lock', 'lock-recursion': 'lock', 'lock-assert': 'lock', 'held-at-exit': 'lock', 'deadlock': 'lock',
  'use-after-free': 'memory', 'null-dereference': 'memory',
};

/**
 * The findings of a scenario's counterexample: its first violation, and the
 * first later one of each other kind (a lock error and then, further on the
 * same schedule, a count that goes wrong are two problems).
 */
export function findingsOf(s: ScenarioResult, fn: string, live = 'pr_uref'): Finding[] {
  return keyedFindings(s, fn, live).map((k) => k.finding);
}

/**
 * The steps of a schedule where a jail came back to life: its live counter
 * rose from 0 to 1 (a jail being created starts from nothing, not from 0).
 */
export function revivals(s: ScenarioResult, live: string): RelatedSite[] {
  const c = s.counterexample;
  if (!c) return [];
  const out: RelatedSite[] = [];
  let before: Readonly<Record<string, number>> = {};
  for (const st of c.steps) {
    for (const [key, v] of Object.entries(st.counters)) {
      const [jail, field] = key.split('.');
      if (field === live && v === 1 && before[key] === 0) {
        out.push({ range: st.range, message: `thread ${st.thread} brings ${jail} back to life here (${key} 0 → 1) in ${st.function}() [scenario ${s.name}]` });
      }
    }
    before = st.counters;
  }
  return out;
}

/** With each finding, what identifies it across scenarios: its place and its invariant. */
function keyedFindings(s: ScenarioResult, fn: string, live: string): Array<{ key: string; finding: Finding }> {
  const c = s.counterexample;
  if (!c) return [];
  const who = s.threads.map((t) => `thread ${t.thread} runs ${t.calls.join(', then ')}`).join(' while ');
  const seen = new Set<string>();
  const out: Array<{ key: string; finding: Finding }> = [];
  for (const v of [c.at, ...c.also]) {
    const family = FAMILY[v.invariant] ?? v.invariant;
    if (seen.has(family)) continue;
    seen.add(family);
    const steps: FindingStep[] = c.steps.slice(0, v.step + 1).map((st) => ({
      range: st.range, thread: st.thread,
      message: `thread ${st.thread}: ${st.operation}${st.choice ? ` (choice: ${st.choice})` : ''}${st.preemption ? ' (preempts the other thread)' : ''}`,
      locks: st.locks.map((l) => `${l.lock}${l.mode === 'shared' ? ' (shared)' : ''} by thread ${l.thread}`),
    }));
    const later = c.also.filter((a) => a.step > v.step && (FAMILY[a.invariant] ?? a.invariant) === family);
    out.push({ key: `${v.range.start}:${v.invariant}`, finding: {
      rule: 'interleaving-violation', severity: 'error', function: v.function || fn, range: v.range,
      message: `${c.label}: ${v.message}, when ${who} (scenario ${s.name}${s.world === 'stated' ? ', stated world' : ''})`,
      steps: steps.length > MAX_STEPS ? steps.slice(steps.length - MAX_STEPS) : steps,
      related: [...later.map((a) => ({ range: a.range, message: `then: ${a.message}` })), ...(family === 'count' ? revivals(s, live).filter((r) => r.range.start !== v.range.start) : [])],
      preemptions: c.preemptions,
    } });
  }
  return out;
}

export interface InterleavingRun {
  readonly findings: Finding[];
  readonly functions: readonly string[];
  readonly elapsedMs: number;
}

/**
 * Runs the built-in scenarios of the cascade functions and returns one
 * finding per place and invariant (the one with the fewest preemptions).
 */
export function interleavingFindings(sim: Simulator, rows: readonly LedgerRow[], config: JailcheckConfig,
  options: { readonly timeBudgetMs?: number; readonly maxPreemptions?: number } = {}): InterleavingRun {
  const t0 = performance.now();
  const functions = cascadeFunctions(rows, config);
  const budget = options.timeBudgetMs ?? 5_000;
  const live = config.vocabulary.liveCounter;
  const runs: Array<{ function: string; report: SimulationReport }> = [];
  for (const fn of functions) {
    // Worlds first: a scenario whose world had to be stated is not explored at all here.
    const specs = sim.scenarios(fn).filter((spec) => { const w = sim.world(spec); return !('error' in w) && w.how === 'built'; });
    const deadline = performance.now() + budget / functions.length;
    const t1 = performance.now();
    const scenarios = specs.map((spec, i) => {
      const share = Math.max(0, (deadline - performance.now()) / (specs.length - i));
      return sim.run(spec, { maxPreemptions: options.maxPreemptions, deadline: performance.now() + share });
    });
    runs.push({ function: fn, report: { function: fn, scenarios, elapsedMs: performance.now() - t1 } });
  }
  return { findings: mergeInterleavingFindings(runs, live), functions, elapsedMs: performance.now() - t0 };
}

/**
 * The findings of simulation reports (the language server runs the
 * simulations itself, one at a time, between edits): one finding per place
 * and broken invariant, from the counterexample with the fewest
 * preemptions; the other scenarios that show it are named, and their
 * revival sites are related sites too.
 */
export function mergeInterleavingFindings(runs: ReadonlyArray<{ readonly function: string; readonly report: SimulationReport }>, live: string): Finding[] {
  const best = new Map<string, { finding: Finding; scenario: string; others: Array<{ name: string; related: readonly RelatedSite[] }> }>();
  for (const { function: fn, report } of runs) {
    for (const s of report.scenarios) {
      if (s.world !== 'built') continue;
      for (const { key, finding: f } of keyedFindings(s, fn, live)) {
        const had = best.get(key);
        const better = !had || (f.preemptions ?? 0) < (had.finding.preemptions ?? 0)
          || ((f.preemptions ?? 0) === (had.finding.preemptions ?? 0) && f.steps.length < had.finding.steps.length);
        if (better) best.set(key, { finding: f, scenario: s.name, others: had ? [{ name: had.scenario, related: had.finding.related }, ...had.others] : [] });
        else had.others.push({ name: s.name, related: f.related });
      }
    }
  }
  return [...best.values()].map(({ finding, others }) => {
    if (others.length === 0) return finding;
    const related = [...finding.related];
    for (const o of others) for (const r of o.related) if (!related.some((x) => x.range.start === r.range.start)) related.push(r);
    return { ...finding, related, message: `${finding.message.slice(0, -1)}; also in ${others.map((o) => o.name).sort().join(', ')})` };
  });
}

export interface CascadeRun {
  readonly function: string;
  readonly report: SimulationReport;
}

/**
 * The built-in scenarios of `functions` on built worlds, simulated one
 * function after the other with `simulate` (which yields to the event loop
 * between scenarios: the language server's way), each function given an
 * equal share of what is left of `budgetMs`, so one cannot starve the
 * others. Undefined when `cancelled` said stop.
 */
export async function simulateInTurn(simulate: typeof simulateFunction, source: SimulationSource, functions: readonly string[],
  config: JailcheckConfig, options: { readonly budgetMs: number; readonly maxPreemptions: number; readonly cancelled: () => boolean }): Promise<CascadeRun[] | undefined> {
  const deadline = performance.now() + options.budgetMs;
  const runs: CascadeRun[] = [];
  for (const [i, fn] of functions.entries()) {
    if (options.cancelled()) return undefined;
    const share = Math.max(1, (deadline - performance.now()) / (functions.length - i));
    runs.push({ function: fn, report: await simulate(source, fn, {
      timeBudgetMs: share, maxPreemptions: options.maxPreemptions, config, builtWorldsOnly: true, cancelled: options.cancelled,
    }) });
  }
  return options.cancelled() ? undefined : runs;
}

