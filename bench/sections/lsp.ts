/**
 * Latencies of the language server over stdio, as an editor sees them, with
 * the debounce off (and the background simulator off, so a publication is
 * the static checks' alone): didOpen until publishDiagnostics, a
 * one-character didChange until publishDiagnostics for that version, and
 * hover. Measured only when dist/server.js has been built.
 */
import * as fs from 'fs';
import type { BenchContext, BenchInput, BenchSection } from '../harness/context';
import { skipped } from '../harness/context';
import { Figure, timingFigure, withRatio } from '../harness/figures';
import { LspSession, positionAt } from '../harness/lspSession';
import { measureAsync, timedAsync } from '../harness/measure';
import { EDITS } from './incremental';

const SETTINGS = { debounceMs: 0, simulator: { background: false } };
const HOVERS = 50;
const TYPED = 'abcdefghijklmnopqrstuvwxyz';

async function measureInput(ctx: BenchContext, session: LspSession, input: BenchInput): Promise<Figure[]> {
  const parse = ctx.measured.get(`pipeline-${input.id}/parse.native`);
  const full = ctx.measured.get(`pipeline-${input.id}/checks`)?.timing?.median ?? 10_000;
  const limit = Math.max(30_000, full * 5);
  const figures: Figure[] = [];
  let n = 0;
  const uriOf = (): string => `file:///jailcheck-bench/${input.id}-${++n}.c`;

  // Opening is a whole analysis: repeated when it is cheap, once when it is not.
  const cheap = full < 1_000;
  let uri = '';
  const open = await measureAsync(async () => {
    if (uri) await session.close(uri);
    uri = uriOf();
    const u = uri;
    return timedAsync(() => session.open(u, input.text, limit));
  }, { warmup: cheap ? 2 : 0, minRuns: 1, maxRuns: cheap ? 10 : 1, budgetMs: ctx.budget.slice(0.2, 5_000) });
  figures.push(withRatio(timingFigure('open', 'didOpen → publishDiagnostics', open), parse, 'full native parse'));

  const target = input.editTargets[0];
  if (!target) return figures;
  let offset = target.offset;
  let version = 1;
  let typed = 0;
  const change = await measureAsync(async () => {
    const at = positionAt(input.text, offset);
    const ch = TYPED[typed++ % TYPED.length]!;
    version++;
    const ms = await timedAsync(() => session.insert(uri, version, at, ch, limit));
    offset++;
    return ms;
  }, { warmup: 5, minRuns: 20, maxRuns: EDITS, budgetMs: ctx.budget.slice(0.3, 20_000) });
  figures.push(withRatio(timingFigure('change', `didChange (one character in ${target.function}()) → publishDiagnostics`, change),
    parse, 'full native parse'));

  // Hover over each line of the edited function in turn. The inserted characters are all
  // before the typing spot's line end, so positions on other lines have not moved.
  const fnStart = input.text.lastIndexOf('\n{', target.offset);
  const firstLine = positionAt(input.text, fnStart).line + 2;
  const lastLine = Math.max(firstLine, positionAt(input.text, target.offset).line);
  let h = 0;
  const hover = await measureAsync(async () => {
    const line = firstLine + (h++ % Math.max(1, lastLine - firstLine + 1));
    return timedAsync(() => session.hover(uri, { line, character: 1 }, limit));
  }, { warmup: 5, minRuns: 10, maxRuns: HOVERS, budgetMs: ctx.budget.slice(0.2, 10_000) });
  figures.push(timingFigure('hover', `hover in ${target.function}()`, hover));
  await session.close(uri);
  return figures;
}

export function lspSection(input: BenchInput, serverPath: string): BenchSection {
  const section = { id: `lsp-${input.id}`, title: `Language server over stdio, debounce 0, background simulation off: ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      if (!fs.existsSync(serverPath)) return skipped(section, `${serverPath} does not exist (npm run build makes it once server/src/lsp/server.ts exists)`);
      // Opening analyses the whole file in the server; the edits each re-analyse a part of it.
      const full = ctx.measured.get(`pipeline-${input.id}/checks`)?.timing?.median;
      if (full !== undefined && full * 3 > ctx.budget.remainingMs) {
        return skipped(section, `opening the document analyses it all (about ${(full / 1000).toFixed(1)} s), which with the edits needs ` +
          `about ${(full * 3 / 1000).toFixed(0)} s, and ${(ctx.budget.remainingMs / 1000).toFixed(0)} s of the time budget are left; run with a larger --budget`);
      }
      ctx.progress(`lsp: start the server, open ${input.id}`);
      const session = await LspSession.start(serverPath, SETTINGS);
      try {
        return { ...section, figures: await measureInput(ctx, session, input), notes: [] };
      } finally {
        await session.stop();
      }
    },
  };
}
