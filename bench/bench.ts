/**
 * `npm run bench`: how long jailcheck takes on a kern_jail.c-sized file and
 * on the bundled example — parse (native and WebAssembly tree-sitter),
 * extraction, static checks and their ratios to the parse time of the same
 * run, incremental re-analysis after one-character edits, and, when the
 * server is built, LSP latencies over stdio. A table on stdout, or JSON with
 * --json. See docs/benchmarks.md for what each figure means.
 */
import * as fs from 'fs';
import * as os from 'os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DEFAULT_CONFIG } from '../simulator/src/config';
import { createNativeParser, createParser, CParser } from '../server/src/parsing/parser';
import { Budget, BenchContext, BenchInput, BenchSection } from './harness/context';
import type { Figure, SectionResult } from './harness/figures';
import { formatTable } from './harness/format';
import { DEFAULT_SEED, GeneratedFile, generateKernJail } from './generate';
import { exampleInput, fileInput, generatedInput } from './inputs';
import { readSource } from '../server/src/input';
import { allSections } from './sections';

interface Options {
  readonly json: boolean;
  readonly budget: number;
  readonly seed: number;
  readonly only?: string;
  readonly emit?: string;
  readonly derefStyle: 'fixed' | 'hand-over-hand';
  readonly list: boolean;
  readonly file?: string;
}

class UsageError extends Error {}

const positive = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

function program(): Command {
  return new Command()
    .name('bench')
    .description('jailcheck benchmark: parse, extraction, checks, incremental edits and LSP latencies')
    .option('--json', 'print the figures as JSON instead of a table', false)
    .option('--budget <seconds>', 'time the whole run may take (long measurements are repeated less)', positive('--budget'), 60)
    .option('--seed <n>', 'seed of the generated file', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('--seed must be an integer from 0 to 4294967295');
      return n;
    }, DEFAULT_SEED)
    .option('--only <sections>', 'run only these sections (comma-separated ids or id prefixes; see --list)')
    .option('--list', 'list the sections and exit', false)
    .option('--emit <file>', 'write the generated C file to <file> (a new file) and exit')
    .option('--file <path>', 'measure every section on this file (a FreeBSD checkout\'s sys/kern/kern_jail.c) instead of the generated one')
    .option('--deref-style <style>', 'prison_deref() of the generated file: fixed or hand-over-hand', (v) => {
      if (v !== 'fixed' && v !== 'hand-over-hand') throw new InvalidArgumentError('use fixed or hand-over-hand');
      return v;
    }, 'fixed')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

function emit(file: GeneratedFile, to: string): void {
  if (fs.existsSync(to)) throw new UsageError(`${to} already exists; --emit writes a new file only`);
  fs.writeFileSync(to, file.text, { flag: 'wx' });
  process.stderr.write(`bench: wrote ${to}: ${file.lines} lines, ${file.functions.length} functions (seed ${file.seed})\n`);
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function selected(sections: BenchSection[], only: string | undefined): BenchSection[] {
  if (!only) return sections;
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean);
  const picked = sections.filter((s) => wanted.some((w) => s.id === w || s.id.startsWith(w)));
  if (picked.length === 0) throw new UsageError(`--only ${only}: no such section (sections: ${sections.map((s) => s.id).join(', ')})`);
  return picked;
}

async function run(opts: Options): Promise<number> {
  const generated = generateKernJail({ seed: opts.seed, derefStyle: opts.derefStyle });
  if (opts.emit) {
    emit(generated, opts.emit);
    return 0;
  }
  let native: CParser;
  try {
    native = createNativeParser();
  } catch (err) {
    throw new UsageError(`the native tree-sitter binding did not load (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); the benchmark needs it`);
  }
  let wasm: CParser | undefined;
  let wasmProblem: string | undefined;
  try {
    wasm = await createParser('wasm');
  } catch (err) {
    wasmProblem = `web-tree-sitter did not load (${(err instanceof Error ? err.message : String(err)).split('\n')[0]})`;
  }
  const inputs = new Map<BenchInput['id'], BenchInput>();
  const example = exampleInput(native);
  let main: BenchInput;
  if (opts.file) {
    let text: string;
    try {
      text = readSource(opts.file);
    } catch (err) {
      throw new UsageError(`--file: ${err instanceof Error ? err.message : String(err)}`);
    }
    main = fileInput(opts.file, text, native);
  } else main = generatedInput(generated, native);
  inputs.set('example', example).set(main.id, main);
  const sections = selected(allSections(example, main), opts.only);
  if (opts.list) {
    for (const s of allSections(example, main)) process.stdout.write(`${s.id}\t${s.title}\n`);
    return 0;
  }

  const measured = new Map<string, Figure>();
  const budget = new Budget(opts.budget * 1000);
  const ctx: BenchContext = {
    inputs, native, wasm, wasmProblem, config: DEFAULT_CONFIG, budget, measured,
    progress: (m) => process.stderr.write(`bench [${(budget.elapsedMs / 1000).toFixed(0).padStart(3)} s] ${m}\n`),
  };
  const results: SectionResult[] = [];
  let failed = false;
  for (const s of sections) {
    let r: SectionResult;
    try {
      r = await s.run(ctx);
    } catch (err) {
      // One broken section must not cost the figures of the others.
      failed = true;
      r = { id: s.id, title: s.title, figures: [], skipped: `failed: ${err instanceof Error ? err.message : String(err)}`, notes: [] };
    }
    results.push(r);
    for (const f of r.figures) measured.set(`${r.id}/${f.id}`, f);
  }

  const report = {
    benchmark: 'jailcheck', version: 1, date: new Date().toISOString(), machine: machine(),
    budgetSeconds: opts.budget, elapsedSeconds: Math.round(budget.elapsedMs / 100) / 10,
    inputs: [...inputs.values()].map((i) => ({
      id: i.id, description: i.description, lines: i.lines, bytes: i.bytes,
      editTargets: i.editTargets.map((t) => ({ function: t.function, why: t.why })),
    })),
    generator: { seed: generated.seed, functions: generated.functions.length, derefStyle: opts.derefStyle },
    sections: results,
  };
  if (opts.json) {
    // Microseconds are the last meaningful digit; NaN (no p95 of one run) is null in JSON.
    const round = (_k: string, v: unknown): unknown =>
      (typeof v !== 'number' ? v : !Number.isFinite(v) ? null : Number.isInteger(v) ? v : Math.round(v * 1000) / 1000);
    process.stdout.write(`${JSON.stringify(report, round, 2)}\n`);
  } else {
    const m = report.machine;
    const head = [
      `jailcheck benchmark, ${report.date.slice(0, 16).replace('T', ' ')} UTC`,
      `node ${String(m.node)}, ${String(m.platform)}, ${String(m.cpus)} × ${String(m.cpuModel)}, load average ${(m.loadAverage as number[]).join(' ')}`,
      `inputs: ${report.inputs.map((i) => `${i.description} (${i.lines.toLocaleString('en-US')} lines, ${Math.round(i.bytes / 1024)} KB)`).join('; ')}`,
      `${report.elapsedSeconds} s of a ${opts.budget} s budget; medians and nearest-rank p95 over the runs shown, warm-up runs discarded`,
    ];
    process.stdout.write(`${head.join('\n')}\n${formatTable(results)}\n`);
  }
  return failed ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = program();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  if (cmd.args.length > 0) {
    process.stderr.write(`bench: unexpected argument ${cmd.args[0]} (see --help)\n`);
    return 2;
  }
  try {
    return await run(cmd.opts<Options>());
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`bench: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
