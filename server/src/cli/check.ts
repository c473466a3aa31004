/** `jailcheck check FILE...`: read, analyse, print. */
import * as fs from 'fs';
import { AnalysisService } from '../analysisService';
import { decodeSource, InputError } from '../input';
import { LineIndex } from '../lineIndex';
import type { ParserPreference } from '../parsing/parser';
import { formatText, summaryLine } from './formatText';
import { ReportFinding, toReport } from './report';

export interface CheckOptions {
  readonly format: string;
  readonly function?: string;
  readonly steps?: boolean;
  readonly parser?: string;
}

const FORMATS = ['text', 'json', 'sarif'];

export function readSource(file: string): string {
  let bytes: Uint8Array;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new InputError(`${file}: is a directory, not a C file`);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  return decodeSource(bytes, file);
}

export async function runCheck(files: readonly string[], opts: CheckOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text, json or sarif)`);
  const parser = (opts.parser ?? 'auto') as ParserPreference;
  if (!['auto', 'native', 'wasm'].includes(parser)) throw new InputError(`unknown parser "${opts.parser}" (use auto, native or wasm)`);
  // Read everything first: a bad file fails the run before anything is printed.
  const sources = files.map((f) => ({ file: f, text: readSource(f) }));
  const service = await AnalysisService.create(parser);
  const results: Array<{ file: string; findings: ReportFinding[] }> = [];
  for (const { file, text } of sources) {
    const analysed = service.analyse(text);
    if (opts.function && !analysed.ir.functions.some((f) => f.name === opts.function)) {
      throw new InputError(`${file}: no function named ${opts.function}`);
    }
    const index = new LineIndex(text);
    const findings = analysed.findings
      .filter((f) => !opts.function || f.function === opts.function)
      .map((f) => toReport(file, index, f));
    results.push({ file, findings });
  }
  const all = results.flatMap((r) => r.findings);
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify({ version: 1, files: results.map((r) => r.file), findings: all }, null, 2)}\n`);
  } else if (opts.format === 'sarif') {
    const { toSarif } = await import('./formatSarif');
    process.stdout.write(`${JSON.stringify(toSarif(all), null, 2)}\n`);
  } else {
    const text = formatText(all, { steps: opts.steps });
    if (text) process.stdout.write(`${text}\n`);
    process.stdout.write(`${summaryLine(all, results.length)}\n`);
  }
  return all.some((f) => f.severity !== 'information') ? 1 : 0;
}
