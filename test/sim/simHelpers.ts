/** Running the simulator on a text, for the simulator's tests. */
import type { ScenarioResult, SimulationReport } from '../../simulator/src/sim/report';
import { Simulator } from '../../simulator/src/sim/simulate';
import type { SimulateOptions } from '../../simulator/src/sim/simulate';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { LineIndex } from '../../server/src/lineIndex';
import { service } from '../helpers';

export function simulatorOf(text: string): Simulator {
  const a = service().analyse(text);
  return new Simulator(a.ir, DEFAULT_CONFIG, a.ledger.rows, a.analysis.summaries);
}

export function simulate(text: string, fn: string, options: SimulateOptions = {}): SimulationReport {
  return simulatorOf(text).simulate(fn, { timeBudgetMs: 60_000, ...options });
}

export function scenario(report: SimulationReport, name: string): ScenarioResult {
  const s = report.scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name} among ${report.scenarios.map((x) => x.name).join(', ')}`);
  return s;
}

export const lineAt = (text: string, offset: number): number => new LineIndex(text).position(offset).line;

/** The threads of a counterexample's steps, in order, with consecutive repeats merged: [1, 2] means thread 1 ran to the end first. */
export function threadOrder(s: ScenarioResult): number[] {
  const out: number[] = [];
  for (const st of s.counterexample?.steps ?? []) if (out[out.length - 1] !== st.thread) out.push(st.thread);
  return out;
}
