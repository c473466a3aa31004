/**
 * `jailcheck review --patch FILE.diff BASE.c` and `jailcheck review --git
 * REV [FILE]`: what a patch fixes, what it introduces, what it leaves.
 *
 * Locations are in the version where a finding exists. A fixed finding is
 * in the base file, so it is shown at the base file's lines. An introduced
 * finding exists only in the patched text, which with --patch is nowhere on
 * disk: it is shown as `BASE.c (patched)`, so that it is never mistaken
 * for a line of the file as it is now, while `file:line:col` parsers still
 * read it (the name is everything before the last two colons). With --git
 * the patched text is the working tree's file, so it is shown under its own
 * name, and the base as `REV:path`, git's name for it. Unchanged findings
 * are shown where they are after the patch, with `was` giving the base
 * location in JSON.
 */
import type { Command } from 'commander';
import type { Log } from 'sarif';
import { AnalysisService } from '../analysisService';
import { InputError, readPatchFile, readSource } from '../input';
import { LineIndex } from '../lineIndex';
import type { ParserPreference } from '../parsing/parser';
import { baseFromGit } from '../review/git';
import { reviewPatch, ReviewResult, reviewTexts } from '../review/reviewPatch';
import { formatText } from './formatText';
import { locate, ReportFinding, ReportLocation, toReport } from './report';

export interface ReviewCliOptions {
  readonly patch?: string;
  readonly git?: string;
  readonly format: string;
  readonly steps?: boolean;
  readonly parser?: string;
  readonly fuzz?: string;
  /** false with --no-simulate. */
  readonly simulate?: boolean;
}

export type UnchangedReport = ReportFinding & { readonly was: ReportLocation };

export interface ReviewReport {
  readonly version: 1;
  readonly base: string;
  readonly patched: string;
  /** The patch file (--patch), or null (--git). */
  readonly patch: string | null;
  readonly git?: { readonly rev: string; readonly path: string };
  readonly hunks: ReadonlyArray<{
    readonly number: number; readonly header: string; readonly patchLine?: number;
    readonly baseLine: number; readonly patchedLine: number; readonly offset: number; readonly fuzz: number; readonly reindented: boolean;
  }>;
  readonly functions: readonly string[];
  readonly wholeFile: boolean;
  readonly fixed: readonly ReportFinding[];
  readonly introduced: readonly ReportFinding[];
  readonly unchanged: readonly UnchangedReport[];
}

const FORMATS = ['text', 'json', 'sarif'];


