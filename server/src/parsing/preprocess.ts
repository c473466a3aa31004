/**
 * Makes kernel C palatable to tree-sitter without moving a single offset.
 *
 * tree-sitter-c understands #if/#ifdef groups that hold whole statements or
 * declarations, but not a group that sits inside an expression or holds
 * half a statement. Real kern_jail.c has both:
 *
 *     while (pr1 != &prison0 &&          #ifdef VIMAGE
 *     #ifdef VIMAGE                              if (refcount_release(&pr->pr_ref))
 *            !(pr1->pr_flags & PR_VNET) &&     #endif
 *     #endif                                             free(pr, M_PRISON);
 *            !(pr1->pr_flags & PR_IP4_USER))
 *
 * and one such group can turn a whole `#ifdef INET` region, with every
 * function in it, into one ERROR node. For those groups only, the directive
 * lines are blanked (spaces, newlines kept) and so are all branches but
 * one: the code then reads as it does when that branch is compiled — the
 * one vocabulary.defines selects, or else the first. Groups of whole statements are left alone; the statement
 * lowering explores both of their sides.
 */

interface LineInfo {
  readonly start: number;
  readonly end: number;
  readonly directive?: 'if' | 'elif' | 'else' | 'endif';
  /** Paren depth at the start of the line, in code outside comments and literals. */
  depthBefore: number;
  parenDelta: number;
  braceDelta: number;
  /** The last character of code on the line (comments and blanks ignored), or '' if none. */
  last: string;
}

interface Group {
  readonly ifLine: number;
  /** Line indexes of #if, each #elif/#else, and #endif. */
  readonly marks: number[];
  readonly parent?: Group;
  /** Which branch of the parent holds this group (0 = the first). */
  readonly parentBranch: number;
}

const DIRECTIVE = /^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b/;

/**
 * Attribute macros that tree-sitter cannot place (`void *arg __unused`), and
 * `static` in front of a file-scope macro invocation (`static
 * SYSCTL_NODE(...)`), which otherwise swallows the function after it.
 */
