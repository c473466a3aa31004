/**
 * Finds the function definitions of a file, including the ones
 * tree-sitter's error recovery swallowed: a top-level macro it cannot read
 * (`static SYSCTL_NODE(...)`, `DB_SHOW_COMMAND(...)`) can absorb the header
 * of the function after it. style(9) puts a function's opening and closing
 * braces in column 0, so any such body not inside a definition we found is
 * re-parsed on its own, at its own offsets.
 */
import type { SyntaxNode } from '../parsing/syntax';
import { unwrapDeclarator } from './declarations';
import { plainCopy, Walkable } from '../parsing/plainTree';

export interface FunctionSite {
  /** The function_definition node, or for a macro-defined function the body. */
  readonly node: SyntaxNode;
  readonly name: string;
  readonly nameNode?: SyntaxNode;
  /** For `DB_SHOW_COMMAND(prison, name) { ... }`: the macro header. */
  readonly macroHeader?: SyntaxNode;
  readonly body: SyntaxNode;
  readonly start: number;
  readonly end: number;
}


export type { RegionParser } from "../parsing/region";
import type { RegionParser } from "../parsing/region";

const CONTAINERS = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif',
  'linkage_specification', 'declaration_list', 'ERROR']);

export function functionName(def: SyntaxNode): SyntaxNode | undefined {
  const { name, isFunction } = unwrapDeclarator(def.childForFieldName('declarator'));
  return isFunction ? name : undefined;
}

function siteOf(def: SyntaxNode): FunctionSite | undefined {
  const body = def.childForFieldName('body');
  const nameNode = functionName(def);
  if (!body || !nameNode) return undefined;
  return { node: def, name: nameNode.text, nameNode, body, start: def.startIndex, end: def.endIndex };
}

/** `NAME(args)` with a missing `;`, followed by a body at top level: a function defined by a macro. */
function macroSite(stmt: SyntaxNode, next: SyntaxNode | null): FunctionSite | undefined {
  if (stmt.type !== 'expression_statement' || next?.type !== 'compound_statement') return undefined;
  const call = stmt.namedChildren[0];
  const last = stmt.children[stmt.children.length - 1];
  if (!call || call.type !== 'call_expression' || !(last?.isMissing || last?.type !== ';')) return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  const named = [...args].reverse().find((a) => a.type === 'identifier');
  const macro = call.childForFieldName('function')?.text ?? 'macro';
  return {
    node: next, name: named ? named.text : macro, nameNode: named, macroHeader: call, body: next,
    start: stmt.startIndex, end: next.endIndex,
  };
}

function collect(node: SyntaxNode, out: FunctionSite[]): void {
  const children = node.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    if (c.type === 'function_definition') {
      const site = siteOf(c);
      if (site) out.push(site);
    } else if (c.type === 'expression_statement') {
      const site = macroSite(c, children[i + 1] ?? null);
      if (site) {
        out.push(site);
        i++;
      }
    } else if (CONTAINERS.has(c.type) && c.childCount > 0) {
      collect(c, out);
    }
  }
}

/**
 * The same site over a plain-object copy of its subtree (see plainTree.ts):
 * extraction reads nodes many times, and plain objects make that cheap.
 */
export function plainSite(site: FunctionSite, text: string): FunctionSite {
  if (!('walk' in site.node)) return site;
  const node = plainCopy(site.node as unknown as Walkable, text);
  if (site.macroHeader) {
    const header = plainCopy(site.macroHeader as unknown as Walkable, text);
    const args = header.childForFieldName('arguments')?.namedChildren ?? [];
    const named = [...args].reverse().find((a) => a.type === 'identifier');
    return { ...site, node, body: node, macroHeader: header, nameNode: named };
  }
  return siteOf(node) ?? site;
}

/** Column-0 `{` … `}` pairs: the bodies style(9) code gives its functions. */
function column0Bodies(text: string): Array<{ open: number; close: number }> {
  const out: Array<{ open: number; close: number }> = [];
  const re = /^\{[ \t]*(?:\/\*.*)?$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const open = m.index;
    const closeRe = /^\}[ \t]*(?:\/\*.*)?$/gm;
    closeRe.lastIndex = open;
    const c = closeRe.exec(text);
    if (!c) break;
    out.push({ open, close: c.index });
    re.lastIndex = c.index + 1;
  }
  return out;
}

/** Where the header before a column-0 body starts: after the previous top-level `;`, `}` or blank line. */
function headerStart(text: string, open: number): number {
  let pos = open;
  for (;;) {
    const prevEol = text.lastIndexOf('\n', pos - 2);
    const lineStart = prevEol + 1;
    const line = text.slice(lineStart, pos - 1);
    if (prevEol < 0) return 0;
    if (line.trim() === '' || /[;}]\s*$/.test(line) || /^\s*(#|\*\/|\/\*|\*)/.test(line)) return pos;
    pos = lineStart;
  }
}

export function findFunctions(root: SyntaxNode, text: string, reparse?: RegionParser): FunctionSite[] {
  const sites: FunctionSite[] = [];
  collect(root, sites);
  if (!reparse || !root.hasError) return sites;
  // Recover bodies that no definition we found contains.
  const covered = (offset: number): boolean => sites.some((s) => s.body.startIndex <= offset && offset < s.body.endIndex);
  for (const { open, close } of column0Bodies(text)) {
    if (covered(open)) continue;
    const start = headerStart(text, open);
    if (start >= open) continue;
    const region = reparse(text, start, close + 1);
    const found: FunctionSite[] = [];
    collect(region, found);
    for (const s of found) if (s.body.startIndex === open) sites.push(s);
  }
  sites.sort((a, b) => a.start - b.start);
  return sites;
}

/** The comment block directly above a definition (style(9) puts contracts there). */
export function leadingComment(text: string, start: number): string | undefined {
  const before = text.slice(Math.max(0, start - 4000), start);
  const m = /\/\*((?:[^*]|\*(?!\/))*)\*\/\s*$/.exec(before);
  return m ? m[1]!.replace(/^\s*\*\s?/gm, '').trim() : undefined;
}
