/**
 * `jailcheck check --no-simulate FILE` as a new process, as CI or a shell
 * runs it: Node's start, loading the bundle and the parser, and the whole
 * file's checks. Measured only when dist/cli.js has been built.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchInput, BenchSection } from '../harness/context';
import { skipped } from '../harness/context';
import { timingFigure } from '../harness/figures';
import { measure } from '../harness/measure';

export function processSection(input: BenchInput, cliPath: string): BenchSection {
  const section = { id: `process-${input.id}`, title: `jailcheck check --no-simulate, a new process: ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      if (!fs.existsSync(cliPath)) return skipped(section, `${cliPath} does not exist (npm run build makes it)`);
      // The text as the benchmark has it, in a file of its own (the generated one exists nowhere else).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-bench-'));
      const file = path.join(dir, 'kern_jail.c');
      fs.writeFileSync(file, input.text);
      try {
        ctx.progress(`${input.id}: jailcheck check --no-simulate in new processes`);
        let failure: string | undefined;
        const runs = measure(() => {
          const t0 = performance.now();
          const r = spawnSync(process.execPath, [cliPath, 'check', '--no-simulate', '--format', 'json', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          const ms = performance.now() - t0;
          // Exit 0 and 1 are answers (nothing found, findings); anything else is a failure to report.
          if (r.status !== 0 && r.status !== 1) failure = `exit ${r.status}: ${r.stderr.split('\n')[0]}`;
          return ms;
        }, { warmup: 1, minRuns: 3, maxRuns: 10, budgetMs: ctx.budget.slice(0.1, 20_000) });
        if (failure) return skipped(section, `jailcheck check failed (${failure})`);
        return { ...section, figures: [timingFigure('check', 'check --no-simulate, new process', runs)], notes: [] };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
