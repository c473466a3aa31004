/**
 * Runs the simulator on one function of a text. Shared by the CLI's
 * `simulate` command, the language server's "Simulate This Function" and
 * background interleaving diagnostics, and the patch reviewer.
 *
 * The simulator is synchronous; this runs it one scenario at a time and
 * yields to the event loop in between, so an editor stays responsive and a
 * cancellation (the next edit) is seen between scenarios as well as between
 * executions.
 */
import type { JailcheckConfig } from '../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import type { FileIR } from '../../simulator/src/ir';
import { analyzeFile } from '../../simulator/src/analysis/incremental';
import type { CallEnv } from '../../simulator/src/analysis/summaries';
import { buildLedger } from '../../simulator/src/ledger/index';
import type { LedgerRow } from '../../simulator/src/ledger/records';
import type { ScenarioResult, SimulationReport } from '../../simulator/src/sim/report';
import type { ScenarioSpec } from '../../simulator/src/sim/scenarios';
import { Simulator } from '../../simulator/src/sim/simulate';
import { readScenarios } from '../../simulator/src/sim/userScenario';

export { ScenarioError } from '../../simulator/src/sim/userScenario';

export interface SimulateOptions {
  /** Only this scenario (by name). */
  readonly scenario?: string;
  /** The text of a user scenario file (JSON, schemas/scenario.schema.json): its scenarios replace the built-in ones. */
  readonly scenarioText?: string;
  readonly maxPreemptions?: number;
  /** Milliseconds for the whole simulation. */
  readonly timeBudgetMs?: number;
  readonly maxExecutions?: number;
  /** Also explore each scenario without bounds, with and without sleep sets, and report both counts. */
  readonly compareReduction?: boolean;
  /** Polled between executions; true stops the simulation early (verdicts become "incomplete"). */
  readonly cancelled?: () => boolean;
  readonly config?: JailcheckConfig;
  /**
   * Only the scenarios whose world the file's own operations can build (the
   * background simulation reports nothing from stated worlds, so it does not
   * spend its budget exploring them).
   */
  readonly builtWorldsOnly?: boolean;
}

export class SimulationInputError extends Error {}

/** What a simulation of a file needs from its analysis; computed here when the caller has only the IR. */
export interface SimulationSource {
  readonly ir: FileIR;
  readonly ledgerRows?: readonly LedgerRow[];
  readonly summaries?: CallEnv;
}

const simulators = new WeakMap<object, { config: JailcheckConfig; sim: Simulator }>();

/** The file's simulator, made once per IR object and configuration. */
export function simulatorFor(source: SimulationSource, config: JailcheckConfig = DEFAULT_CONFIG): Simulator {
  const had = simulators.get(source.ir);
  if (had && had.config === config) return had.sim;
  const analysis = source.summaries && source.ledgerRows ? undefined : analyzeFile(source.ir, config);
  const summaries = source.summaries ?? analysis!.summaries;
  const rows = source.ledgerRows ?? buildLedger(source.ir, config, analysis).rows;
  const sim = new Simulator(source.ir, config, rows, summaries);
  simulators.set(source.ir, { config, sim });
  return sim;
}

export function scenariosOf(sim: Simulator, functionName: string, options: SimulateOptions = {}): ScenarioSpec[] {
  if (!sim.program.functions.has(functionName)) {
    const unreadable = sim.program.file.functions.some((f) => f.name === functionName);
    throw new SimulationInputError(unreadable
      ? `${functionName}() could not be read (see jailcheck check), so it cannot be simulated`
      : `no function named ${functionName} in the file`);
  }
  let specs = options.scenarioText !== undefined ? readScenarios(options.scenarioText, sim.program) : sim.scenarios(functionName);
  if (options.scenario !== undefined) {
    const named = specs.filter((s) => s.name === options.scenario);
    if (named.length === 0) {
      throw new SimulationInputError(`no scenario named "${options.scenario}" for ${functionName}() (jailcheck scenarios lists them: ${specs.map((s) => s.name).slice(0, 6).join(', ')}${specs.length > 6 ? ', …' : ''})`);
    }
    specs = named;
  }
  if (options.builtWorldsOnly) specs = specs.filter((spec) => { const w = sim.world(spec); return !('error' in w) && w.how === 'built'; });
  return specs;
}

export async function simulateFunction(source: SimulationSource | FileIR, functionName: string, options: SimulateOptions = {}): Promise<SimulationReport> {
  const src: SimulationSource = 'functions' in source ? { ir: source } : source;
  const sim = simulatorFor(src, options.config);
  const specs = scenariosOf(sim, functionName, options);
  const t0 = performance.now();
  const deadline = t0 + (options.timeBudgetMs ?? 10_000);
  const scenarios: ScenarioResult[] = [];
  for (const spec of specs) {
    // Equal shares of what is left, so one hard scenario cannot starve the others.
    const share = Math.max(0, (deadline - performance.now()) / (specs.length - scenarios.length));
    scenarios.push(sim.run(spec, { ...options, deadline: performance.now() + share }));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { function: functionName, scenarios, elapsedMs: performance.now() - t0, configuration: [...sim.program.configuration].map(([line, taken]) => `${line}: ${taken ? 'taken' : 'not taken'}`) };
}
