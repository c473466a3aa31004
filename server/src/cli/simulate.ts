/**
 * `jailcheck simulate FILE --function NAME` and `jailcheck scenarios FILE`
 * (docs/simulate.md). Exit codes: 0 no violation, 1 a violation, 2 bad input.
 */
import * as fs from 'fs';
import type { Command } from 'commander';
import type { ScenarioResult, ScheduleStep, SimulationReport } from '../../../simulator/src/sim/report';
import { AnalysisService } from '../analysisService';
import { InputError } from '../input';
import { cascadeFunctions } from '../interleavings';
import { LineIndex } from '../lineIndex';
import type { ParserPreference } from '../parsing/parser';
import { ScenarioError, scenariosOf, SimulationInputError, SimulationSource, simulateFunction, simulatorFor } from '../simulate';
import { readSource } from '../input';

interface SimulateCliOptions {
  readonly function?: string;
  readonly scenario?: string;
  readonly preemptions: string;
  readonly format: string;
  readonly timeBudget: string;
  readonly compareReduction?: boolean;
  readonly parser: string;
}

/** One step as the JSON form prints it. */
export interface ReportStep {
  readonly thread: number;
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly operation: string;
  readonly locks: ScheduleStep['locks'];
  readonly counters: ScheduleStep['counters'];
  readonly choice?: string;
  readonly preemption?: boolean;
}

function wholeNumber(v: string, what: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InputError(`${what} needs a whole number, not "${v}"`);
  return n;
}

