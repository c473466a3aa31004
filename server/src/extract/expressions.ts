/**
 * Lowers C expressions. Side effects (lock calls, counter changes,
 * assignments, other calls) become ops in the current block, in evaluation
 * order; what is left is a pure {@link Expr}. Conditions are lowered into
 * control flow so that `&&`, `||` and `!` give each path its own facts.
 */
import type {
  AssignOperator, BinaryOperator, CountChange, Expr, SourceRange,
} from '../../../simulator/src/ir';
import type { Vocabulary } from '../../../simulator/src/config';
import type { SyntaxNode } from '../parsing/syntax';
import type { CfgBuilder } from './cfg';
import { lowerCall } from './calls';
import type { RegionParser } from '../parsing/region';

export interface LoweringContext {
  readonly cfg: CfgBuilder;
  /** The text the tree was parsed from. */
  readonly text: string;
  readonly vocabulary: Vocabulary;
  readonly counterFields: ReadonlySet<string>;
  /** Notes a construct the front end does not understand; the function will not be analysed. */
  problem(node: SyntaxNode, message: string): void;
  /** Set by a call that never returns (panic); the statement lowering ends the path. */
  aborted: boolean;
  /** Re-parses a region at its own offsets (for code tree-sitter's recovery mangled). */
  readonly reparse?: RegionParser;
}

export function rangeOf(node: SyntaxNode): SourceRange {
  return { start: node.startIndex, end: node.endIndex };
}

const BINARY_OPERATORS = new Set<string>([
  '&&', '||', '==', '!=', '<', '<=', '>', '>=', '&', '|', '^', '<<', '>>', '+', '-', '*', '/', '%',
]);

const ASSIGN_OPERATORS = new Set<string>(['=', '|=', '&=', '+=', '-=', '^=', '*=', '/=', '<<=', '>>=', '%=']);

function operatorOf(node: SyntaxNode): string {
  const op = node.childForFieldName('operator');
  return op ? op.type : '';
}

/** Strips parentheses and casts, which change nothing the checks care about. */
export function unwrap(node: SyntaxNode): SyntaxNode {
  let n = node;
  for (;;) {
    if (n.type === 'parenthesized_expression' && n.namedChildren.length === 1) n = n.namedChildren[0]!;
    else if (n.type === 'cast_expression') {
      const v = n.childForFieldName('value');
      if (!v) return n;
      n = v;
    } else return n;
  }
}