export function toReviewReport(result: ReviewResult, names: { base: string; patched: string; patch: string | null; git?: { rev: string; path: string } }): ReviewReport {
  const baseIndex = new LineIndex(result.baseText);
  const patchedIndex = new LineIndex(result.patchedText);
  return {
    version: 1,
    base: names.base,
    patched: names.patched,
    patch: names.patch,
    ...(names.git ? { git: names.git } : {}),
    hunks: result.applied.hunks.map((h) => ({
      number: h.number, header: h.header, ...(names.patch !== null ? { patchLine: h.headerLine } : {}),
      baseLine: h.baseLine, patchedLine: h.patchedLine, offset: h.offset, fuzz: h.fuzz, reindented: h.reindented,
    })),
    functions: result.scope.functions,
    wholeFile: result.scope.wholeFile,
    fixed: result.fixed.map((f) => toReport(names.base, baseIndex, f)),
    introduced: result.introduced.map((f) => toReport(names.patched, patchedIndex, f)),
    unchanged: result.unchanged.map((u) => ({ ...toReport(names.patched, patchedIndex, u.patched), was: locate(names.base, baseIndex, u.base.range) })),
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatReviewText(report: ReviewReport, options: { readonly steps?: boolean; readonly quoteDepth: number }): string {
  const out: string[] = [];
  const notes = [plural(report.hunks.length, 'hunk')];
  if (options.quoteDepth > 0) notes.push(`${options.quoteDepth} level${options.quoteDepth === 1 ? '' : 's'} of mail quoting removed`);
  out.push(report.patch !== null
    ? `jailcheck review: ${report.patch} applied to ${report.base} in memory (${notes.join('; ')})`
    : `jailcheck review: ${report.patched} compared with ${report.base} (${notes.join('; ')})`);
  for (const h of report.hunks) {
    const said: string[] = [];
    if (h.offset !== 0) said.push(`offset ${h.offset} line${Math.abs(h.offset) === 1 ? '' : 's'}`);
    if (h.fuzz > 0) said.push(`fuzz ${h.fuzz}`);
    if (h.reindented) said.push('whitespace mangled: added lines indented from their neighbours');
    if (said.length) out.push(`  hunk ${h.number} (${h.header}) at line ${h.baseLine}: ${said.join(', ')}`);
  }
  const fns = report.functions.map((f) => `${f}()`).join(', ');
  out.push(report.wholeFile
    ? `compared every function: the patch changes code outside functions`
    : `compared: ${fns || 'no function (the patch changes none)'}`);
  const group = (title: string, findings: readonly ReportFinding[]): void => {
    out.push('', `${title} (${findings.length})`);
    const text = formatText(findings, { steps: options.steps });
    if (text) out.push(text);
  };
  group('fixed', report.fixed);
  group('introduced', report.introduced);
  group('unchanged', report.unchanged);
  const errors = report.introduced.filter((f) => f.severity !== 'information').length;
  out.push('', `jailcheck review: fixes ${report.fixed.length}, introduces ${report.introduced.length}${errors !== report.introduced.length ? ` (${errors} not notes)` : ''}, leaves ${report.unchanged.length} unchanged`);
  return out.join('\n');
}

export async function toReviewSarif(report: ReviewReport): Promise<Log> {
  const { toSarif } = await import('./formatSarif');
  const groups = [
    ...report.fixed.map((f) => ({ f, state: 'absent' as const })),
    ...report.introduced.map((f) => ({ f, state: 'new' as const })),
    ...report.unchanged.map((f) => ({ f, state: 'unchanged' as const })),
  ];
  // toSarif makes display names such as `kern_jail.c (patched)` or `HEAD:sys/kern/kern_jail.c` URI references.
  const log = toSarif(groups.map((g) => g.f));
  const results = log.runs[0]!.results ?? [];
  results.forEach((r, i) => { r.baselineState = groups[i]!.state; });
  return log;
}

export async function runReview(file: string | undefined, opts: ReviewCliOptions): Promise<number> {
  if (!FORMATS.includes(opts.format)) throw new InputError(`unknown format "${opts.format}" (use text, json or sarif)`);
  const parser = (opts.parser ?? 'auto') as ParserPreference;
  if (!['auto', 'native', 'wasm'].includes(parser)) throw new InputError(`unknown parser "${opts.parser}" (use auto, native or wasm)`);
  const fuzz = Number(opts.fuzz ?? '2');
  if (!Number.isInteger(fuzz) || fuzz < 0) throw new InputError(`--fuzz needs a whole number of lines, not "${opts.fuzz}"`);
  if ((opts.patch === undefined) === (opts.git === undefined)) {
    throw new InputError('review needs either --patch FILE.diff BASE.c or --git REV [FILE]');
  }

  let result: ReviewResult;
  let names: { base: string; patched: string; patch: string | null; git?: { rev: string; path: string } };
  if (opts.patch !== undefined) {
    if (file === undefined) throw new InputError('--patch needs the base file: jailcheck review --patch FILE.diff BASE.c');
    // Read both before anything is analysed: a bad input fails the run before output starts.
    const patchText = readPatchFile(opts.patch);
    const baseText = readSource(file);
    const service = await AnalysisService.create(parser);
    result = reviewPatch(baseText, patchText, { service, fuzz, baseName: file, patchName: opts.patch, simulate: opts.simulate !== false });
    names = { base: file, patched: `${file} (patched)`, patch: opts.patch };
  } else {
    const rev = opts.git!;
    const base = baseFromGit(rev, file);
    const patchedText = readSource(base.file);
    const service = await AnalysisService.create(parser);
    result = reviewTexts(base.baseText, patchedText, { service, baseName: base.file, patchName: `the change since ${rev}`, simulate: opts.simulate !== false });
    names = { base: `${rev}:${base.repoPath}`, patched: base.file, patch: null, git: { rev, path: base.repoPath } };
  }

  const report = toReviewReport(result, names);
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (opts.format === 'sarif') {
    process.stdout.write(`${JSON.stringify(await toReviewSarif(report), null, 2)}\n`);
  } else {
    process.stdout.write(`${formatReviewText(report, { steps: opts.steps, quoteDepth: result.quoteDepth })}\n`);
  }
  return report.introduced.some((f) => f.severity !== 'information') ? 1 : 0;
}

export function registerReview(program: Command): void {
  program
    .command('review')
    .description('review a patch: the findings it fixes, introduces and leaves unchanged')
    .argument('[file]', 'with --patch: the base C file; with --git: the file to compare (default: the checkout\'s kern_jail.c)')
    .option('--patch <diff>', 'a unified diff (plain, or quoted and whitespace-mangled in a mail) to apply to FILE in memory')
    .option('--git <rev>', 'compare the working tree\'s FILE with its version in this revision')
    .option('-f, --format <format>', 'text, json or sarif', 'text')
    .option('--no-steps', 'text format: omit the path of each finding')
    .option('--fuzz <lines>', 'context lines a hunk may miss and still apply, as patch(1)\'s fuzz', '2')
    .option('--no-simulate', 'leave out the simulator\'s interleaving findings (faster)')
    .option('--parser <backend>', 'tree-sitter binding: auto, native or wasm', 'auto')
    .action(async (file: string | undefined, opts: ReviewCliOptions) => {
      process.exitCode = await runReview(file, opts);
    });
}
