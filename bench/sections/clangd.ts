/**
 * clangd on the same file and the same edits, in the same run, for the
 * language-server figures' comparison (the issue's yardstick: a letter
 * typed in prison_deref() should be answered within a third of clangd's
 * p95). Debian's clangd-22 (or any `clangd` on the PATH); the section says
 * so when there is none. clangd reads the file without a compilation
 * database, so it reports the kernel headers it cannot find: what is
 * measured is how soon it answers, not what it says.
 */
import { spawnSync } from 'child_process';
import type { BenchInput, BenchSection } from '../harness/context';
import { skipped } from '../harness/context';
import { Figure, timingFigure } from '../harness/figures';
import { LspSession, positionAt } from '../harness/lspSession';
import { timedAsync } from '../harness/measure';
import { distribution } from '../harness/stats';

const TYPED = 'abcdefghijklmnopqrstuvwxyz';

export function findClangd(): string | undefined {
  for (const name of ['clangd-22', 'clangd']) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return undefined;
}

export function clangdSection(input: BenchInput): BenchSection {
  const section = { id: `clangd-${input.id}`, title: `clangd over stdio, the same edits: ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      const clangd = findClangd();
      if (!clangd) return skipped(section, 'clangd is not installed (Debian: apt install clangd-22); no comparison in this run');
      ctx.progress(`clangd: open ${input.id}`);
      const session = await LspSession.start(clangd, null, ['--log=error', '--pch-storage=memory']);
      const figures: Figure[] = [];
      try {
        const uri = `file:///jailcheck-bench/clangd-${input.id}.c`;
        const open = await timedAsync(() => session.open(uri, input.text, 60_000));
        figures.push(timingFigure('open', 'didOpen → publishDiagnostics', distribution([open], 0)));
        let text = input.text;
        let version = 1;
        const shift: Array<{ at: number; by: number }> = [];
        for (const target of input.editTargets) {
          let offset = target.offset + shift.filter((s) => s.at <= target.offset).reduce((n, s) => n + s.by, 0);
          const samples: number[] = [];
          let typed = 0;
          for (let i = 0; i < 23; i++) {
            const ch = TYPED[typed++ % TYPED.length]!;
            const at = positionAt(text, offset);
            text = text.slice(0, offset) + ch + text.slice(offset);
            offset++;
            const ms = await timedAsync(() => session.insert(uri, ++version, at, ch, 60_000));
            if (i >= 3) samples.push(ms);
          }
          shift.push({ at: target.offset, by: typed });
          figures.push(timingFigure(`edit.${target.function}`, `letter typed in ${target.function}() → publishDiagnostics`, distribution(samples, 3)));
        }
      } finally {
        await session.stop();
      }
      return { ...section, figures, notes: [`${clangd}, no compilation database`] };
    },
  };
}
