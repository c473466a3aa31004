/**
 * Patch review in one call: apply the patch to the base text in memory,
 * analyse both versions' touched functions with every check, and say which
 * findings the patch fixes, which it introduces and which it leaves.
 *
 * This is the whole interface a front end needs. The CLI prints the
 * result; a language-server feature can put introduced findings on the
 * patch's `+` lines with {@link patchAnchor}. Findings keep the offsets of
 * the version they exist in (fixed: base text; introduced: patched text;
 * unchanged: both), and the result carries both texts to resolve them.
 */
import { createTwoFilesPatch } from 'diff';
import type { Finding } from '../../../simulator/src/findings';
import type { JailcheckConfig } from '../../../simulator/src/config';
import { DEFAULT_CONFIG } from '../../../simulator/src/config';
import type { AnalysedText, AnalysisService } from '../analysisService';
import { AppliedPatch, applyFilePatch, DEFAULT_FUZZ } from './apply';
import { classifyInScope, functionExtents, touchedScope } from './compare';
import { readPatch, sectionFor } from './readPatch';

export interface ReviewOptions {
  readonly service: AnalysisService;
  readonly config?: JailcheckConfig;
  /** Context lines a hunk may miss and still apply (patch(1)'s fuzz); default 2. */
  readonly fuzz?: number;
  /** The base file's name: for messages, and to pick its section of a patch that changes several files. */
  readonly baseName?: string;
  /** The patch's name, for messages. */
  readonly patchName?: string;
  /** Run the simulator's built-in scenarios on both versions (default true), within these budgets (each version's). */
  readonly simulate?: boolean | { readonly timeBudgetMs?: number; readonly maxPreemptions?: number };
  /** Asked during the analyses: true abandons the review (Cancelled is thrown). */
  readonly shouldStop?: () => boolean;
}

export interface ReviewScope {
  /** The functions compared, sorted. */
  readonly functions: readonly string[];
  /** Whether the patch changes code outside functions, so that every function was compared. */
  readonly wholeFile: boolean;
}

export interface ReviewResult {
  readonly baseText: string;
  readonly patchedText: string;
  readonly applied: AppliedPatch;
  /** Levels of mail quoting removed from the patch. */
  readonly quoteDepth: number;
  readonly scope: ReviewScope;
  /** In the base text's offsets. */
  readonly fixed: readonly Finding[];
  /** In the patched text's offsets. */
  readonly introduced: readonly Finding[];
  readonly unchanged: ReadonlyArray<{ readonly base: Finding; readonly patched: Finding }>;
  readonly timings: { readonly applyMs: number; readonly analyseMs: number };
}

/** Reviews `patchText` against `baseText`. Throws PatchInputError or PatchDoesNotApply (both InputErrors) before any analysis. */
export function reviewPatch(baseText: string, patchText: string, options: ReviewOptions): ReviewResult {
  const t0 = performance.now();
  const read = readPatch(patchText, options.patchName);
  const file = sectionFor(read, options.baseName ?? '', options.patchName);
  const applied = applyFilePatch(baseText, file, {
    fuzz: options.fuzz ?? DEFAULT_FUZZ, baseName: options.baseName, patchName: options.patchName,
  });
  const t1 = performance.now();
  return compareVersions(baseText, applied, read.quoteDepth, options, t1 - t0);
}

/**
 * Reviews the change from `baseText` to `patchedText` (for `--git`: a
 * revision against the working tree). The difference is written as a
 * unified diff and reviewed like any patch, so both paths agree.
 */
export function reviewTexts(baseFile: string, patchedFile: string, options: ReviewOptions): ReviewResult {
  const t0 = performance.now();
  // Compared with Unix line endings: a file whose endings changed is not a
  // changed file, and lines and columns (what findings are shown by) are the same.
  const baseText = baseFile.replace(/\r\n/g, '\n');
  const patchedText = patchedFile.replace(/\r\n/g, '\n');
  if (baseText === patchedText) {
    const lines = baseText.split('\n').length;
    const applied: AppliedPatch = {
      text: patchedText, hunks: [],
      patchedLines: Array.from({ length: lines }, (_, i) => ({ kind: 'base', baseLine: i + 1 })),
      baseLines: Array.from({ length: lines }, (_, i) => ({ kind: 'kept', patchedLine: i + 1 })),
    };
    return compareVersions(baseText, applied, 0, options, performance.now() - t0);
  }
  const diff = createTwoFilesPatch('base', 'patched', baseText, patchedText, '', '', { context: 3 });
  const read = readPatch(diff, options.patchName);
  const applied = applyFilePatch(baseText, read.files[0]!, { fuzz: 0, baseName: options.baseName, patchName: options.patchName });
  if (applied.text !== patchedText) throw new Error('the difference between the two versions did not reproduce the second one');
  return compareVersions(baseText, applied, 0, options, performance.now() - t0);
}

function compareVersions(baseText: string, applied: AppliedPatch, quoteDepth: number, options: ReviewOptions, applyMs: number): ReviewResult {
  const steps = compareSteps(baseText, applied, quoteDepth, options, applyMs, options.simulate ?? true);
  let next = steps.next();
  while (!next.done) next = steps.next([]);
  return next.value;
}

