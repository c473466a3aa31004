/**
 * Pieces of style(9) C text: statement lines, indentation, local variable
 * declarations and whole function definitions. Templates write C as lines
 * at depth 0; `indent` nests them. Preprocessor lines stay in column 0 and
 * labels keep their one leading space, as in kern_jail.c.
 */
export type Lines = string[];

const LABEL = /^ [A-Za-z_]\w*:$/;

/** Nests `lines` by `depth` tabs (directives and labels keep their columns). */
export function indent(lines: readonly string[], depth = 1): Lines {
  const tabs = '\t'.repeat(depth);
  return lines.map((l) => (l === '' || l.startsWith('#') || LABEL.test(l) ? l : tabs + l));
}

/** `head {` body `}` with the body one level in. */
export function block(head: string, body: readonly string[], tail = '}'): Lines {
  return [`${head} {`, ...indent(body), tail];
}

/** A statement under a condition: braces only when the body is more than one line, as style(9) writes it. */
export function guarded(head: string, body: readonly string[]): Lines {
  if (body.length === 1 && !body[0]!.startsWith('#')) return [head, ...indent(body)];
  return block(head, body);
}

export function label(name: string): string {
  return ` ${name}:`;
}

/** A block comment of sentences, wrapped at 76 columns. */
export function comment(sentences: readonly string[], depth = 0): Lines {
  const width = 76 - depth * 8;
  const words = sentences.join('  ').split(' ');
  const out: Lines = ['/*'];
  let line = ' *';
  for (const w of words) {
    if (line.length + 1 + w.length > width && line !== ' *') {
      out.push(line);
      line = ' *';
    }
    line += w === '' ? ' ' : ` ${w}`;
  }
  if (line !== ' *') out.push(line.replace(/\s+$/, ''));
  out.push(' */');
  return out;
}

/**
 * The local variables of one function, declared at its top by type
 * (structures first, then scalars), names in order, as style(9) wants.
 * A variable only some configurations need sits under its #ifdef.
 */
export class Locals {
  private readonly byType = new Map<string, Map<string, string | undefined>>();

  /** Declares `name` (with its `*` or `[N]` decoration) of `type`; returns the bare name. */
  add(type: string, declarator: string, ifdef?: string): string {
    let names = this.byType.get(type);
    if (!names) this.byType.set(type, (names = new Map()));
    if (!names.has(declarator)) names.set(declarator, ifdef);
    return declarator.replace(/^\*+/, '').replace(/\[.*$/, '');
  }

  get isEmpty(): boolean {
    return this.byType.size === 0;
  }

  render(): Lines {
    const types = [...this.byType.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const plain: Lines = [];
    const guarded = new Map<string, Lines>();
    for (const type of types) {
      const byIfdef = new Map<string | undefined, string[]>();
      for (const [name, ifdef] of this.byType.get(type)!) {
        const list = byIfdef.get(ifdef) ?? [];
        list.push(name);
        byIfdef.set(ifdef, list);
      }
      for (const [ifdef, names] of byIfdef) {
        names.sort((a, b) => bare(a).localeCompare(bare(b)));
        const decl = `\t${type} ${names.join(', ')};`;
        if (ifdef === undefined) plain.push(decl);
        else guarded.set(ifdef, [...(guarded.get(ifdef) ?? []), decl]);
      }
    }
    const out = [...plain];
    for (const [ifdef, decls] of guarded) out.push(`#ifdef ${ifdef}`, ...decls, '#endif');
    return out;
  }
}

function bare(declarator: string): string {
  return declarator.replace(/^\*+/, '');
}

function rank(type: string): number {
  if (type.startsWith('struct')) return 0;
  if (type.startsWith('char') || type.startsWith('void')) return 1;
  if (type.startsWith('unsigned') || type.startsWith('u_') || type.startsWith('size_t')) return 2;
  return 3;
}

export interface CFunction {
  readonly name: string;
  readonly returnType: string;
  readonly params: string;
  readonly isStatic: boolean;
  readonly comment?: readonly string[];
  readonly locals: Locals;
  /** Statements at depth 0; the definition indents them once. */
  readonly body: readonly string[];
  /** A configuration the whole definition depends on (`INET`), as in the real file. */
  readonly ifdef?: string;
}

export function renderFunction(fn: CFunction): Lines {
  const out: Lines = [];
  if (fn.ifdef) out.push(`#ifdef ${fn.ifdef}`);
  if (fn.comment && fn.comment.length > 0) out.push(...comment(fn.comment));
  const type = fn.isStatic ? `static ${fn.returnType}` : fn.returnType;
  out.push(type, `${fn.name}(${fn.params})`, '{');
  out.push(...fn.locals.render(), '');
  out.push(...indent(fn.body), '}');
  if (fn.ifdef) out.push(`#endif /* ${fn.ifdef} */`);
  return out;
}

/** The prototype of a static function, for the forward declarations at the top of the file. */
export function prototype(fn: CFunction): string {
  const sep = fn.returnType.endsWith('*') ? '' : ' ';
  return `static ${fn.returnType}${sep}${fn.name}(${fn.params});`;
}
