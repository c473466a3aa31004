/**
 * The simulator on the bundled example: how long the revival scenario takes
 * to produce its counterexample (world building included), how many
 * executions a second the explorer runs, and what sleep sets save on three-
 * thread scenarios explored to the last interleaving, with and without them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AnalysisService } from '../../server/src/analysisService';
import { applyFilePatch } from '../../server/src/review/apply';
import { readPatch } from '../../server/src/review/readPatch';
import { Simulator } from '../../simulator/src/sim/simulate';
import { readScenarios } from '../../simulator/src/sim/userScenario';
import type { BenchInput, BenchSection } from '../harness/context';
import { Figure, timingFigure, valueFigure } from '../harness/figures';
import { measure, timed } from '../harness/measure';
import { projectRoot } from '../paths';

/** The example with the seed thread's second patch applied (no violation left): its .diff, applied as the reviewer does. */
function secondPatch(base: string): string {
  const file = path.join(projectRoot(), 'test', 'fixtures', 'patches', 'seed-second-patch.diff');
  const patch = readPatch(fs.readFileSync(file, 'utf8'), file);
  return applyFilePatch(base, patch.files[0]!, { fuzz: 2 }).text;
}

export function simulatorSection(example: BenchInput): BenchSection {
  return {
    id: 'simulator-example',
    title: `Simulator: ${example.description}`,
    async run(ctx) {
      const figures: Figure[] = [];
      const notes: string[] = [];
      const service = AnalysisService.withParser(ctx.native);
      const analysed = service.analyse(example.text);
      const fresh = (): Simulator => new Simulator(analysed.ir, ctx.config, analysed.ledger.rows, analysed.analysis.summaries);
      const revival = fresh().scenarios('prison_deref').find((s) => s.name === 'revival-by-attach');
      if (!revival) return { id: 'simulator-example', title: 'Simulator', figures, notes, skipped: 'the example has no revival-by-attach scenario' };

      ctx.progress('simulator: first counterexample');
      let found = false;
      const first = measure(() => timed(() => {
        // A new simulator each time: the world is built again, as on a first run.
        const r = fresh().run(revival, { deadline: Infinity });
        found = r.verdict === 'violation';
      }), { warmup: 3, minRuns: 10, maxRuns: 200, budgetMs: ctx.budget.slice(0.05, 3_000) });
      figures.push(timingFigure('first-counterexample', 'revival-by-attach: first counterexample (world built from boot)', first,
        { note: found ? 'root-uref-zero, 0 preemptions' : 'NO COUNTEREXAMPLE FOUND' }));

      ctx.progress('simulator: executions per second');
      // The second patch has no violation: every scenario of prison_deref() is explored to the end.
      const patched = secondPatch(example.text);
      const a2 = service.analyse(patched);
      let executions = 0;
      let scenarios = 0;
      const all = measure(() => timed(() => {
        const sim = new Simulator(a2.ir, ctx.config, a2.ledger.rows, a2.analysis.summaries);
        const r = sim.simulate('prison_deref', { timeBudgetMs: 60_000 });
        executions = r.scenarios.reduce((n, s) => n + s.executions, 0);
        scenarios = r.scenarios.length;
      }), { warmup: 1, minRuns: 3, maxRuns: 20, budgetMs: ctx.budget.slice(0.1, 10_000) });
      figures.push(timingFigure('all-scenarios', `prison_deref(), every built-in scenario (${scenarios}), the seed's second patch applied`, all));
      figures.push(valueFigure('executions', 'executions explored in them', 'count', executions));
      figures.push(valueFigure('executions-per-second', 'executions per second', 'per-second', executions / (all.median / 1000)));

      for (const file of ['three-holds.json', 'mixed-three.json']) {
        ctx.progress(`simulator: reduction, ${file}`);
        const text = fs.readFileSync(path.join(projectRoot(), 'test', 'fixtures', 'sim', file), 'utf8');
        const sim = fresh();
        const [spec] = readScenarios(text, sim.program);
        const t0 = performance.now();
        const r = sim.run(spec!, { deadline: Infinity, compareReduction: true, timeBudgetMs: 60_000 });
        const ms = performance.now() - t0;
        const red = r.reduction!;
        const id = file.replace('.json', '');
        figures.push(valueFigure(`${id}.without`, `${spec!.name}: executions without reduction (every interleaving)`, 'count', red.withoutReduction.executions,
          { note: red.withoutReduction.verdict }));
        figures.push(valueFigure(`${id}.with`, `${spec!.name}: executions with sleep sets`, 'count', red.withReduction.executions,
          { note: red.withReduction.verdict, ratio: { value: red.withoutReduction.executions / red.withReduction.executions, to: 'reduction (without ÷ with)' } }));
        figures.push(valueFigure(`${id}.dpor`, `${spec!.name}: executions with source-set DPOR and sleep sets`, 'count', red.withDpor.executions,
          { note: red.withDpor.verdict, ratio: { value: red.withoutReduction.executions / red.withDpor.executions, to: 'reduction (without ÷ with)' } }));
        if (red.withReduction.verdict !== red.withoutReduction.verdict || red.withDpor.verdict !== red.withoutReduction.verdict) {
          notes.push(`${spec!.name}: VERDICTS DIFFER (sleep sets ${red.withReduction.verdict}, DPOR ${red.withDpor.verdict}, none ${red.withoutReduction.verdict})`);
        }
        notes.push(`${spec!.name}: the three explorations took ${(ms / 1000).toFixed(1)} s`);
      }
      return { id: 'simulator-example', title: `Simulator: ${example.description}`, figures, notes };
    },
  };
}