/**
 * The review as steps: after analysing each version (without the
 * simulator), the caller is asked for that version's interleaving findings
 * (`yield analysed`, answered with `next(findings)`). The synchronous review
 * runs the simulator inside the analysis instead and answers with nothing;
 * the language server's review answers after an asynchronous simulation, so
 * that it can serve edits in between.
 */
function* compareSteps(baseText: string, applied: AppliedPatch, quoteDepth: number, options: ReviewOptions, applyMs: number,
  simulate: ReviewOptions['simulate']): Generator<AnalysedText, ReviewResult, Finding[]> {
  const config = options.config ?? DEFAULT_CONFIG;
  const service = options.service;
  const t0 = performance.now();
  // Parse both versions once to find the functions; analyse only those the patch touches.
  const baseLines = baseText.replace(/\r\n/g, '\n').split('\n');
  const patchedLines = applied.text.replace(/\r\n/g, '\n').split('\n');
  const changes = [
    ...applied.baseLines.flatMap((f, i) => (f.kind === 'removed' ? [{ version: 'base' as const, line: i + 1, text: baseLines[i] ?? '' }] : [])),
    ...applied.patchedLines.flatMap((o, i) => (o.kind === 'added' ? [{ version: 'patched' as const, line: i + 1, text: patchedLines[i] ?? '' }] : [])),
  ];
  // Where each version's functions are: the front end's sites, without analysing anything.
  const sitesOf = (text: string): Array<{ name: string; start: number; end: number }> => service.functionSites(text, config);
  const extents = { base: functionExtents(baseText, sitesOf(baseText)), patched: functionExtents(applied.text, sitesOf(applied.text)) };
  const touched = touchedScope(changes, extents);
  const wholeFile = touched.outside.length > 0;
  const functions = wholeFile
    ? new Set([...extents.base, ...extents.patched].map((e) => e.name))
    : touched.functions;
  const only = wholeFile ? undefined : functions;
  // The ledger's findings are the whole file's: those the service left out (they point at no
  // touched function) are still compared, so that one that stops pointing at the patch is not fixed.
  const everything = function* (text: string): Generator<AnalysedText, Finding[], Finding[]> {
    const a = service.analyse(text, { config, only, simulate, shouldStop: options.shouldStop });
    // Only findings are kept (plain data): the tree can go.
    service.release(a);
    const more = yield a;
    return [...new Set([...a.findings, ...a.ledger.findings, ...more])];
  };
  const before = yield* everything(baseText);
  const after = yield* everything(applied.text);
  const classified = classifyInScope(
    { findings: before, text: baseText, extents: extents.base },
    { findings: after, text: applied.text, extents: extents.patched },
    functions, config,
  );
  return {
    baseText, patchedText: applied.text, applied, quoteDepth,
    scope: { functions: [...functions].sort(), wholeFile },
    ...classified,
    timings: { applyMs, analyseMs: performance.now() - t0 },
  };
}

/**
 * reviewPatch() for a server that must keep answering: each version is
 * analysed without the simulator, then `interleavings` (which may take its
 * time, yielding to the event loop) gives its interleaving findings.
 */
export async function reviewPatchAsync(baseText: string, patchText: string,
  options: ReviewOptions & { readonly interleavings: (analysed: AnalysedText) => Promise<Finding[]> }): Promise<ReviewResult> {
  const t0 = performance.now();
  const read = readPatch(patchText, options.patchName);
  const file = sectionFor(read, options.baseName ?? '', options.patchName);
  const applied = applyFilePatch(baseText, file, {
    fuzz: options.fuzz ?? DEFAULT_FUZZ, baseName: options.baseName, patchName: options.patchName,
  });
  const steps = compareSteps(baseText, applied, read.quoteDepth, options, performance.now() - t0, false);
  let next = steps.next();
  while (!next.done) {
    const analysed = next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
    next = steps.next(await options.interleavings(analysed));
  }
  return next.value;
}

/** Where a line of one version is shown in the patch file. */
export interface PatchAnchor {
  /** 1-based line of the patch file. */
  readonly patchLine: number;
  /**
   * `added`/`removed`: the `+`/`-` line that is this line; `context`: a
   * context line that is this line; `hunk`: the line is not in the patch,
   * and this is the header of the hunk before it (or the first hunk).
   */
  readonly kind: 'added' | 'removed' | 'context' | 'hunk';
}

/**
 * The patch-file line for a 1-based line of the base or patched text: an
 * introduced finding's line maps to the `+` line that added it, a fixed
 * finding's to the `-` line that removed it.
 */
export function patchAnchor(result: ReviewResult, version: 'base' | 'patched', line: number): PatchAnchor | undefined {
  const entry = version === 'patched' ? result.applied.patchedLines[line - 1] : result.applied.baseLines[line - 1];
  if (entry && entry.patchLine !== undefined) {
    const kind = entry.kind === 'added' ? 'added' : entry.kind === 'removed' ? 'removed' : 'context';
    return { patchLine: entry.patchLine, kind };
  }
  const hunks = result.applied.hunks;
  if (hunks.length === 0) return undefined;
  const at = (h: (typeof hunks)[number]): number => (version === 'patched' ? h.patchedLine : h.baseLine);
  const before = hunks.filter((h) => at(h) <= line);
  const h = before.length > 0 ? before[before.length - 1]! : hunks[0]!;
  return { patchLine: h.headerLine, kind: 'hunk' };
}
