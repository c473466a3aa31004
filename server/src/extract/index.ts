/**
 * The C front end: syntax tree in, IR out. Architecture invariant:
 * extraction never throws on user input. It returns the functions it could
 * read and the problems it met; a function with problems is listed with
 * them and is not analysed.
 */
import type { Expr, ExtractionProblem, FileIR, FunctionIR, GlobalInit, Variable } from '../../../simulator/src/ir';
import type { Vocabulary } from '../../../simulator/src/config';
import type { SyntaxNode } from '../parsing/syntax';
import type { RegionParser } from '../parsing/region';
import { CfgBuilder } from './cfg';
import { declaredVariables, typeInfo, unwrapDeclarator } from './declarations';
import { ExpressionLowering, LoweringContext, parseNumber, rangeOf } from './expressions';
import { FunctionSite, findFunctions, leadingComment, plainSite } from './functions';
import { StatementLowering } from './statements';

export interface ExtractOptions {
  readonly vocabulary: Vocabulary;
  readonly reparse?: RegionParser;
}

/** Parse damage that does not change what the checks see. */
function isHarmless(n: SyntaxNode): boolean {
  // tree-sitter inserts a `;` after an iteration macro header, after a label
  // that precedes an #ifdef, and where the user has not typed it yet; the
  // statements read the same either way.
  if (n.isMissing) return n.type === ';';
  // A type passed to a macro (`__DECONST(char *, p)`) is an unreadable argument, nothing more.
  for (let p = n.parent; p; p = p.parent) {
    if (p.type === 'argument_list') return true;
    if (p.type.endsWith('_statement') || p.type === 'declaration') break;
  }
  return false;
}

