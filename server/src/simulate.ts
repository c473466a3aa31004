/**
 * Runs the simulator on one function of a text. Shared by the CLI's
 * `simulate` command, the language server's "Simulate This Function" and the
 * patch reviewer.
 *
 * Not implemented yet: this stub keeps the interface stable for its callers
 * and answers that no scenario was run.
 */
import type { SimulationReport } from '../../simulator/src/sim/report';
import type { ExtractedFile } from './extract/index';

export interface SimulateOptions {
  /** Only this scenario (a built-in scenario's name). */
  readonly scenario?: string;
  readonly maxPreemptions?: number;
  /** Milliseconds for the whole simulation. */
  readonly timeBudgetMs?: number;
  /** Polled between executions; true stops the simulation early (verdicts become "incomplete"). */
  readonly cancelled?: () => boolean;
}

export async function simulateFunction(ir: ExtractedFile, functionName: string, options: SimulateOptions = {}): Promise<SimulationReport> {
  void ir;
  void options;
  return { function: functionName, scenarios: [], elapsedMs: 0 };
}
