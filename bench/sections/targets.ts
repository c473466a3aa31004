/**
 * The speed goals of the language server and the CLI, each checked against
 * the figures measured earlier in this same run (so a busy machine moves
 * the figure and its yardstick together): one line per goal, its figure,
 * and whether it is met. Nothing is measured here.
 */
import type { BenchInput, BenchSection } from '../harness/context';
import { Figure, valueFigure } from '../harness/figures';

interface Goal {
  readonly id: string;
  readonly label: string;
  readonly value: (m: ReadonlyMap<string, Figure>) => number | undefined;
  readonly unit: Figure['unit'];
  /** The value may be at most this. */
  readonly atMost: number;
  readonly goal: string;
}

const p95 = (m: ReadonlyMap<string, Figure>, id: string): number | undefined => m.get(id)?.timing?.p95;
const med = (m: ReadonlyMap<string, Figure>, id: string): number | undefined => m.get(id)?.timing?.median ?? m.get(id)?.value;

export function targetsSection(input: BenchInput): BenchSection {
  const i = input.id;
  const section = { id: `targets-${i}`, title: `Goals, from this run's figures: ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      const goals: Goal[] = [];
      for (const t of input.editTargets) {
        const f = t.function;
        goals.push({ id: `edit.${f}`, label: `letter typed in ${f}() → its diagnostics, p95`, unit: 'ms', atMost: 30,
          value: (m) => p95(m, `lsp-${i}/edit.${f}`), goal: 'under 30 ms' });
        goals.push({ id: `edit.${f}.clangd`, label: `  the same, over a third of clangd's p95`, unit: 'ratio', atMost: 1,
          value: (m) => {
            const ours = p95(m, `lsp-${i}/edit.${f}`);
            const theirs = p95(m, `clangd-${i}/edit.${f}`);
            return ours !== undefined && theirs !== undefined && theirs > 0 ? ours / (theirs / 3) : undefined;
          }, goal: 'at most 1 (no slower than a third of clangd)' });
      }
      goals.push(
        { id: 'open', label: 'didOpen → complete diagnostics, median', unit: 'ms', atMost: 300, value: (m) => med(m, `lsp-${i}/open`), goal: 'under 300 ms' },
        { id: 'hover', label: 'hover while another function is analysed, p95', unit: 'ms', atMost: 5, value: (m) => p95(m, `lsp-${i}/hover.busy`), goal: 'under 5 ms' },
        {
          id: 'analysis', label: 'whole-file static analysis (extract + checks), over the native parse', unit: 'ratio', atMost: 3,
          value: (m) => {
            const parse = med(m, `pipeline-${i}/parse.native`);
            const extract = med(m, `pipeline-${i}/extract.native`);
            const checks = med(m, `pipeline-${i}/checks`);
            return parse && extract !== undefined && checks !== undefined ? (extract + checks) / parse : undefined;
          }, goal: 'at most 3×',
        },
        { id: 'process', label: 'check --no-simulate, new process, median', unit: 'ms', atMost: 1000, value: (m) => med(m, `process-${i}/check`), goal: 'under 1 s' },
        { id: 'memory', label: 'server memory after the edits, over after open', unit: 'ratio', atMost: 1.2, value: (m) => m.get(`lsp-${i}/memory.edits`)?.ratio?.value, goal: 'at most 1.2' },
      );
      const figures: Figure[] = [];
      const notes: string[] = [];
      for (const g of goals) {
        const v = g.value(ctx.measured);
        if (v === undefined) {
          notes.push(`${g.label}: not measured in this run`);
          continue;
        }
        figures.push(valueFigure(g.id, g.label, g.unit, v, { note: `goal ${g.goal}: ${v <= g.atMost ? 'met' : 'not met'}` }));
      }
      return { ...section, figures, notes };
    },
  };
}