function firstDamage(node: SyntaxNode, skip: (n: SyntaxNode) => boolean): SyntaxNode | undefined {
  if (!node.hasError && !node.isMissing) return undefined;
  if ((node.type === 'ERROR' || node.isMissing) && !isHarmless(node) && !skip(node)) return node;
  for (const c of node.children) {
    if (c.hasError || c.isMissing || c.type === 'ERROR') {
      const d = firstDamage(c, skip);
      if (d) return d;
    }
  }
  return undefined;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

export function extractFunction(found: FunctionSite, text: string, options: ExtractOptions): FunctionIR {
  const site = plainSite(found, text);
  const problems: ExtractionProblem[] = [];
  const body = site.body;
  const closing = { start: Math.max(body.startIndex, body.endIndex - 1), end: body.endIndex };
  const cfg = new CfgBuilder(closing);
  const ctx: LoweringContext = {
    cfg, text, vocabulary: options.vocabulary, reparse: options.reparse,
    counterFields: new Set(options.vocabulary.counterFields),
    problem(node, message) {
      problems.push({ message: `${message} at line ${lineOf(text, node.startIndex)}`, range: rangeOf(node) });
    },
    aborted: false,
  };
  const exprs = new ExpressionLowering(ctx);
  const stmts = new StatementLowering(ctx, exprs);

  let params: Variable[] = [];
  let returnType = typeInfo(null, 0);
  let isStatic = false;
  if (site.node.type === 'function_definition') {
    const def = site.node;
    const declarator = def.childForFieldName('declarator');
    let fd: SyntaxNode | null = declarator;
    while (fd && fd.type !== 'function_declarator') fd = fd.childForFieldName('declarator');
    const paramList = fd?.childForFieldName('parameters');
    params = paramList ? paramList.namedChildren.filter((p) => p.type === 'parameter_declaration').flatMap(declaredVariables) : [];
    returnType = typeInfo(def.childForFieldName('type'), unwrapDeclarator(declarator).pointer);
    isStatic = def.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static');
  }

  stmts.statement(body);
  for (const label of cfg.undefinedLabels(stmts.definedLabels)) {
    problems.push({ message: `goto ${label} names no label in this function`, range: rangeOf(body) });
  }
  // Parse damage that the lowering met (and reported) or recovered from is not reported twice.
  const damage = firstDamage(body, (n) => problems.some((p) => p.range.start <= n.startIndex && n.endIndex <= p.range.end)
    || stmts.recoveredRanges.some((r) => r.start <= n.startIndex && n.endIndex <= r.end));
  if (damage) {
    const what = damage.isMissing ? `missing \`${damage.type}\`` : 'text it cannot read';
    problems.push({ message: `${what} at line ${lineOf(text, damage.startIndex)}`, range: rangeOf(damage) });
  }

  // One problem per function, the first in the text: the rest are usually echoes of it.
  problems.sort((a, b) => a.range.start - b.range.start).splice(1);
  if (site.unclosed) {
    // Whatever else is wrong, this is the one thing to say: the body is not finished.
    const where = site.unclosed.before === 'end-of-file' ? 'the end of the file' : `the next function, at line ${lineOf(text, site.end)}`;
    problems.splice(0, problems.length, {
      message: `its closing \`}\` is missing (the body opened at line ${lineOf(text, body.startIndex)} runs into ${where})`,
      range: { start: body.startIndex, end: Math.min(site.end, text.length) },
    });
  }

  const nameNode = site.nameNode;
  return {
    name: site.name,
    range: { start: site.start, end: Math.min(site.end, text.length) },
    nameRange: nameNode ? rangeOf(nameNode) : { start: site.start, end: site.start },
    params,
    locals: stmts.locals,
    returnType,
    isStatic,
    comment: leadingComment(text, site.start),
    blocks: cfg.blocks,
    entry: 0,
    problems,
    tempCount: cfg.tempCount,
  };
}

/** `#define NAME 0x04` constants and `#define NAME (A | B)` flag groups of the file. */
export function fileDefinesOf(root: SyntaxNode): { constants: Record<string, number>; groups: Record<string, string[]> } {
  return fileDefines(root);
}

function fileDefines(root: SyntaxNode): { constants: Record<string, number>; groups: Record<string, string[]> } {
  const constants: Record<string, number> = {};
  const groups: Record<string, string[]> = {};
  const visit = (n: SyntaxNode): void => {
    for (const c of n.namedChildren) {
      if (c.type === 'preproc_def') {
        const name = c.childForFieldName('name')?.text;
        const value = c.childForFieldName('value')?.text.trim();
        if (!name || !value) continue;
        const num = parseNumber(value.replace(/^\((.*)\)$/, '$1').trim());
        if (num !== undefined) constants[name] = num;
        else if (/^\(?\s*[A-Z_][A-Z0-9_]*(\s*\|\s*[A-Z_][A-Z0-9_]*)+\s*\)?$/.test(value)) {
          groups[name] = value.replace(/[()\s]/g, '').split('|');
        }
      } else if (c.type.startsWith('preproc_if') || c.type === 'preproc_else' || c.type === 'preproc_elif') {
        visit(c);
      }
    }
  };
  visit(root);
  return { constants, groups };
}

/**
 * A constant initializer as an expression: numbers, names (macro constants,
 * NULL), strings, `A | B`, `-1`. Anything else is `unknown`; the simulator
 * then starts that field at zero, as static storage would be.
 */
function constantExpr(node: SyntaxNode): Expr {
  switch (node.type) {
    case 'number_literal': {
      const v = parseNumber(node.text);
      return v === undefined ? { kind: 'unknown', text: node.text } : { kind: 'num', value: v };
    }
    case 'identifier':
      return { kind: 'name', name: node.text };
    case 'string_literal':
    case 'concatenated_string':
      return { kind: 'str' };
    case 'parenthesized_expression':
      return node.namedChildren[0] ? constantExpr(node.namedChildren[0]) : { kind: 'unknown', text: node.text };
    case 'unary_expression': {
      const op = node.childForFieldName('operator')?.text;
      const arg = node.childForFieldName('argument');
      if (arg && (op === '-' || op === '~' || op === '!')) return { kind: 'unary', op, operand: constantExpr(arg) };
      break;
    }
    case 'binary_expression': {
      const op = node.childForFieldName('operator')?.text;
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      if (l && r && (op === '|' || op === '&' || op === '+' || op === '-' || op === '<<')) {
        return { kind: 'binary', op, left: constantExpr(l), right: constantExpr(r) };
      }
      break;
    }
    default:
      break;
  }
  return { kind: 'unknown', text: node.text };
}

/** File-scope variables with initializers: `struct prison prison0 = { .pr_ref = 1, ... }`, `static int lastprid = 0`. */
export function fileGlobalsOf(root: SyntaxNode): Record<string, GlobalInit> {
  const globals: Record<string, GlobalInit> = {};
  const visit = (n: SyntaxNode): void => {
    for (const c of n.namedChildren) {
      if (c.type.startsWith('preproc_if') || c.type === 'preproc_else' || c.type === 'preproc_elif') {
        visit(c);
        continue;
      }
      if (c.type !== 'declaration') continue;
      for (const d of c.namedChildren) {
        if (d.type !== 'init_declarator') continue;
        const name = d.childForFieldName('declarator');
        const value = d.childForFieldName('value');
        if (!name || name.type !== 'identifier' || !value) continue;
        if (value.type === 'initializer_list') {
          const fields: Record<string, Expr> = {};
          // Designated initializers only (`.pr_ref = 1`); an #ifdef among them keeps its first branch.
          const pairs = (list: SyntaxNode): void => {
            for (const item of list.namedChildren) {
              if (item.type === 'initializer_pair') {
                const designator = item.childForFieldName('designator') ?? item.namedChildren[0];
                const field = designator?.type === 'field_designator' ? designator.namedChildren[0]?.text ?? designator.text.replace(/^\./, '') : undefined;
                const v = item.childForFieldName('value');
                if (field && v && !(field in fields)) fields[field] = constantExpr(v);
              } else if (item.type.startsWith('preproc_')) {
                pairs(item);
              }
            }
          };
          pairs(value);
          globals[name.text] = { fields, range: rangeOf(c) };
        } else {
          globals[name.text] = { value: constantExpr(value), range: rangeOf(c) };
        }
      }
    }
  };
  visit(root);
  return globals;
}

/** Where a function is in the file: plain data, kept after the syntax trees are freed. */
export interface FunctionPlace {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export interface ExtractedFile extends FileIR {
  readonly sites: readonly FunctionPlace[];
  readonly flagGroups: Readonly<Record<string, readonly string[]>>;
}

/** The sites without their syntax nodes, which die with the tree (see CParser.release). */
export function placesOf(sites: readonly FunctionSite[]): FunctionPlace[] {
  return sites.map((s) => ({ name: s.name, start: s.start, end: s.end }));
}

export function extractFile(root: SyntaxNode, text: string, options: ExtractOptions): ExtractedFile {
  const sites = findFunctions(root, text, options.reparse);
  const functions: FunctionIR[] = [];
  const problems: ExtractionProblem[] = [];
  for (const site of sites) {
    try {
      functions.push(extractFunction(site, text, options));
    } catch (err) {
      // A bug in the front end must cost one function, not the file.
      problems.push({
        message: `internal error while reading ${site.name}: ${err instanceof Error ? err.message : String(err)}`,
        range: { start: site.start, end: site.end },
      });
    }
  }
  const { constants, groups } = fileDefines(root);
  return { functions, problems, constants, globals: fileGlobalsOf(root), sites: placesOf(sites), flagGroups: groups };
}

export { declaredVariables };