export function parseNumber(text: string): number | undefined {
  const t = text.replace(/[uUlL]+$/, '');
  // tree-sitter reads `-1` as one number literal.
  if (/^-\s*[0-9]/.test(t)) {
    const v = parseNumber(t.slice(1).trim());
    return v === undefined ? undefined : -v;
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  if (/^[0-9]+$/.test(t)) return parseInt(t, 10);
  return undefined;
}

export class ExpressionLowering {
  constructor(private readonly ctx: LoweringContext) {}

  /** True when evaluating `node` has an effect the IR records (a call, an assignment, ++/--). */
  hasEffects(node: SyntaxNode): boolean {
    switch (node.type) {
      case 'call_expression':
      case 'assignment_expression':
      case 'update_expression':
        return true;
      case 'identifier':
      case 'number_literal':
      case 'string_literal':
      case 'field_identifier':
        return false;
      default:
        return node.namedChildren.some((c) => this.hasEffects(c));
    }
  }

  /** Lowers `node` for its value; its effects are emitted first. */
  value(node: SyntaxNode): Expr {
    const n = unwrap(node);
    switch (n.type) {
      case 'identifier':
        return { kind: 'name', name: n.text };
      case 'null':
        return { kind: 'num', value: 0 };
      case 'true':
        return { kind: 'num', value: 1 };
      case 'false':
        return { kind: 'num', value: 0 };
      case 'number_literal': {
        const v = parseNumber(n.text);
        return v === undefined ? { kind: 'unknown', text: n.text } : { kind: 'num', value: v };
      }
      case 'char_literal':
        return { kind: 'unknown', text: n.text };
      case 'string_literal':
      case 'concatenated_string':
        return { kind: 'str' };
      case 'field_expression': {
        const base = n.childForFieldName('argument');
        const field = n.childForFieldName('field');
        if (!base || !field) return this.unknown(n);
        return { kind: 'field', base: this.value(base), field: field.text, arrow: operatorOf(n) === '->' };
      }
      case 'pointer_expression': {
        const arg = n.childForFieldName('argument');
        if (!arg) return this.unknown(n);
        const operand = this.value(arg);
        return operatorOf(n) === '&' ? { kind: 'addr', operand } : { kind: 'deref', operand };
      }
      case 'unary_expression': {
        const arg = n.childForFieldName('argument');
        if (!arg) return this.unknown(n);
        const op = operatorOf(n);
        const operand = this.value(arg);
        if (op === '+') return operand;
        if (op === '!' || op === '-' || op === '~') return { kind: 'unary', op, operand };
        return this.unknown(n);
      }
      case 'binary_expression':
        return this.binary(n);
      case 'update_expression':
        return this.update(n);
      case 'assignment_expression':
        return this.assignment(n);
      case 'call_expression':
        return lowerCall(n, this.ctx, this);
      case 'comma_expression': {
        const left = n.childForFieldName('left');
        const right = n.childForFieldName('right');
        if (left) this.value(left);
        return right ? this.value(right) : this.unknown(n);
      }
      case 'conditional_expression':
        return this.conditional(n);
      case 'subscript_expression':
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'offsetof_expression':
      case 'compound_literal_expression':
      case 'initializer_list':
      case 'gnu_asm_expression':
        for (const c of n.namedChildren) if (this.hasEffects(c)) this.value(c);
        return this.unknown(n);
      case 'ERROR':
        this.ctx.problem(n, 'unreadable expression');
        return this.unknown(n);
      default:
        return this.unknown(n);
    }
  }

  /**
   * Lowers a condition into control flow: jumps to `whenTrue` or `whenFalse`.
   * `&&`, `||`, `!` and parentheses become separate branches so each path
   * learns exactly what it tested.
   */
  condition(node: SyntaxNode, whenTrue: number, whenFalse: number,
    origin: 'if' | 'loop' | 'short-circuit' = 'if'): void {
    const cfg = this.ctx.cfg;
    const n = unwrap(node);
    if (n.type === 'unary_expression' && operatorOf(n) === '!') {
      const arg = n.childForFieldName('argument');
      if (arg) return this.condition(arg, whenFalse, whenTrue, origin);
    }
    if (n.type === 'binary_expression') {
      const op = operatorOf(n);
      const left = n.childForFieldName('left');
      const right = n.childForFieldName('right');
      if ((op === '&&' || op === '||') && left && right) {
        const second = cfg.newBlock();
        if (op === '&&') this.condition(left, second, whenFalse, origin);
        else this.condition(left, whenTrue, second, origin);
        cfg.resumeAt(second);
        this.condition(right, whenTrue, whenFalse, 'short-circuit');
        return;
      }
    }
    const cond = this.value(n);
    cfg.branch(cond, n.text, whenTrue, whenFalse, origin, rangeOf(n));
  }

  private unknown(n: SyntaxNode): Expr {
    return { kind: 'unknown', text: n.text };
  }

  private binary(n: SyntaxNode): Expr {
    const op = operatorOf(n);
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    if (!left || !right || !BINARY_OPERATORS.has(op)) return this.unknown(n);
    if ((op === '&&' || op === '||') && this.hasEffects(right)) {
      // `x = a && f()`: f() runs only on one side, so lower through control flow into a temp.
      return this.viaBranches(n, (t, f) => this.condition(n, t, f, 'short-circuit'),
        { kind: 'num', value: 1 }, { kind: 'num', value: 0 });
    }
    return { kind: 'binary', op: op as BinaryOperator, left: this.value(left), right: this.value(right) };
  }

  private conditional(n: SyntaxNode): Expr {
    const c = n.childForFieldName('condition');
    const t = n.childForFieldName('consequence');
    const f = n.childForFieldName('alternative');
    if (!c || !t || !f) return this.unknown(n);
    // Lowered through control flow even without side effects: `flags ? A : B` passes one of two
    // flag words, and each path should know which.
    const cfg = this.ctx.cfg;
    const temp = cfg.newTemp();
    const onTrue = cfg.newBlock();
    const onFalse = cfg.newBlock();
    const join = cfg.newBlock();
    this.condition(c, onTrue, onFalse, 'short-circuit');
    for (const [block, branch] of [[onTrue, t], [onFalse, f]] as const) {
      cfg.resumeAt(block);
      const v = this.value(branch);
      cfg.emit({ kind: 'assign', target: { kind: 'temp', id: temp }, targetText: n.text, op: '=', value: v, range: rangeOf(branch) });
      cfg.jump(join);
    }
    cfg.resumeAt(join);
    return { kind: 'temp', id: temp };
  }

  private viaBranches(n: SyntaxNode, lowerCond: (t: number, f: number) => void, onTrue: Expr, onFalse: Expr): Expr {
    const cfg = this.ctx.cfg;
    const temp = cfg.newTemp();
    const t = cfg.newBlock();
    const f = cfg.newBlock();
    const join = cfg.newBlock();
    lowerCond(t, f);
    for (const [block, v] of [[t, onTrue], [f, onFalse]] as const) {
      cfg.resumeAt(block);
      cfg.emit({ kind: 'assign', target: { kind: 'temp', id: temp }, targetText: n.text, op: '=', value: v, range: rangeOf(n) });
      cfg.jump(join);
    }
    cfg.resumeAt(join);
    return { kind: 'temp', id: temp };
  }

  /** The counter field an lvalue names (`tpr->pr_uref` → `pr_uref`), if it is one. */
  counterOf(node: SyntaxNode): string | undefined {
    const n = unwrap(node);
    if (n.type !== 'field_expression') return undefined;
    const field = n.childForFieldName('field')?.text;
    return field !== undefined && this.ctx.counterFields.has(field) ? field : undefined;
  }

  private update(n: SyntaxNode): Expr {
    const arg = n.childForFieldName('argument');
    if (!arg) return this.unknown(n);
    const op = operatorOf(n);
    const prefix = n.children[0]?.type === op;
    const amount = op === '++' ? 1 : -1;
    const target = this.value(arg);
    const counter = this.counterOf(arg);
    const cfg = this.ctx.cfg;
    if (counter) {
      const result = cfg.newTemp();
      cfg.emit({
        kind: 'count', target, targetText: unwrap(arg).text, counter, change: { kind: 'add', amount },
        result, resultIs: prefix ? 'after' : 'before', range: rangeOf(n),
      });
      return { kind: 'temp', id: result };
    }
    cfg.emit({ kind: 'assign', target, targetText: arg.text, op: amount > 0 ? '+=' : '-=', value: { kind: 'num', value: 1 }, range: rangeOf(n) });
    // The value of i++ is the old value; nothing downstream needs that precision.
    return prefix ? target : { kind: 'unknown', text: n.text };
  }

  private assignment(n: SyntaxNode): Expr {
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    const op = operatorOf(n);
    if (!left || !right || !ASSIGN_OPERATORS.has(op)) return this.unknown(n);
    const value = this.value(right);
    const target = this.value(left);
    const counter = this.counterOf(left);
    const cfg = this.ctx.cfg;
    if (counter && (op === '=' || op === '+=' || op === '-=')) {
      let change: CountChange;
      if (op === '=') change = { kind: 'set', value: value.kind === 'num' ? value.value : null };
      else if (value.kind === 'num') change = { kind: 'add', amount: op === '+=' ? value.value : -value.value };
      else change = { kind: 'set', value: null };
      cfg.emit({ kind: 'count', target, targetText: unwrap(left).text, counter, change, range: rangeOf(n) });
      return target;
    }
    cfg.emit({ kind: 'assign', target, targetText: unwrap(left).text, op: op as AssignOperator, value, range: rangeOf(n) });
    return target;
  }
}
