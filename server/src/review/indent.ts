/**
 * Indentation for lines a whitespace-mangled patch adds. The mail lost the
 * added lines' tabs, so each gets the indentation style(9) would give it
 * after the line before it: one level deeper after an opening brace or a
 * brace-less `if`/`for`/`while`/`else`, back out after the single statement
 * such a header governs, one level out for a closing brace, four spaces
 * for the continuation of an unfinished parenthesis.
 */

/** The indentation unit of a text: a tab, unless its lines are indented with spaces only. */
export function indentUnit(lines: readonly string[]): string {
  let tabs = 0;
  const spaceWidths = new Map<number, number>();
  for (const l of lines) {
    if (l.startsWith('\t')) tabs++;
    else {
      const m = /^( +)\S/.exec(l);
      if (m && !/^ \*/.test(l)) spaceWidths.set(m[1]!.length, (spaceWidths.get(m[1]!.length) ?? 0) + 1);
    }
  }
  const spaced = [...spaceWidths.values()].reduce((a, b) => a + b, 0);
  if (tabs >= spaced) return '\t';
  const smallest = Math.min(...[...spaceWidths.keys()].filter((w) => w >= 2));
  return Number.isFinite(smallest) ? ' '.repeat(smallest) : '\t';
}

const leading = (s: string): string => /^[ \t]*/.exec(s)![0];

function parenBalance(s: string): number {
  // Strings and character constants do not count.
  const code = s.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g, '""');
  let n = 0;
  for (const c of code) {
    if (c === '(') n++;
    else if (c === ')') n--;
  }
  return n;
}

function isControlHeader(trimmed: string): boolean {
  if (/^(?:}\s*)?else$/.test(trimmed) || trimmed === 'do') return true;
  const m = /^(?:}\s*)?(?:else\s+)?(?:if|for|while|switch)\s*\(/.exec(trimmed);
  return m !== null && trimmed.endsWith(')') && parenBalance(trimmed) === 0;
}

function isComment(trimmed: string): boolean {
  return trimmed.startsWith('/*') || trimmed.startsWith('*') || trimmed.startsWith('//');
}

function outdent(indent: string, unit: string): string {
  if (indent.endsWith(unit)) return indent.slice(0, indent.length - unit.length);
  if (indent.endsWith('\t')) return indent.slice(0, -1);
  return indent.replace(/ {1,8}$/, '');
}

/**
 * The indentation for `line` (its own leading whitespace is ignored), given
 * the lines before it in the patched text.
 */
export function indentFor(before: readonly string[], line: string, unit = '\t'): string {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return '';
  if (/^[A-Za-z_]\w*:$/.test(t) && t !== 'default:') return ' ';
  let i = before.length - 1;
  while (i >= 0 && (before[i]!.trim() === '' || before[i]!.trim().startsWith('#'))) i--;
  if (i < 0) return '';
  const prev = before[i]!;
  const pt = prev.trim();
  let pIndent = leading(prev);

  // Inside a block comment: continue its column of stars.
  const openComment = (pt.startsWith('/*') || pt.startsWith('*')) && !pt.endsWith('*/');
  if (pt.startsWith('*')) pIndent = pIndent.replace(/ $/, '');
  if (openComment && t.startsWith('*')) return `${pIndent} `;

  if (t.startsWith('}')) return pt.endsWith('{') ? pIndent : outdent(pIndent, unit);
  if (pt.endsWith('{')) return pIndent + unit;
  if (/^[A-Za-z_]\w*:$/.test(pt)) return unit;
  if (!isComment(pt) && parenBalance(pt) > 0) return `${pIndent}    `;
  if (isControlHeader(pt)) return pIndent + unit;

  // The line before `prev` may be what `prev` belongs to: the header of a
  // brace-less body, or the first line of a statement `prev` continues.
  let j = i - 1;
  while (j >= 0 && before[j]!.trim() === '') j--;
  if (j >= 0 && !isComment(pt)) {
    const pp = before[j]!;
    const ppt = pp.trim();
    if (!isComment(ppt) && parenBalance(ppt) > 0 && parenBalance(ppt) + parenBalance(pt) <= 0) {
      // `prev` ends what `pp` began: a statement, or the header of a brace-less body.
      return isControlHeader(`${ppt} ${pt}`) ? leading(pp) + unit : leading(pp);
    }
    if (isControlHeader(ppt) && leading(pp).length < pIndent.length) return leading(pp);
  }
  return pIndent;
}
