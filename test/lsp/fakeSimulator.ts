/**
 * The simulator replaced by a prepared report (the JSON file named by
 * JAILCHECK_FAKE_REPORT), loaded in the language server's analysis worker
 * (ServerOptions.simulatorModule); or, with JAILCHECK_FAKE_REPORT=throw, by
 * one that throws, for the server's error handling; or, with
 * JAILCHECK_FAKE_REPORT=slow, by one that takes 3 s per function and finds
 * nothing, to see what the server does meanwhile.
 */
import * as fs from 'node:fs';
import type { SimulationReport } from '../../simulator/src/sim/report';

const source = process.env.JAILCHECK_FAKE_REPORT!;
const report = source === 'throw' || source === 'slow' ? undefined : JSON.parse(fs.readFileSync(source, 'utf8')) as SimulationReport;

export async function simulateFunction(_ir: unknown, name: string): Promise<SimulationReport> {
  if (source === 'slow') {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return { function: name, scenarios: [], elapsedMs: 3000 };
  }
  if (!report) throw new Error(`simulator exploded on ${name}`);
  return name === report.function ? report : { function: name, scenarios: [], elapsedMs: 0 };
}
