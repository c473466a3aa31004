/**
 * Applies one file's hunks to the base text, in memory, with the `diff`
 * package's applyPatch: offsets as far as the hunk must move, fuzz (context
 * lines that differ) up to a bound, context compared with whitespace
 * ignored. Context lines keep the base file's own text; lines a mangled
 * patch adds get their indentation from their neighbours.
 *
 * applyPatch returns only the new text. To know where every line came from
 * (which `+` line of the patch a line of the patched text is, which base
 * lines were removed) each base line is tagged with its number and each
 * added line replaced by a numbered marker before applying; the result is
 * then read back line by line and the tags removed.
 */
import { applyPatch, StructuredPatch } from 'diff';
import { PatchDoesNotApply } from './errors';
import { indentFor, indentUnit } from './indent';
import type { FilePatch, HunkLine, PatchHunk } from './readPatch';

/** patch(1) gives up beyond a fuzz of 2 by default; so do we. */
export const DEFAULT_FUZZ = 2;

export interface HunkPlacement {
  readonly number: number;
  readonly header: string;
  /** 1-based line of the header in the patch file. */
  readonly headerLine: number;
  /** 1-based line of the base file where the hunk's first old line is. */
  readonly baseLine: number;
  /** 1-based line of the patched text where the hunk's first new line is. */
  readonly patchedLine: number;
  /** `baseLine` minus the line the header names, as patch(1) reports it. */
  readonly offset: number;
  /** Context lines that did not match the base file (patch(1)'s fuzz). */
  readonly fuzz: number;
  /** Whether the hunk's added lines were re-indented (its whitespace was mangled). */
  readonly reindented: boolean;
}

/** Where a line of the patched text came from. Lines and patch lines are 1-based. */
export type PatchedLineOrigin =
  | { readonly kind: 'base'; readonly baseLine: number; readonly patchLine?: number; readonly hunk?: number }
  | { readonly kind: 'added'; readonly patchLine: number; readonly hunk: number };

/** What became of a line of the base file. */
export type BaseLineFate =
  | { readonly kind: 'kept'; readonly patchedLine: number; readonly patchLine?: number; readonly hunk?: number }
  | { readonly kind: 'removed'; readonly patchLine: number; readonly hunk: number };

export interface AppliedPatch {
  readonly text: string;
  readonly hunks: readonly HunkPlacement[];
  /** Index i describes line i + 1 of the patched text. */
  readonly patchedLines: readonly PatchedLineOrigin[];
  /** Index i describes line i + 1 of the base text. */
  readonly baseLines: readonly BaseLineFate[];
}

export interface ApplyOptions {
  readonly fuzz?: number;
  /** Names for messages. */
  readonly baseName?: string;
  readonly patchName?: string;
}

// Private-use characters: they do not occur in C source (decodeSource has
// already refused binary input), so a tag cannot be confused with text.
const TAG = '\uE000';
const ADD = '\uE001';
const END = '\uE002';

const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim();
const untag = (s: string): string => (s.startsWith(TAG) ? s.slice(s.indexOf(END) + 1) : s);

function compareIgnoringWhitespace(_n: number, line: string | undefined, _op: string, content: string): boolean {
  return line !== undefined && normalise(untag(line)) === normalise(content);
}

interface Working {
  readonly lines: string[];
  /** Lines of the base, without the empty string after a final newline. */
  readonly count: number;
  readonly tagged: string;
  readonly eol: string;
}

function prepare(base: string): Working {
  const eol = base.includes('\r\n') ? '\r\n' : '\n';
  const lines = base.replace(/\r\n/g, '\n').split('\n');
  const count = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  const tagged = lines.map((l, i) => (i < count ? `${TAG}${i}${END}${l}` : l)).join('\n');
  return { lines, count, tagged, eol };
}

/** The patch with each `+` line replaced by a marker naming it. */
function marked(file: FilePatch): { patch: StructuredPatch; added: MarkedLine[] } {
  const added: MarkedLine[] = [];
  const hunks = file.structured.hunks.map((h, hi) => {
    const own = file.hunks[hi]!.lines;
    if (own.length !== h.lines.length) throw new Error(`hunk ${hi + 1}: ${own.length} lines read but ${h.lines.length} parsed`);
    return {
      ...h,
      lines: h.lines.map((l, li) => {
        if (!l.startsWith('+')) return l;
        added.push({ hunk: hi, line: own[li]! });
        return `+${ADD}${added.length - 1}${END}`;
      }),
    };
  });
  return { patch: { ...file.structured, hunks }, added };
}

function oldSide(h: PatchHunk): HunkLine[] {
  return h.lines.filter((l) => l.op === ' ' || l.op === '-');
}

