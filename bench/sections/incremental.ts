/**
 * Re-analysis after an edit, the way the language server's worker does it,
 * in process: one DocumentAnalyzer per document, opened once, then one
 * letter at a time typed at the end of an identifier of each edit target
 * (so every version is new and its IR differs). Each update re-parses
 * incrementally, re-extracts what changed, re-analyses the edited function,
 * and its callers only if its summary changed (early cutoff).
 */
import { DocumentAnalyzer, DocumentResult } from '../../server/src/incremental';
import type { BenchContext, BenchInput, BenchSection, EditTarget } from '../harness/context';
import { skipped } from '../harness/context';
import { Figure, timingFigure, valueFigure, withRatio } from '../harness/figures';
import { median } from '../harness/stats';
import { measure, timed } from '../harness/measure';

export const EDITS = 100;
const WARMUP_EDITS = 5;
const TYPED = 'abcdefghijklmnopqrstuvwxyz';

function editTarget(ctx: BenchContext, da: DocumentAnalyzer, input: BenchInput, target: EditTarget,
  start: { text: string; version: number; shift: Array<{ at: number; by: number }> }): Figure[] {
  let text = start.text;
  // Letters typed before this target's identifier (in an earlier target) moved it.
  let offset = target.offset + start.shift.filter((s) => s.at <= target.offset).reduce((n, s) => n + s.by, 0);
  const from = target.offset;
  let typed = 0;
  const results: DocumentResult[] = [];
  const edit = (): number => {
    text = text.slice(0, offset) + TYPED[typed % TYPED.length]! + text.slice(offset);
    offset++;
    typed++;
    let r: DocumentResult | undefined;
    const ms = timed(() => { r = da.update(text, ++start.version); });
    results.push(r!);
    return ms;
  };
  const latency = measure(edit, {
    warmup: WARMUP_EDITS, minRuns: 20, maxRuns: EDITS, budgetMs: ctx.budget.slice(0.3, input.id === 'example' ? 6_000 : 15_000),
  });
  start.text = text;
  start.shift.push({ at: from, by: typed });
  const measured = results.slice(results.length - latency.runs);
  const med = (f: (r: DocumentResult) => number): number => median(measured.map(f).sort((a, b) => a - b));
  const parse = ctx.measured.get(`pipeline-${input.id}/parse.native`);
  const key = target.function;
  return [
    withRatio(timingFigure(`edit.${key}`, `one-character edit in ${key}()`, latency, { note: target.why }), parse, 'full native parse'),
    valueFigure(`edit.${key}.parse`, '  of which incremental parse (median)', 'ms', med((r) => r.timings.parseMs)),
    valueFigure(`edit.${key}.extract`, '  of which finding and extracting functions (median)', 'ms', med((r) => r.timings.extractMs)),
    valueFigure(`edit.${key}.checks`, '  of which checks (median)', 'ms', med((r) => r.timings.analyseMs)),
    valueFigure(`edit.${key}.reanalysed`, '  functions re-analysed per edit (median)', 'count', med((r) => r.reanalysed)),
  ];
}

export function incrementalSection(input: BenchInput): BenchSection {
  const section = { id: `incremental-${input.id}`, title: `Incremental re-analysis (DocumentAnalyzer): ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      if (input.editTargets.length === 0) return skipped(section, 'no function with a variable to type into');
      // Opening analyses the whole file once; with the checks as slow as measured, that may not fit.
      const full = ctx.measured.get(`pipeline-${input.id}/checks`)?.timing?.median;
      if (full !== undefined && full * 1.5 > ctx.budget.remainingMs) {
        return skipped(section, `opening the document analyses it all (about ${(full / 1000).toFixed(1)} s) and ` +
          `${(ctx.budget.remainingMs / 1000).toFixed(1)} s of the time budget are left; run with a larger --budget`);
      }
      ctx.progress(`${input.id}: open the document (one full analysis)`);
      const da = new DocumentAnalyzer(ctx.native, ctx.config);
      const state = { text: input.text, version: 1, shift: [] as Array<{ at: number; by: number }> };
      let opened: DocumentResult | undefined;
      const open = measure(() => timed(() => { opened = da.update(input.text, state.version); }), { warmup: 0, minRuns: 1, maxRuns: 1, budgetMs: 0 });
      const figures: Figure[] = [
        withRatio(timingFigure('open', 'first update (document opened)', open, { note: 'one run: parse, extract and analyse everything' }),
          ctx.measured.get(`pipeline-${input.id}/parse.native`), 'full native parse'),
        valueFigure('open.functions', 'functions analysed on open', 'count', opened!.reanalysed),
      ];
      for (const target of input.editTargets) {
        ctx.progress(`${input.id}: ${EDITS} edits in ${target.function}()`);
        figures.push(...editTarget(ctx, da, input, target, state));
      }
      return { ...section, figures, notes: [] };
    },
  };
}
