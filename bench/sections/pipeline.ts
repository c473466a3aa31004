/**
 * The whole-file path the CLI takes, step by step, on one input: prepare
 * the text, parse it (native and WebAssembly tree-sitter), extract the IR,
 * run the static checks. Every time is also given relative to the parse
 * time measured in this same run: the goal is checks no slower than the
 * parse.
 */
import { analyzeFile } from '../../simulator/src/analysis/incremental';
import type { CParser } from '../../server/src/parsing/parser';
import { prepareKernelSource } from '../../server/src/parsing/preprocess';
import { regionParser } from '../../server/src/parsing/region';
import { extractFile, ExtractedFile } from '../../server/src/extract/index';
import type { SyntaxTree } from '../../server/src/parsing/syntax';
import type { BenchContext, BenchInput, BenchSection } from '../harness/context';
import { Figure, timingFigure, valueFigure, withRatio } from '../harness/figures';
import { measure, MeasureOptions, timed } from '../harness/measure';

/** web-tree-sitter trees live in the WebAssembly heap until deleted; the native ones are garbage collected. */
function release(tree: SyntaxTree): void {
  (tree as unknown as { delete?: () => void }).delete?.();
}

function extract(parser: CParser, tree: SyntaxTree, text: string, ctx: BenchContext): ExtractedFile {
  return extractFile(tree.rootNode, text, { vocabulary: ctx.config.vocabulary, reparse: regionParser(parser) });
}

interface Caps {
  /** Budget cap for each fast measurement (parse, extract). */
  readonly fastMs: number;
  /** Budget cap for the checks. */
  readonly checksMs: number;
}

const CAPS: Record<BenchInput['id'], Caps> = {
  example: { fastMs: 1_000, checksMs: 2_000 },
  generated: { fastMs: 2_500, checksMs: 25_000 },
  file: { fastMs: 2_500, checksMs: 25_000 },
};

export function pipelineSection(input: BenchInput): BenchSection {
  const inputId = input.id;
  const section = {
    id: `pipeline-${inputId}`,
    title: `Parse, extract, check: ${input.description}, ${input.lines.toLocaleString('en-US')} lines`,
  };
  return {
    ...section,
    async run(ctx) {
      const caps = CAPS[inputId];
      const fast = (share: number): MeasureOptions => ({ warmup: 3, minRuns: 5, maxRuns: 50, budgetMs: ctx.budget.slice(share, caps.fastMs) });
      const figures: Figure[] = [];
      const notes: string[] = [];

      ctx.progress(`${input.id}: prepare and parse`);
      let text = '';
      figures.push(timingFigure('prepare', 'prepare text (#if masking)', measure(() => timed(() => { text = prepareKernelSource(input.text); }), fast(0.05))));
      const parseNative = timingFigure('parse.native', 'parse, tree-sitter native', measure(() => timed(() => ctx.native.parse(text)), fast(0.05)));
      figures.push(parseNative);
      let parseWasm: Figure | undefined;
      if (ctx.wasm) {
        const wasm = ctx.wasm;
        parseWasm = withRatio(timingFigure('parse.wasm', 'parse, tree-sitter WASM', measure(() => {
          let tree: SyntaxTree | undefined;
          const ms = timed(() => { tree = wasm.parse(text); });
          release(tree!);
          return ms;
        }, fast(0.05))), parseNative, 'native parse');
        figures.push(parseWasm);
      } else notes.push(`WASM figures skipped: ${ctx.wasmProblem ?? 'web-tree-sitter did not load'}`);

      ctx.progress(`${input.id}: extract`);
      const nativeTree = ctx.native.parse(text);
      let ir: ExtractedFile | undefined;
      figures.push(withRatio(timingFigure('extract.native', 'extract IR, native tree',
        measure(() => timed(() => { ir = extract(ctx.native, nativeTree, text, ctx); }), fast(0.08))), parseNative, 'native parse'));
      if (ctx.wasm && parseWasm) {
        const wasmTree = ctx.wasm.parse(text);
        const wasm = ctx.wasm;
        figures.push(withRatio(timingFigure('extract.wasm', 'extract IR, WASM tree',
          measure(() => timed(() => extract(wasm, wasmTree, text, ctx)), fast(0.08))), parseWasm, 'WASM parse'));
        release(wasmTree);
      }

      ctx.progress(`${input.id}: static checks`);
      const file = ir!;
      // A run on the generated file can take seconds: warm up on the example instead of repeating it.
      const example = inputId === 'generated' ? ctx.inputs.get('example') : undefined;
      let exampleIR: ExtractedFile | undefined;
      if (example) {
        const exText = prepareKernelSource(example.text);
        exampleIR = extract(ctx.native, ctx.native.parse(exText), exText, ctx);
      }
      let analysis: ReturnType<typeof analyzeFile> | undefined;
      const checks = measure(() => timed(() => { analysis = analyzeFile(file, ctx.config); }), {
        warmup: 2, minRuns: 1, maxRuns: 30, budgetMs: ctx.budget.slice(0.5, caps.checksMs),
        ...(exampleIR ? { warmupWith: () => analyzeFile(exampleIR!, ctx.config) } : {}),
      });
      figures.push(withRatio(timingFigure('checks', 'static checks (analyzeFile)', checks,
        exampleIR ? { note: 'warm-up runs on the example file (a run here is too long to repeat just to warm up)' } : {}),
      parseNative, 'native parse'));

      const ratio = figures.find((f) => f.id === 'checks')?.ratio?.value;
      if (ratio !== undefined) {
        notes.push(`goal, static checks no slower than the native parse: ${ratio <= 1 ? 'met' : 'not met'} (${ratio.toFixed(ratio < 10 ? 2 : 0)}× the parse time)`);
      }
      const found = analysis!.findings;
      const count = (sev: string): number => found.filter((f) => f.severity === sev).length;
      figures.push(
        valueFigure('functions', 'functions read', 'count', file.functions.length),
        valueFigure('findings.error', 'findings: errors', 'count', count('error')),
        valueFigure('findings.warning', 'findings: warnings', 'count', count('warning')),
        valueFigure('incomplete', 'functions cut short by a bound', 'count',
          found.filter((f) => f.rule === 'analysis-incomplete').length),
      );
      if (inputId === 'generated' && count('error') + count('warning') > 0) {
        const where = [...new Set(found.filter((f) => f.severity !== 'information').map((f) => f.function))];
        notes.push(`the generated file is meant to be lock-correct; findings in: ${where.join(', ')}`);
      }
      return { id: section.id, title: section.title, figures, notes };
    },
  };
}