/** Explains why hunk `k` (0-based) cannot be placed: where it fits best, and the first line that differs there. */
function diagnose(work: Working, file: FilePatch, patch: StructuredPatch, k: number, opts: ApplyOptions): PatchDoesNotApply {
  const hunk = file.hunks[k]!;
  const old = oldSide(hunk);
  const base = work.lines.slice(0, work.count).map(normalise);
  const want = old.map((l) => normalise(l.text));
  const expectedAt = hunk.oldStart - 1;
  let best = -1;
  let bestScore = 0;
  for (let t = 0; t < base.length; t++) {
    let score = 0;
    for (let i = 0; i < want.length; i++) if (base[t + i] === want[i]) score++;
    if (score > bestScore || (score === bestScore && score > 0 && Math.abs(t - expectedAt) < Math.abs(best - expectedAt))) {
      best = t;
      bestScore = score;
    }
  }
  const where = `hunk ${hunk.number} (${hunk.header}, line ${hunk.headerLine} of ${opts.patchName ?? 'the patch'})`;
  const baseName = opts.baseName ?? 'the base file';
  if (best < 0) {
    const first = old[0]?.text.trim() ?? '';
    return new PatchDoesNotApply(`${where} does not apply to ${baseName}: it expects "${first}", which is nowhere in ${baseName}`,
      hunk.number, hunk.header, first, undefined);
  }
  const miss = want.findIndex((w, i) => base[best + i] !== w);
  if (miss < 0) {
    // Every line is there, yet applyPatch refused: the hunk fits only before an earlier hunk's place.
    const previous = file.hunks[k - 1];
    const single = applyPatch(work.tagged, { ...patch, hunks: [patch.hunks[k]!] }, { fuzzFactor: 0, compareLine: compareIgnoringWhitespace });
    if (single !== false && previous) {
      return new PatchDoesNotApply(`${where} does not apply to ${baseName}: its lines are at line ${best + 1}, before where hunk ${previous.number} (${previous.header}) applied; the hunks are out of order or overlap`,
        hunk.number, hunk.header, old[0]!.text.trim(), best + 1);
    }
  }
  const at = miss < 0 ? 0 : miss;
  const expected = old[at]!.text.trim();
  const line = best + at + 1;
  const found = line <= work.count ? `"${work.lines[line - 1]!.trim()}"` : 'the end of the file';
  return new PatchDoesNotApply(`${where} does not apply to ${baseName}: expected "${expected}" at line ${line}, found ${found}`,
    hunk.number, hunk.header, expected, line);
}

/**
 * Hunks must come in file order without overlapping, as patch(1) requires
 * ("misordered hunks! output would be garbled"). The `diff` package does
 * not check this, and applies a misordered hunk a second time over text it
 * has already copied (the same failure is reported against it in
 * vybestack/llxprt-code#3597), so it is refused here first.
 */
function checkOrder(file: FilePatch, opts: ApplyOptions): void {
  for (let k = 1; k < file.hunks.length; k++) {
    const prev = file.hunks[k - 1]!;
    const h = file.hunks[k]!;
    if (h.oldStart < prev.oldStart + prev.oldLines) {
      throw new PatchDoesNotApply(`hunk ${h.number} (${h.header}, line ${h.headerLine} of ${opts.patchName ?? 'the patch'}) starts before the end of hunk ${prev.number} (${prev.header}): the hunks are out of order or overlap, and patch(1) refuses such a patch too`,
        h.number, h.header, oldSide(h)[0]?.text.trim() ?? '', undefined);
    }
  }
}

export function applyFilePatch(base: string, file: FilePatch, opts: ApplyOptions = {}): AppliedPatch {
  checkOrder(file, opts);
  const work = prepare(base);
  const { patch, added } = marked(file);
  const options = { fuzzFactor: opts.fuzz ?? DEFAULT_FUZZ, compareLine: compareIgnoringWhitespace, autoConvertLineEndings: false };
  const result = applyPatch(work.tagged, patch, options);
  if (result === false) {
    for (let k = 0; k < patch.hunks.length; k++) {
      if (applyPatch(work.tagged, { ...patch, hunks: patch.hunks.slice(0, k + 1) }, options) === false) {
        throw diagnose(work, file, patch, k, opts);
      }
    }
    throw new Error('applyPatch refused the patch but accepted each of its prefixes');
  }
  return readBack(work, file, result, added, opts);
}

type Slot = { kind: 'base'; index: number } | { kind: 'added'; index: number };
type MarkedLine = { readonly hunk: number; readonly line: HunkLine };
type Origin = { kind: 'base'; baseLine: number; patchLine?: number; hunk?: number } | { kind: 'added'; patchLine: number; hunk: number };
type Fate = { kind: 'kept'; patchedLine: number; patchLine?: number; hunk?: number } | { kind: 'removed'; patchLine: number; hunk: number };

/** The origin of each line of applyPatch's result; refuses a result in which hunks overlap. */
function readSlots(result: string[], file: FilePatch, added: readonly MarkedLine[], opts: ApplyOptions): Slot[] {
  const slots: Slot[] = result.map((l) => {
    if (l.startsWith(TAG)) return { kind: 'base', index: Number(l.slice(1, l.indexOf(END))) };
    if (l.startsWith(ADD)) return { kind: 'added', index: Number(l.slice(1, l.indexOf(END))) };
    throw new Error(`a line of the patched text has no origin: ${JSON.stringify(l)}`);
  });
  // Base lines must come through once each and in order; if fuzz let two
  // hunks claim the same lines, the result would repeat text.
  let last = -1;
  for (const [p, s] of slots.entries()) {
    if (s.kind !== 'base') continue;
    if (s.index <= last) {
      const later = slots.slice(p).find((x) => x.kind === 'added');
      const h = file.hunks[later ? added[later.index]!.hunk : file.hunks.length - 1]!;
      throw new PatchDoesNotApply(`hunk ${h.number} (${h.header}, line ${h.headerLine} of ${opts.patchName ?? 'the patch'}) fits only over lines an earlier hunk already changed (around line ${s.index + 1} of ${opts.baseName ?? 'the base file'}): the hunks overlap`,
        h.number, h.header, oldSide(h)[0]?.text.trim() ?? '', s.index + 1);
    }
    last = s.index;
  }
  return slots;
}

