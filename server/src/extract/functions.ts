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
  /**
   * The body's closing `}` is missing (the file, or the function, was cut
   * off): the text up to `end` was read with a `}` supplied, and the
   * function is listed with that one problem and not analysed.
   */
  readonly unclosed?: { readonly before: 'end-of-file' | 'next-function' };
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
  const plain = siteOf(node);
  return plain ? { ...plain, start: site.start, end: site.end, unclosed: site.unclosed } : site;
}

/**
 * The bodies style(9) code gives its functions: a `{` in column 0 up to the
 * next `}` in column 0. A body with no such `}` before the next column-0
 * `{` (or before the end of the file) is unclosed: someone is typing it.
 */
interface Column0Body {
  readonly open: number;
  /** The closing `}`, when there is one. */
  readonly close?: number;
  /** Where the region to re-read ends: after the `}`, or where the next function's header starts. */
  readonly end: number;
}

function column0Bodies(text: string): Column0Body[] {
  const opens: number[] = [];
  const closes: number[] = [];
  for (const m of text.matchAll(/^\{[ \t]*(?:\/\*.*)?$/gm)) opens.push(m.index);
  for (const m of text.matchAll(/^\}[ \t]*(?:\/\*.*)?$/gm)) closes.push(m.index);
  const out: Column0Body[] = [];
  let c = 0;
  for (let i = 0; i < opens.length; i++) {
    const open = opens[i]!;
    const nextOpen = opens[i + 1];
    while (c < closes.length && closes[c]! < open) c++;
    const close = closes[c];
    if (close !== undefined && (nextOpen === undefined || close < nextOpen)) {
      out.push({ open, close, end: close + 1 });
      c++;
    } else {
      out.push({ open, end: nextOpen === undefined ? text.length : headerStart(text, nextOpen) });
    }
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

/** Whether `offset` is inside a comment (a column-0 brace there is not code). */
function inComment(root: SyntaxNode, offset: number): boolean {
  let n: SyntaxNode | undefined = root;
  while (n) {
    if (n.type === 'comment') return true;
    n = n.children.find((c) => c.startIndex <= offset && offset < c.endIndex);
  }
  return false;
}

export function findFunctions(root: SyntaxNode, text: string, reparse?: RegionParser): FunctionSite[] {
  let sites: FunctionSite[] = [];
  collect(root, sites);
  if (!reparse || !root.hasError) return sites;
  // tree-sitter's recovery can take a function's header into the macro before it, make an
  // unclosed block swallow the functions after it, or give up on a body the file ends inside.
  // Every column-0 body that no definition we found spans exactly is read again on its own.
  // Read each body's offsets once: a kern_jail.c-sized file has a hundred functions, a generated one thousands.
  const exact = new Set(sites.map((s) => `${s.body.startIndex}:${s.body.endIndex}`));
  for (const body of column0Bodies(text)) {
    const { open, close } = body;
    if (close !== undefined && exact.has(`${open}:${close + 1}`)) continue;
    if (inComment(root, open)) continue;
    const start = headerStart(text, open);
    if (start >= open) continue;
    // An unclosed body is read with its `}` supplied after its last line; offsets before it are the file's.
    const region = close !== undefined ? reparse(text, start, body.end) : reparse(`${text.slice(0, body.end)}\n}`, start, body.end + 2);
    const found: FunctionSite[] = [];
    collect(region, found);
    const site = found.find((s) => s.body.startIndex === open);
    if (!site) continue;
    sites = sites.filter((s) => s.body.startIndex !== open);
    sites.push(close !== undefined ? site : {
      ...site, end: body.end, unclosed: { before: body.end === text.length ? 'end-of-file' : 'next-function' },
    });
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