/** A scenario argument that names a file: read it (a JSON scenario file), or undefined for a scenario name. */
function scenarioFile(arg: string | undefined): { text: string; file: string } | undefined {
  if (arg === undefined || !/\.json$/i.test(arg)) return undefined;
  let text: string;
  try {
    const stat = fs.statSync(arg);
    if (!stat.isFile()) throw new InputError(`${arg}: is not a regular file`);
    if (stat.size > 1024 * 1024) throw new InputError(`${arg}: a scenario file of ${stat.size} bytes is too large (1 MB at most)`);
    text = fs.readFileSync(arg, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${arg}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return { text, file: arg };
}

export function toReportJson(file: string, text: string, report: SimulationReport): unknown {
  const index = new LineIndex(text);
  const step = (s: ScheduleStep): ReportStep => {
    const p = index.position(s.range.start);
    return {
      thread: s.thread, function: s.function, file, line: p.line, column: p.column, operation: s.operation,
      locks: s.locks, counters: s.counters, ...(s.choice ? { choice: s.choice } : {}), ...(s.preemption ? { preemption: true } : {}),
    };
  };
  return {
    version: 1, file, function: report.function, elapsedMs: Math.round(report.elapsedMs),
    configuration: report.configuration ?? [],
    scenarios: report.scenarios.map((s) => ({
      name: s.name, description: s.description, verdict: s.verdict, threads: s.threads,
      executions: s.executions, states: s.states, boundsReached: s.boundsReached, exhaustive: s.exhaustive,
      preemptionBound: s.preemptionBound, world: s.world, setup: s.setup,
      ...(s.reduction ? { reduction: s.reduction } : {}),
      ...(s.counterexample ? {
        counterexample: {
          invariant: s.counterexample.invariant, message: s.counterexample.message,
          preemptions: s.counterexample.preemptions, label: s.counterexample.label,
          at: { ...step(s.counterexample.steps[s.counterexample.at.step] ?? s.counterexample.steps[s.counterexample.steps.length - 1]!), step: s.counterexample.at.step + 1 },
          also: s.counterexample.also.map((a) => ({ invariant: a.invariant, message: a.message, step: a.step + 1, line: index.position(a.range.start).line })),
          steps: s.counterexample.steps.map(step),
        },
      } : {}),
    })),
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/**
 * What was explored, in words. An incomplete scenario was cut short while
 * its bound k was being explored: every bound below k was explored to the
 * end, k itself was not.
 */
function coverage(s: ScenarioResult): string {
  const parts = [plural(s.executions, 'execution'), plural(s.states, 'distinct state')];
  const k = s.preemptionBound;
  if (s.verdict === 'ok') parts.push(s.exhaustive ? 'every interleaving' : `every interleaving with up to ${plural(k, 'preemption')}`);
  else if (s.verdict === 'incomplete') {
    parts.push(k === 0 ? 'not every schedule without preemption' : `every interleaving with up to ${plural(k - 1, 'preemption')}, not every one with ${k}`);
  }
  return parts.join(', ');
}

export function formatSimulation(file: string, text: string, report: SimulationReport): string {
  const index = new LineIndex(text);
  const out: string[] = [];
  const violations = report.scenarios.filter((s) => s.verdict === 'violation').length;
  out.push(`${report.function}(): ${plural(report.scenarios.length, 'scenario')}, ${violations} with a violation (${(report.elapsedMs / 1000).toFixed(2)} s)`);
  for (const s of report.scenarios) {
    out.push('');
    out.push(`${s.verdict.toUpperCase().padEnd(9)} ${s.name}: ${s.description}`);
    for (const t of s.threads) out.push(`          thread ${t.thread}: ${t.calls.join('; ')}`);
    out.push(`          world: ${s.world === 'built' ? 'built by the file\'s own functions: ' : ''}${s.setup.join('; ')}`);
    out.push(`          ${coverage(s)}`);
    for (const b of s.boundsReached) out.push(`          bound reached: ${b}`);
    if (s.reduction) {
      out.push(`          every interleaving: ${plural(s.reduction.withDpor.executions, 'execution')} with DPOR (${s.reduction.withDpor.verdict}), `
        + `${plural(s.reduction.withReduction.executions, 'execution')} with sleep sets alone (${s.reduction.withReduction.verdict}), `
        + `${plural(s.reduction.withoutReduction.executions, 'execution')} without (${s.reduction.withoutReduction.verdict})`);
    }
    const c = s.counterexample;
    if (!c) continue;
    const at = index.position(c.at.range.start);
    out.push(`          ${file}:${at.line}: ${c.message} [${c.invariant}] — ${c.label}`);
    for (const a of c.also) out.push(`          then ${file}:${index.position(a.range.start).line}: ${a.message} [${a.invariant}]`);
    let counters: Readonly<Record<string, number>> = {};
    c.steps.forEach((st, i) => {
      const line = index.position(st.range.start).line;
      const changed = Object.entries(st.counters).filter(([k, v]) => counters[k] !== v).map(([k, v]) => `${k}=${v}`);
      counters = st.counters;
      const locks = st.locks.map((l) => `${l.lock}${l.mode === 'shared' ? '(s)' : ''}@${l.thread}`);
      const marks = `${st.preemption ? ' [preemption]' : ''}${i === c.at.step ? ' ✗' : ''}`;
      out.push(`     ${String(i + 1).padStart(3)}  T${st.thread}  ${`${line}`.padStart(5)}  ${st.function}: ${st.operation}${marks}`);
      const state = [changed.length ? changed.join(' ') : '', locks.length ? `locks ${locks.join(' ')}` : 'no locks'].filter(Boolean).join('; ');
      out.push(`                        ${state}`);
    });
  }
  if (report.configuration?.length) out.push('', `configuration: ${report.configuration.join('; ')}`);
  return out.join('\n');
}

async function analyse(file: string, parser: string): Promise<{ text: string; sim: ReturnType<typeof simulatorFor>; rows: Parameters<typeof cascadeFunctions>[0]; source: SimulationSource }> {
  if (!['auto', 'native', 'wasm'].includes(parser)) throw new InputError(`unknown parser "${parser}" (use auto, native or wasm)`);
  const text = readSource(file);
  const service = await AnalysisService.create(parser as ParserPreference);
  const analysed = service.analyse(text);
  if (analysed.ir.functions.length === 0) throw new InputError(`${file}: defines no function; nothing to simulate`);
  const source = { ir: analysed.ir, ledgerRows: analysed.ledger.rows, summaries: analysed.analysis.summaries };
  return { text: analysed.text, sim: simulatorFor(source), rows: analysed.ledger.rows, source };
}

/** The simulator's complaints about the input, as one-line input errors; a scenario file's name the file. */
function asInputError(err: unknown, scenarioFile?: string): never {
  if (err instanceof ScenarioError) throw new InputError(`${scenarioFile ? `${scenarioFile}: ` : ''}${err.message}`);
  if (err instanceof SimulationInputError) throw new InputError(err.message);
  throw err;
}

/** A function to simulate must be one the file defines: said as `jailcheck check --function` says it. */
function requireFunction(source: SimulationSource, fn: string, file: string): void {
  if (!source.ir.functions.some((f) => f.name === fn)) throw new InputError(`no function named ${fn} in ${file}`);
}

export async function runSimulate(file: string, opts: SimulateCliOptions): Promise<number> {
  if (!['text', 'json'].includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text or json)`);
  if (opts.function === undefined) throw new InputError('simulate needs --function NAME (jailcheck scenarios FILE lists the functions and their scenarios)');
  const preemptions = wholeNumber(opts.preemptions, '--preemptions');
  const budget = wholeNumber(opts.timeBudget, '--time-budget');
  const user = scenarioFile(opts.scenario);
  const { text, source } = await analyse(file, opts.parser);
  requireFunction(source, opts.function, file);
  let report: SimulationReport;
  try {
    report = await simulateFunction(source, opts.function, {
      ...(user ? { scenarioText: user.text } : opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
      maxPreemptions: preemptions, timeBudgetMs: budget, compareReduction: opts.compareReduction,
    });
  } catch (err) {
    return asInputError(err, user?.file);
  }
  if (report.scenarios.length === 0) throw new InputError(`${opts.function}() has no scenario to run (it takes no jail jailcheck can make up)`);
  if (opts.format === 'json') process.stdout.write(`${JSON.stringify(toReportJson(file, text, report), null, 2)}\n`);
  else process.stdout.write(`${formatSimulation(file, text, report)}\n`);
  return report.scenarios.some((s) => s.verdict === 'violation') ? 1 : 0;
}

export async function runScenarios(file: string, opts: { function?: string; format: string; parser: string }): Promise<number> {
  if (!['text', 'json'].includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text or json)`);
  const { sim, rows, source } = await analyse(file, opts.parser);
  if (opts.function !== undefined) requireFunction(source, opts.function, file);
  const functions = opts.function !== undefined ? [opts.function] : cascadeFunctions(rows, sim.program.config);
  const lists = functions.map((fn) => {
    try {
      return { function: fn, scenarios: scenariosOf(sim, fn) };
    } catch (err) {
      return asInputError(err);
    }
  });
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify({
      version: 1, file, entries: Object.fromEntries(Object.entries(sim.entries).map(([e, p]) => [e, p!.fn])),
      functions: lists.map((l) => ({
        function: l.function,
        scenarios: l.scenarios.map((s) => ({ name: s.name, description: s.description, world: s.recipe, threads: s.threads.map((t) => ({ process: t.process, calls: t.calls.map((c) => c.text) })) })),
      })),
    }, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  out.push(`the file's own operations: ${Object.entries(sim.entries).map(([e, p]) => `${e} → ${p!.fn}()`).join(', ') || 'none found'}`);
  for (const l of lists) {
    out.push('', `${l.function}(): ${plural(l.scenarios.length, 'scenario')}`);
    for (const s of l.scenarios) {
      out.push(`  ${s.name}`);
      out.push(`      ${s.description}`);
      s.threads.forEach((t, i) => out.push(`      thread ${i + 1} (${t.process}): ${t.calls.map((c) => c.text).join('; ')}`));
    }
  }
  if (functions.length === 0) out.push('', 'no function gives references back up the hierarchy; name one with --function');
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run a function of the file on small worlds of jails, explore the thread interleavings, and print each scenario\'s verdict and, for a violation, the schedule that shows it')
    .argument('<file>', 'C file')
    .option('--function <name>', 'the function to simulate (required)')
    .option('--scenario <name|file.json>', 'one built-in scenario by name, or a JSON file of scenarios (schemas/scenario.schema.json)')
    .option('--preemptions <n>', 'largest preemption bound of the bounded search', '2')
    .option('--time-budget <ms>', 'milliseconds for the whole simulation', '10000')
    .option('--compare-reduction', 'also explore every interleaving with and without sleep sets, and print both counts')
    .option('-f, --format <format>', 'text or json', 'text')
    .option('--parser <backend>', 'tree-sitter binding: auto, native or wasm', 'auto')
    .action(async (file: string, opts: SimulateCliOptions) => {
      process.exitCode = await runSimulate(file, opts);
    });
  program
    .command('scenarios')
    .description('list the scenarios jailcheck simulate would run')
    .argument('<file>', 'C file')
    .option('--function <name>', 'the function (default: those that give references back up the hierarchy)')
    .option('-f, --format <format>', 'text or json', 'text')
    .option('--parser <backend>', 'tree-sitter binding: auto, native or wasm', 'auto')
    .action(async (file: string, opts: { function?: string; format: string; parser: string }) => {
      process.exitCode = await runScenarios(file, opts);
    });
}
