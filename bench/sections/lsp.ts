/**
 * Latencies of the language server over stdio, as an editor sees them, with
 * the debounce off (and the background simulator off, so a publication is
 * the static checks' alone):
 * - didOpen until the complete diagnostics;
 * - a letter typed into an identifier of each edit target (prison_deref(),
 *   kern_jail_set(), a leaf function), until the diagnostics of that version
 *   (the first publication: when a summary changed, the edited function's
 *   findings come first and its callers' follow) and until the complete ones;
 * - hover in a leaf function while an analysis of prison_deref() is under
 *   way (the analysis runs in the worker: the hover must not wait for it);
 * - the server's memory after open and after 1,000 edits.
 * Measured only when dist/server.js has been built.
 */
import * as fs from 'fs';
import type { BenchContext, BenchInput, BenchSection, EditTarget } from '../harness/context';
import { skipped } from '../harness/context';
import { Figure, timingFigure, valueFigure, withRatio } from '../harness/figures';
import { LspSession, positionAt } from '../harness/lspSession';
import { measureAsync, timedAsync } from '../harness/measure';
import { distribution } from '../harness/stats';

const SETTINGS = { debounceMs: 0, simulator: { background: false } };
const TYPED = 'abcdefghijklmnopqrstuvwxyz';
export const EDITS_PER_TARGET = 40;
const MEMORY_EDITS = 1000;

/** One document's text as the server has it, and where the next letter goes in each target. */
class Document {
  text: string;
  version = 1;
  private typed = 0;
  readonly offsets = new Map<string, number>();

  constructor(readonly uri: string, input: BenchInput) {
    this.text = input.text;
    for (const t of input.editTargets) this.offsets.set(t.function, t.offset);
  }

  /** Types one letter into `target`'s identifier: the server is told, the offsets after it move. */
  type(session: LspSession, target: EditTarget, limit: number): { published: Promise<unknown>; complete: Promise<unknown>; version: number } {
    const offset = this.offsets.get(target.function)!;
    const ch = TYPED[this.typed++ % TYPED.length]!;
    const at = positionAt(this.text, offset);
    this.text = this.text.slice(0, offset) + ch + this.text.slice(offset);
    for (const [f, o] of this.offsets) if (o >= offset) this.offsets.set(f, o + 1);
    const version = ++this.version;
    const complete = session.complete(this.uri, version, limit);
    const published = session.insert(this.uri, version, at, ch, limit);
    return { published, complete, version };
  }
}

