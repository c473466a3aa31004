/** `jailcheck check FILE...`: read, analyse, print. */
import { AnalysisService } from '../analysisService';
import { InputError, readSource } from '../input';
import { LineIndex } from '../lineIndex';
import type { ParserPreference } from '../parsing/parser';
import type { SyntaxNode } from '../parsing/syntax';
import { formatText, summaryLine } from './formatText';
import { ReportFinding, toReport } from './report';

export interface CheckOptions {
  readonly format: string;
  readonly function?: string;
  readonly steps?: boolean;
  readonly parser?: string;
  /** false with --no-simulate. */
  readonly simulate?: boolean;
}

const FORMATS = ['text', 'json', 'sarif'];

/** The first place tree-sitter could not read, for the message about a file that is not C. */
function firstDamage(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type === 'ERROR' || node.isMissing) return node;
  for (const c of node.children) {
    if (c.hasError || c.isMissing) return firstDamage(c);
  }
  return undefined;
}

export async function runCheck(files: readonly string[], opts: CheckOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text, json or sarif)`);
  const parser = (opts.parser ?? 'auto') as ParserPreference;
  if (!['auto', 'native', 'wasm'].includes(parser)) throw new InputError(`unknown parser "${opts.parser}" (use auto, native or wasm)`);
  // Read and analyse everything first: a bad file fails the run before anything is printed.
  const sources = files.map((f) => ({ file: f, text: readSource(f) }));
  const service = await AnalysisService.create(parser);
  const results: Array<{ file: string; findings: ReportFinding[] }> = [];
  const notes: string[] = [];
  let functionSeen = false;
  for (const { file, text } of sources) {
    const analysed = service.analyse(text, { ...(opts.function ? { only: new Set([opts.function]) } : {}), simulate: opts.simulate !== false });
    if (analysed.ir.functions.length === 0) {
      const damage = analysed.tree.rootNode.hasError ? firstDamage(analysed.tree.rootNode) : undefined;
      if (damage) {
        const line = new LineIndex(text).position(damage.startIndex).line;
        throw new InputError(`${file}: does not look like C source: it defines no function, and line ${line} is not C`);
      }
      notes.push(`${file}: defines no function; nothing to check`);
    }
    if (opts.function && analysed.ir.functions.some((f) => f.name === opts.function)) functionSeen = true;
    const index = new LineIndex(text);
    const findings = analysed.findings
      .filter((f) => !opts.function || f.function === opts.function)
      .map((f) => toReport(file, index, f));
    results.push({ file, findings });
  }
  if (opts.function && !functionSeen) {
    throw new InputError(`no function named ${opts.function} in ${files.length === 1 ? files[0] : 'any of the files'}`);
  }
  for (const n of notes) process.stderr.write(`jailcheck: ${n}\n`);
  const all = results.flatMap((r) => r.findings);
  const code = all.some((f) => f.severity !== 'information') ? 1 : 0;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A reader that stops early (`| head`) is not a failure of the check; a full disk is.
    if (err.code !== 'EPIPE') process.stderr.write(`jailcheck: cannot write the output: ${err.code ?? err.message}\n`);
    process.exit(err.code === 'EPIPE' ? code : 2);
  });
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
  return code;
}
