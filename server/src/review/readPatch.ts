/**
 * Reads a unified diff as reviewers receive it: clean from `diff -u` or
 * `git diff`, or pasted in a mail, quoted (`> `, `>> `, …) and with its
 * whitespace mangled — tabs turned to spaces, or, as in the seed thread's
 * archive, every line's leading whitespace collapsed, so that context lines
 * have lost their leading space marker altogether.
 *
 * This module only repairs: it strips the quoting, finds each hunk by the
 * line counts of its header, gives context lines their marker back, and
 * writes a clean unified diff that the `diff` package (jsdiff) then parses.
 * Every line of the result remembers its line in the patch file, so that a
 * finding can be shown on the `+` line it came from.
 */
import { parsePatch, StructuredPatch } from 'diff';
import { PatchInputError } from './errors';

export type HunkOp = ' ' | '-' | '+' | '\\';

export interface HunkLine {
  readonly op: HunkOp;
  /** The line without its marker, as the patch writes it (quoting removed). */
  readonly text: string;
  /** 1-based line in the patch file. */
  readonly patchLine: number;
  /** A context line whose leading space was lost (whitespace-mangled mail). */
  readonly markerMissing: boolean;
}

export interface PatchHunk {
  /** 1-based, in patch order. */
  readonly number: number;
  /** The `@@ … @@` part of the header line, quoting removed. */
  readonly header: string;
  /** 1-based line of the header in the patch file. */
  readonly headerLine: number;
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  readonly lines: readonly HunkLine[];
}

export interface FilePatch {
  readonly oldName?: string;
  readonly newName?: string;
  /** A binary change (`GIT binary patch`, `Binary files … differ`): no hunks to apply. */
  readonly binary: boolean;
  readonly hunks: readonly PatchHunk[];
  /** The same hunks as the `diff` package parsed them from the repaired text. */
  readonly structured: StructuredPatch;
}

export interface ReadPatch {
  readonly files: readonly FilePatch[];
  /** How many levels of mail quoting were removed (0 for a plain diff). */
  readonly quoteDepth: number;
  /** Whether any context line had lost its marker. */
  readonly markersRepaired: boolean;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
/** A trailing timestamp on a `---`/`+++` line whose tab became a space. */
const TIMESTAMP = /\s+(?:\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?[+-]\d{4})?|\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})$/;

interface QuotedLine {
  /** Levels of `>` quoting. */
  readonly depth: number;
  /** The line with all of its quoting removed. */
  readonly rest: string;
}

function unquote(line: string): QuotedLine {
  // Each level is a `>` with at most one space after it: "> > x", ">> x" and ">>> x" all work.
  const m = /^(?:> ?)*/.exec(line)!;
  return { depth: (m[0].match(/>/g) ?? []).length, rest: line.slice(m[0].length) };
}

/** The line with exactly `depth` levels of quoting removed, or undefined if it is quoted less. */
function atDepth(line: string, depth: number): string | undefined {
  let rest = line;
  for (let i = 0; i < depth; i++) {
    const m = /^> ?/.exec(rest);
    if (!m) return undefined;
    rest = rest.slice(m[0].length);
  }
  return rest;
}

function fileName(headerRest: string): string {
  const tab = headerRest.indexOf('\t');
  const name = tab >= 0 ? headerRest.slice(0, tab) : headerRest.replace(TIMESTAMP, '');
  return name.trim();
}

interface BodyResult {
  readonly lines: HunkLine[];
  /** Index of the first raw line after the hunk. */
  readonly next: number;
}

/**
 * Reads a hunk body by its header's counts. A line that starts with
 * neither marker is a context line whose leading whitespace was collapsed.
 * When `ambiguousAsContext` is set, a line such as `--tpr->pr_uref;` (a
 * pre-decrement, which after collapsing looks like a removal) is taken as
 * context: the second reading, tried when the first does not add up.
 */