/**
 * Walks each hunk alongside the text: `-` lines take the removed base
 * lines in order, `+` lines their markers, context lines the base lines
 * between. Records each line's patch line in `origins` and `fates`, and
 * returns where each hunk landed and whether its whitespace was mangled.
 */
function placeHunks(work: Working, file: FilePatch, origins: Origin[], fates: Fate[], addedAt: readonly number[]): Array<HunkPlacement & { mangled: boolean }> {
  const removed = fates.flatMap((f, i) => (f.kind === 'removed' ? [i] : []));
  let nextRemoved = 0;
  let nextAdded = 0;
  return file.hunks.map((h) => {
    const lines = h.lines.filter((l) => l.op !== '\\');
    const removedHere = removed.slice(nextRemoved, nextRemoved += lines.filter((l) => l.op === '-').length);
    const addedHere = addedAt.slice(nextAdded, nextAdded += lines.filter((l) => l.op === '+').length);
    // The first line the hunk changes fixes where its leading context is.
    const anchor = lines.findIndex((l) => l.op !== ' ');
    let bp: number | undefined;
    if (anchor >= 0 && lines[anchor]!.op === '-') bp = removedHere[0]! - anchor;
    else if (anchor >= 0) {
      const first = origins[addedHere[0]! - anchor];
      bp = first?.kind === 'base' ? first.baseLine - 1 : undefined;
    }
    const baseLine = (bp ?? 0) + 1;
    let firstPatched: number | undefined;
    let fuzz = 0;
    let mangled = false;
    let r = 0;
    let a = 0;
    for (const l of lines) {
      if (l.markerMissing) mangled = true;
      if (l.op === '-') {
        const b = removedHere[r++]!;
        fates[b] = { kind: 'removed', patchLine: l.patchLine, hunk: h.number };
        if (work.lines[b] !== l.text) mangled = true;
        bp = b + 1;
      } else if (l.op === '+') {
        firstPatched ??= addedHere[a++]! + 1;
      } else if (bp !== undefined) {
        const f = fates[bp];
        if (f?.kind === 'kept' && normalise(work.lines[bp]!) === normalise(l.text)) {
          fates[bp] = { ...f, patchLine: l.patchLine, hunk: h.number };
          origins[f.patchedLine - 1] = { kind: 'base', baseLine: bp + 1, patchLine: l.patchLine, hunk: h.number };
          firstPatched ??= f.patchedLine;
          if (work.lines[bp] !== l.text) mangled = true;
        } else fuzz++;
        bp++;
      }
    }
    const expected = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    return {
      number: h.number, header: h.header, headerLine: h.headerLine, baseLine, patchedLine: firstPatched ?? baseLine,
      offset: baseLine - expected, fuzz, reindented: mangled && addedHere.length > 0, mangled,
    };
  });
}

function readBack(work: Working, file: FilePatch, result: string, added: readonly MarkedLine[], opts: ApplyOptions): AppliedPatch {
  const out = result.split('\n');
  const finalNewline = out[out.length - 1] === '';
  if (finalNewline) out.pop();
  const slots = readSlots(out, file, added, opts);

  const origins: Origin[] = [];
  const fates: Fate[] = Array.from({ length: work.count }, () => ({ kind: 'removed', patchLine: 0, hunk: 0 }));
  const addedAt: number[] = new Array(added.length).fill(-1);
  slots.forEach((s, p) => {
    if (s.kind === 'base') {
      origins.push({ kind: 'base', baseLine: s.index + 1 });
      fates[s.index] = { kind: 'kept', patchedLine: p + 1 };
    } else {
      const a = added[s.index]!;
      origins.push({ kind: 'added', patchLine: a.line.patchLine, hunk: a.hunk + 1 });
      addedAt[s.index] = p;
    }
  });
  const placed = placeHunks(work, file, origins, fates, addedAt);

  const unit = indentUnit(work.lines);
  const text: string[] = [];
  for (const s of slots) {
    if (s.kind === 'base') {
      text.push(work.lines[s.index]!);
      continue;
    }
    const a = added[s.index]!;
    text.push(placed[a.hunk]!.mangled ? indentFor(text, a.line.text, unit) + a.line.text.trim() : a.line.text);
  }
  return {
    text: text.join(work.eol) + (finalNewline ? work.eol : ''),
    hunks: placed.map(({ mangled: _, ...h }) => h),
    patchedLines: origins,
    baseLines: fates,
  };
}