const ATTRIBUTES = /\b(?:__unused|__used|__dead2|__pure2|__always_inline|__noinline|__result_use_check|__restrict|__packed|__sentinel|__aligned\([^()\n]*\)|__printflike\([^()\n]*\)|__nonnull\([^()\n]*\))(?![\w(])/g;
const STATIC_MACRO = /^static(?=[ \t]+[A-Z][A-Z0-9_]*[ \t]*\()/gm;
/**
 * A file-scope macro invocation whose first argument is empty
 * (`SYSCTL_JAIL_PARAM(, jid, ...)`): `(, ` is not C, and tree-sitter's
 * recovery can take the `static` of the next function with it. `, ` becomes
 * `0,` (same length).
 */
const EMPTY_FIRST_ARGUMENT = /^([A-Z][A-Z0-9_]*\(), /gm;

/**
 * Everything the front end does to the text before tree-sitter sees it;
 * offsets never move. `defines` (vocabulary.defines) chooses the branch of
 * a group inside an expression; without an answer it is the first.
 */
export function prepareKernelSource(text: string, defines: Readonly<Record<string, boolean>> = {}): string {
  const blanked = text.replace(ATTRIBUTES, (m) => ' '.repeat(m.length)).replace(STATIC_MACRO, '      ')
    .replace(EMPTY_FIRST_ARGUMENT, (_, head: string) => `${head}0,`);
  return maskPreprocessorInExpressions(blanked, defines);
}

export function maskPreprocessorInExpressions(text: string, defines: Readonly<Record<string, boolean>> = {}): string {
  if (!text.includes('#')) return text;
  const lines = scanLines(text);
  const groups = findGroups(lines);
  if (groups.length === 0) return text;
  const blank = new Uint8Array(lines.length);
  // Masked group → the branch it is read as (-1: none, every condition false).
  const kept = new Map<Group, number>();
  for (const g of groups) {
    // A group in a branch of a masked group that is not read was blanked with that branch.
    if (g.parent !== undefined && kept.has(g.parent) && kept.get(g.parent) !== g.parentBranch) continue;
    if (!needsMasking(g, lines)) continue;
    const keep = branchToRead(g, text, lines, defines);
    kept.set(g, keep);
    for (const m of g.marks) blank[m] = 1;
    for (let b = 0; b + 1 < g.marks.length; b++) {
      if (b === keep) continue;
      for (let l = g.marks[b]! + 1; l < g.marks[b + 1]!; l++) blank[l] = 1;
    }
  }
  if (kept.size === 0) return text;
  let out = '';
  let pos = 0;
  lines.forEach((line, i) => {
    if (!blank[i]) return;
    out += text.slice(pos, line.start) + text.slice(line.start, line.end).replace(/[^\r]/g, ' ');
    pos = line.end;
  });
  return out + text.slice(pos);
}

/**
 * Which branch of a group to read: the first whose condition the defines
 * make true, or the first they cannot decide; -1 when all are false.
 */
function branchToRead(g: Group, text: string, lines: readonly LineInfo[], defines: Readonly<Record<string, boolean>>): number {
  for (let b = 0; b + 1 < g.marks.length; b++) {
    const line = lines[g.marks[b]!]!;
    const decided = directiveHolds(text.slice(line.start, line.end), defines);
    if (decided !== false) return b;
  }
  return -1;
}

/** Whether an #if/#ifdef/#ifndef/#elif/#else line holds under `defines`; undefined when they do not say. */
export function directiveHolds(line: string, defines: Readonly<Record<string, boolean>>): boolean | undefined {
  const m = /^[ \t]*#[ \t]*(ifdef|ifndef|if|elif|else)\b(.*)$/.exec(line);
  if (!m) return undefined;
  const kind = m[1]!;
  const rest = m[2]!.replace(/\/\*.*?(\*\/|$)|\/\/.*$/g, '').trim();
  const known = (name: string): boolean | undefined =>
    (Object.prototype.hasOwnProperty.call(defines, name) ? defines[name] : undefined);
  if (kind === 'else') return true;
  if (kind === 'ifdef' || kind === 'ifndef') {
    const value = known(rest.split(/\s/)[0] ?? '');
    return value === undefined ? undefined : kind === 'ifdef' ? value : !value;
  }
  if (/^\d+$/.test(rest)) return Number(rest) !== 0;
  const d = /^(!\s*)?defined\s*\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(rest);
  const value = d ? known(d[2]!) : undefined;
  return value === undefined ? undefined : d![1] ? !value : value;
}

function needsMasking(g: Group, lines: readonly LineInfo[]): boolean {
  if (lines[g.ifLine]!.depthBefore > 0) return true;
  for (let b = 0; b + 1 < g.marks.length; b++) {
    let parens = 0;
    let braces = 0;
    let last = '';
    for (let l = g.marks[b]! + 1; l < g.marks[b + 1]!; l++) {
      const info = lines[l]!;
      if (info.directive) continue;
      parens += info.parenDelta;
      braces += info.braceDelta;
      if (info.last) last = info.last;
    }
    if (parens !== 0 || braces !== 0) return true;
    // A branch that ends mid-statement: `if (x)`, `} else`, `again:`, an initializer's `,`.
    if (last !== '' && last !== ';' && last !== '}') return true;
  }
  return false;
}

function findGroups(lines: readonly LineInfo[]): Group[] {
  const groups: Group[] = [];
  const stack: Group[] = [];
  lines.forEach((line, i) => {
    switch (line.directive) {
      case 'if': {
        const parent = stack[stack.length - 1];
        const g: Group = { ifLine: i, marks: [i], parent, parentBranch: parent ? parent.marks.length - 1 : 0 };
        stack.push(g);
        groups.push(g);
        break;
      }
      case 'elif':
      case 'else':
        stack[stack.length - 1]?.marks.push(i);
        break;
      case 'endif': {
        const g = stack.pop();
        g?.marks.push(i);
        break;
      }
      default:
        break;
    }
  });
  // An unterminated group (half-typed code) is left alone.
  return groups.filter((g) => lines[g.marks[g.marks.length - 1]!]!.directive === 'endif');
}

function scanLines(text: string): LineInfo[] {
  const lines: LineInfo[] = [];
  let depth = 0;
  let inComment = false;
  let pos = 0;
  for (;;) {
    let eol = text.indexOf('\n', pos);
    const final = eol < 0;
    if (final) eol = text.length;
    const m = inComment ? null : DIRECTIVE.exec(text.slice(pos, Math.min(eol, pos + 64)));
    if (m) {
      const k = m[1]!;
      const directive = k === 'ifdef' || k === 'ifndef' ? 'if' : (k as LineInfo['directive']);
      lines.push({ start: pos, end: eol, directive, depthBefore: depth, parenDelta: 0, braceDelta: 0, last: '' });
      // A directive may end in a comment that continues on the next line.
      inComment = opensComment(text, pos, eol);
    } else {
      const info: LineInfo = { start: pos, end: eol, depthBefore: depth, parenDelta: 0, braceDelta: 0, last: '' };
      inComment = scanCode(text, pos, eol, inComment, info);
      depth = Math.max(0, depth + info.parenDelta);
      lines.push(info);
    }
    if (final) break;
    pos = eol + 1;
  }
  return lines;
}

function opensComment(text: string, start: number, end: number): boolean {
  const open = text.lastIndexOf('/*', end);
  return open >= start && text.indexOf('*/', open) < 0 || (open >= start && text.indexOf('*/', open) > end);
}

/** Scans one line of code; returns whether a block comment is still open at its end. */
function scanCode(text: string, start: number, end: number, inComment: boolean, info: LineInfo): boolean {
  let comment = inComment;
  for (let i = start; i < end; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === '*' && text[i + 1] === '/') {
        comment = false;
        i++;
      }
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      comment = true;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') break;
    if (c === '"' || c === '\'') {
      for (i++; i < end && text[i] !== c; i++) if (text[i] === '\\') i++;
      info.last = c;
      continue;
    }
    if (c === '(') info.parenDelta++;
    else if (c === ')') info.parenDelta--;
    else if (c === '{') info.braceDelta++;
    else if (c === '}') info.braceDelta--;
    if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\\') info.last = c;
  }
  return comment;
}