function readBody(raw: readonly string[], start: number, depth: number, counts: { old: number; new: number },
  ambiguousAsContext: boolean): BodyResult | undefined {
  const lines: HunkLine[] = [];
  let old = 0;
  let neu = 0;
  let i = start;
  for (; i < raw.length && (old < counts.old || neu < counts.new); i++) {
    const s = atDepth(raw[i]!, depth);
    if (s === undefined) return undefined;
    const patchLine = i + 1;
    const ambiguous = /^(--|\+\+)[\w(&*]/.test(s);
    let op: HunkOp;
    let text: string;
    let markerMissing = false;
    if (s === '') {
      op = ' ';
      text = '';
    } else if (s[0] === '\\') {
      op = '\\';
      text = s;
    } else if ((s[0] === '+' || s[0] === '-') && !(ambiguous && ambiguousAsContext)) {
      op = s[0];
      text = s.slice(1);
    } else if (s[0] === ' ') {
      op = ' ';
      text = s.slice(1);
    } else {
      op = ' ';
      text = s;
      markerMissing = true;
    }
    if (op === ' ') { old++; neu++; }
    if (op === '-') old++;
    if (op === '+') neu++;
    if (old > counts.old || neu > counts.new) return undefined;
    lines.push({ op, text, patchLine, markerMissing });
  }
  if (old !== counts.old || neu !== counts.new) return undefined;
  // "\ No newline at end of file" may follow the last counted line.
  const after = i < raw.length ? atDepth(raw[i]!, depth) : undefined;
  if (after !== undefined && after.startsWith('\\')) {
    lines.push({ op: '\\', text: after, patchLine: i + 1, markerMissing: false });
    i++;
  }
  return { lines, next: i };
}

function cleanText(file: { oldName?: string; newName?: string }, hunks: readonly PatchHunk[]): string {
  const out: string[] = [];
  // jsdiff wants both file headers or neither; a name-less hunk-only patch stays name-less.
  if (file.oldName !== undefined || file.newName !== undefined) {
    out.push(`--- ${file.oldName ?? file.newName}`, `+++ ${file.newName ?? file.oldName}`);
  }
  for (const h of hunks) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) out.push(l.op === '\\' ? l.text : `${l.op}${l.text}`);
  }
  return `${out.join('\n')}\n`;
}

