/**
 * Before and after: which functions a patch touches, which findings belong
 * to them, and how findings of the two versions pair up.
 *
 * A finding is matched across versions by what it is about, never by its
 * line number (which the patch shifts): its rule, its function, the text of
 * the line it points at (whitespace normalised), and the lock or counter
 * its message names. Findings with the same key pair in order of position;
 * what is left is fixed (base only) or introduced (patched only). Nothing
 * here knows one rule from another, so the ledger's and the simulator's
 * findings are compared the same way when they arrive.
 */
import type { Finding } from '../../../simulator/src/findings';
import type { JailcheckConfig } from '../../../simulator/src/config';
import type { SourceRange } from '../../../simulator/src/ir';
import { LineIndex } from '../lineIndex';

export interface FunctionExtent {
  readonly name: string;
  /** 1-based, inclusive; `first` includes the comment block just above the definition. */
  readonly first: number;
  readonly last: number;
  /** Offsets of the definition itself. */
  readonly start: number;
  readonly end: number;
}

const isCommentLine = (t: string): boolean => t.startsWith('/*') || t.startsWith('*') || t.startsWith('//');

/** Each function's lines, with the comment above it: a changed contract comment touches its function. */
export function functionExtents(text: string, sites: ReadonlyArray<{ readonly name: string; readonly start: number; readonly end: number }>): FunctionExtent[] {
  const index = new LineIndex(text);
  return sites.map((s) => {
    let first = index.position(s.start).line;
    while (first > 1 && isCommentLine(index.lineText(first - 1).trim())) first--;
    return { name: s.name, first, last: index.position(Math.max(s.start, s.end - 1)).line, start: s.start, end: s.end };
  });
}

export interface TouchedScope {
  /** Functions with a changed line, in either version. */
  readonly functions: Set<string>;
  /**
   * Changed lines outside every function that are code (a declaration, a
   * #define): they can change any function's meaning, so every function
   * is compared. Blank lines, comments and #include lines do not count.
   */
  readonly outside: Array<{ readonly version: 'base' | 'patched'; readonly line: number }>;
}

export function touchedScope(
  changes: ReadonlyArray<{ readonly version: 'base' | 'patched'; readonly line: number; readonly text: string }>,
  extents: { readonly base: readonly FunctionExtent[]; readonly patched: readonly FunctionExtent[] },
): TouchedScope {
  const functions = new Set<string>();
  const outside: Array<{ version: 'base' | 'patched'; line: number }> = [];
  for (const c of changes) {
    const owner = extents[c.version].find((e) => c.line >= e.first && c.line <= e.last);
    if (owner) {
      functions.add(owner.name);
      continue;
    }
    const t = c.text.trim();
    if (t === '' || isCommentLine(t) || t.startsWith('#include')) continue;
    outside.push({ version: c.version, line: c.line });
  }
  return { functions, outside };
}

/** Findings of one version that belong to the touched functions: in them, or with a step or related site in them. */
export function findingsInScope(findings: readonly Finding[], functions: ReadonlySet<string>, extents: readonly FunctionExtent[]): Finding[] {
  const inside = extents.filter((e) => functions.has(e.name));
  const within = (r: SourceRange): boolean => inside.some((e) => r.start >= e.start && r.start < e.end);
  return findings.filter((f) => functions.has(f.function) || within(f.range)
    || f.steps.some((s) => within(s.range)) || f.related.some((r) => within(r.range)));
}

const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** The lock or counter a finding's message names first: `pr->pr_mtx`, `allprison_lock`, `pr_uref`. */
export function subjectOf(message: string, config: JailcheckConfig): string {
  const v = config.vocabulary;
  const globals = v.flagContracts.flatMap((c) => (c.lock.kind === 'global' ? [c.lock.name] : []));
  const words = [...new Set([...globals, ...v.counterFields])].map((w) => w.replace(/[^\w]/g, ''));
  const pattern = new RegExp(`[A-Za-z_]\\w*(?:(?:->|\\.)[A-Za-z_]\\w*)+|\\b\\w+_(?:lock|mtx)\\b${words.length ? `|\\b(?:${words.join('|')})\\b` : ''}`);
  return pattern.exec(message)?.[0] ?? '';
}

export function findingKey(f: Finding, index: LineIndex, config: JailcheckConfig): string {
  const line = normalise(index.lineText(index.position(f.range.start).line));
  return [f.rule, f.function, line, subjectOf(f.message, config)].join('\u0000');
}

export interface Classified {
  readonly fixed: Finding[];
  readonly introduced: Finding[];
  readonly unchanged: Array<{ readonly base: Finding; readonly patched: Finding }>;
}

/** One version's findings, with what is needed to key them and to tell which belong to the comparison. */
export interface VersionFindings {
  readonly findings: readonly Finding[];
  readonly text: string;
  readonly extents: readonly FunctionExtent[];
}

/**
 * Pairs every finding of the two versions, then keeps what belongs to the
 * touched functions in EITHER version: a pair when its base or its patched
 * finding is in scope, a fixed finding when it was, an introduced one when
 * it is. A whole-file finding (the ledger's) that pointed at a touched
 * function before the patch and still exists after it, no longer pointing
 * there (a patch to do_jail_attach() that stops attach reviving a dying
 * jail while prison_set_persist() still does), is unchanged, not fixed.
 * `findings` must therefore hold each version's findings outside the touched
 * functions too, where the analysis has them.
 */
export function classifyInScope(base: VersionFindings, patched: VersionFindings, functions: ReadonlySet<string>, config: JailcheckConfig): Classified {
  const all = classify(base, patched, config);
  const inBase = new Set(findingsInScope(base.findings, functions, base.extents));
  const inPatched = new Set(findingsInScope(patched.findings, functions, patched.extents));
  return {
    fixed: all.fixed.filter((f) => inBase.has(f)),
    introduced: all.introduced.filter((f) => inPatched.has(f)),
    unchanged: all.unchanged.filter((u) => inBase.has(u.base) || inPatched.has(u.patched)),
  };
}

export function classify(
  base: { readonly findings: readonly Finding[]; readonly text: string },
  patched: { readonly findings: readonly Finding[]; readonly text: string },
  config: JailcheckConfig,
): Classified {
  const byKey = (findings: readonly Finding[], text: string): Map<string, Finding[]> => {
    const index = new LineIndex(text);
    const m = new Map<string, Finding[]>();
    for (const f of [...findings].sort((a, b) => a.range.start - b.range.start)) {
      const k = findingKey(f, index, config);
      m.set(k, [...(m.get(k) ?? []), f]);
    }
    return m;
  };
  const before = byKey(base.findings, base.text);
  const after = byKey(patched.findings, patched.text);
  const fixed: Finding[] = [];
  const introduced: Finding[] = [];
  const unchanged: Array<{ base: Finding; patched: Finding }> = [];
  for (const [k, olds] of before) {
    const news = after.get(k) ?? [];
    olds.forEach((o, i) => (i < news.length ? unchanged.push({ base: o, patched: news[i]! }) : fixed.push(o)));
    introduced.push(...news.slice(olds.length));
    after.delete(k);
  }
  for (const news of after.values()) introduced.push(...news);
  const byStart = (a: Finding, b: Finding): number => a.range.start - b.range.start || a.rule.localeCompare(b.rule);
  return { fixed: fixed.sort(byStart), introduced: introduced.sort(byStart), unchanged: unchanged.sort((a, b) => byStart(a.patched, b.patched)) };
}