async function measureInput(ctx: BenchContext, session: LspSession, input: BenchInput): Promise<{ figures: Figure[]; notes: string[] }> {
  const parse = ctx.measured.get(`pipeline-${input.id}/parse.native`);
  const full = ctx.measured.get(`pipeline-${input.id}/checks`)?.timing?.median ?? 10_000;
  const limit = Math.max(60_000, full * 10);
  const figures: Figure[] = [];
  const notes: string[] = [];
  let n = 0;
  const uriOf = (): string => `file:///jailcheck-bench/${input.id}-${++n}.c`;

  // Opening is a whole analysis: repeated a few times, each a new document (nothing cached).
  let doc: Document | undefined;
  const open = await measureAsync(async () => {
    if (doc) await session.close(doc.uri);
    const d = new Document(uriOf(), input);
    doc = d;
    return timedAsync(async () => {
      const done = session.complete(d.uri, 1, limit);
      await session.open(d.uri, input.text, limit);
      await done;
    });
  }, { warmup: 1, minRuns: 3, maxRuns: 8, budgetMs: ctx.budget.slice(0.15, 20_000) });
  figures.push(withRatio(timingFigure('open', 'didOpen → complete diagnostics', open), parse, 'full native parse'));
  const rssOpen = await session.memory();

  for (const target of input.editTargets) {
    const first: number[] = [];
    const whole: number[] = [];
    ctx.progress(`lsp ${input.id}: letters typed into ${target.identifier} in ${target.function}()`);
    const deadline = performance.now() + ctx.budget.slice(0.15, 60_000);
    for (let i = 0; i < EDITS_PER_TARGET + 3 && (i < 8 || performance.now() < deadline); i++) {
      const t0 = performance.now();
      const e = doc!.type(session, target, limit);
      await e.published;
      const t1 = performance.now();
      await e.complete;
      const t2 = performance.now();
      // The first few warm the server up.
      if (i < 3) continue;
      first.push(t1 - t0);
      whole.push(t2 - t0);
    }
    const key = target.function;
    figures.push(withRatio(timingFigure(`edit.${key}`, `letter typed in ${key}() → its diagnostics`, distribution(first, 3), { note: target.why }), parse, 'full native parse'));
    figures.push(timingFigure(`edit.${key}.complete`, `  → complete diagnostics (callers included)`, distribution(whole, 3)));
  }

  // Hover in a leaf function while an edit of prison_deref() is being analysed.
  const deref = input.editTargets.find((t) => t.function === 'prison_deref');
  const leaf = input.editTargets[input.editTargets.length - 1];
  if (deref && leaf && leaf !== deref) {
    ctx.progress(`lsp ${input.id}: hover in ${leaf.function}() while prison_deref() is analysed`);
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const e = doc!.type(session, deref, limit);
      const at = positionAt(doc!.text, doc!.offsets.get(leaf.function)!);
      const t0 = performance.now();
      await session.hover(doc!.uri, at, limit);
      samples.push(performance.now() - t0);
      await e.complete;
    }
    figures.push(timingFigure('hover.busy', `hover in ${leaf.function}() while prison_deref() is analysed`, distribution(samples.slice(3), 3)));
  }

  // Memory: the server process (its analysis worker is a thread of it) after open, then after many edits.
  if (leaf) {
    ctx.progress(`lsp ${input.id}: ${MEMORY_EDITS} edits for the memory figure`);
    const deadline = performance.now() + ctx.budget.slice(0.3, 120_000);
    let made = 0;
    for (; made < MEMORY_EDITS && performance.now() < deadline; made++) {
      const e = doc!.type(session, leaf, limit);
      await e.complete;
    }
    const rssAfter = await session.memory();
    if (rssOpen && rssAfter) {
      figures.push(valueFigure('memory.open', 'server memory after open (RSS)', 'bytes', rssOpen));
      figures.push(valueFigure('memory.edits', `server memory after ${made} more edits (RSS)`, 'bytes', rssAfter,
        { ratio: { value: rssAfter / rssOpen, to: 'memory after open' } }));
      if (made < MEMORY_EDITS) notes.push(`the memory figure is after ${made} edits, not ${MEMORY_EDITS}: the time budget ran out`);
    }
  }
  await session.close(doc!.uri);
  return { figures, notes };
}

export function lspSection(input: BenchInput, serverPath: string): BenchSection {
  const section = { id: `lsp-${input.id}`, title: `Language server over stdio, debounce 0, background simulation off: ${input.description}` };
  return {
    ...section,
    async run(ctx) {
      if (!fs.existsSync(serverPath)) return skipped(section, `${serverPath} does not exist (npm run build makes it once server/src/lsp/server.ts exists)`);
      const full = ctx.measured.get(`pipeline-${input.id}/checks`)?.timing?.median;
      if (full !== undefined && full * 6 > ctx.budget.remainingMs) {
        return skipped(section, `opening the document analyses it all (about ${(full / 1000).toFixed(1)} s), which with the edits needs ` +
          `about ${(full * 6 / 1000).toFixed(0)} s, and ${(ctx.budget.remainingMs / 1000).toFixed(0)} s of the time budget are left; run with a larger --budget`);
      }
      ctx.progress(`lsp: start the server, open ${input.id}`);
      const session = await LspSession.start(serverPath, SETTINGS);
      try {
        const { figures, notes } = await measureInput(ctx, session, input);
        return { ...section, figures, notes };
      } finally {
        await session.stop();
      }
    },
  };
}