/** Reads the patch text; throws a PatchInputError with a one-line message when it is not a unified diff. */
export function readPatch(patchText: string, name = 'patch'): ReadPatch {
  if (patchText.includes('\0')) throw new PatchInputError(`${name}: this is a binary file, not a patch`);
  const raw = patchText.replace(/\r\n/g, '\n').split('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  if (raw.every((l) => l.trim() === '')) throw new PatchInputError(`${name}: is empty, not a patch`);

  const headers = raw.map((l, i) => ({ i, q: unquote(l) })).filter(({ q }) => HUNK_HEADER.test(q.rest));
  if (headers.length === 0) {
    if (raw.some((l) => /^(?:> ?)*(GIT binary patch|Binary files .* differ)/.test(l))) {
      throw new PatchInputError(`${name}: the patch changes a binary file; jailcheck reviews changes to C source`);
    }
    if (raw.some((l) => /^(?:> ?)*\*{15}/.test(l))) {
      throw new PatchInputError(`${name}: this is a context diff; jailcheck reads unified diffs (diff -u, git diff)`);
    }
    throw new PatchInputError(`${name}: no unified-diff hunk (a line like "@@ -390,8 +391,8 @@") found; is this a patch?`);
  }
  const depth = headers[0]!.q.depth;
  const other = headers.find((h) => h.q.depth !== depth);
  if (other) {
    throw new PatchInputError(`${name}: hunks are quoted at different depths (lines ${headers[0]!.i + 1} and ${other.i + 1}), so this holds more than one patch; save the one to review in a file of its own`);
  }

  const files: FilePatch[] = [];
  let current: { oldName?: string; newName?: string; binary: boolean; hunks: PatchHunk[] } | undefined;
  let markersRepaired = false;
  let number = 0;
  const close = (): void => {
    if (!current) return;
    if (current.hunks.length > 0) {
      const structured = parsePatch(cleanText(current, current.hunks));
      if (structured.length !== 1 || structured[0]!.hunks.length !== current.hunks.length) {
        throw new Error(`the repaired patch did not parse back into ${current.hunks.length} hunks`);
      }
      files.push({ oldName: current.oldName, newName: current.newName, binary: current.binary, hunks: current.hunks, structured: structured[0]! });
    } else if (current.binary) {
      files.push({ oldName: current.oldName, newName: current.newName, binary: true, hunks: [], structured: { oldFileName: '', newFileName: '', oldHeader: '', newHeader: '', hunks: [] } });
    }
    current = undefined;
  };

  for (let i = 0; i < raw.length;) {
    const s = atDepth(raw[i]!, depth);
    if (s === undefined) { i++; continue; }
    const next = i + 1 < raw.length ? atDepth(raw[i + 1]!, depth) : undefined;
    if (s.startsWith('--- ') && next !== undefined && next.startsWith('+++ ')) {
      close();
      current = { oldName: fileName(s.slice(4)), newName: fileName(next.slice(4)), binary: false, hunks: [] };
      i += 2;
      continue;
    }
    if (/^(GIT binary patch|Binary files .* differ)/.test(s)) {
      current ??= { binary: true, hunks: [] };
      current.binary = true;
      i++;
      continue;
    }
    const git = /^diff --git a\/(\S+) b\/(\S+)$/.exec(s);
    if (git || s.startsWith('diff --git ')) {
      // A new file section; its --- and +++ lines, when it has any, name it again.
      close();
      current = { oldName: git ? `a/${git[1]}` : undefined, newName: git ? `b/${git[2]}` : undefined, binary: false, hunks: [] };
      i++;
      continue;
    }
    const m = HUNK_HEADER.exec(s);
    if (!m) { i++; continue; }
    current ??= { binary: false, hunks: [] };
    number++;
    const counts = { old: m[2] === undefined ? 1 : Number(m[2]), new: m[4] === undefined ? 1 : Number(m[4]) };
    const body = readBody(raw, i + 1, depth, counts, false) ?? readBody(raw, i + 1, depth, counts, true);
    if (!body) {
      throw new PatchInputError(`${name}: hunk ${number} (${m[0]}, line ${i + 1}) does not have the ${counts.old} old and ${counts.new} new lines its header announces; the patch is cut short or garbled`);
    }
    if (body.lines.some((l) => l.markerMissing)) markersRepaired = true;
    current.hunks.push({
      number, header: m[0], headerLine: i + 1,
      oldStart: Number(m[1]), oldLines: counts.old, newStart: Number(m[3]), newLines: counts.new, lines: body.lines,
    });
    i = body.next;
  }
  close();
  return { files, quoteDepth: depth, markersRepaired };
}

function baseName(p: string): string {
  return p.replace(/\\/g, '/').split('/').pop() ?? p;
}

/**
 * The file section of the patch that applies to `baseFile`: the only one,
 * or the one named like it. It must change the file, not create, delete or
 * replace it with binary data.
 */
export function sectionFor(patch: ReadPatch, baseFile: string, name = 'patch'): FilePatch {
  const wanted = baseName(baseFile);
  const named = patch.files.filter((f) => [f.newName, f.oldName].some((n) => n !== undefined && n !== '/dev/null' && baseName(n) === wanted));
  const chosen = patch.files.length === 1 ? patch.files[0] : named.length === 1 ? named[0] : undefined;
  if (!chosen) {
    const names = patch.files.map((f) => f.newName ?? f.oldName ?? '(unnamed)').join(', ');
    throw new PatchInputError(`${name}: the patch changes ${patch.files.length} files (${names}) and ${named.length === 0 ? 'none' : 'more than one'} is named ${wanted}`);
  }
  const file = chosen.newName ?? chosen.oldName ?? 'the file';
  if (chosen.binary) throw new PatchInputError(`${name}: the patch changes ${file} as a binary file; jailcheck reviews changes to C source`);
  if (chosen.oldName === '/dev/null') throw new PatchInputError(`${name}: the patch creates ${chosen.newName}; jailcheck reviews changes to an existing file`);
  if (chosen.newName === '/dev/null') throw new PatchInputError(`${name}: the patch deletes ${chosen.oldName}; there is nothing left to review`);
  return chosen;
}
