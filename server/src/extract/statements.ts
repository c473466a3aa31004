/**
 * Lowers C statements into the control-flow graph: structured statements,
 * goto ladders, switch, and the kernel idioms that tree-sitter sees without
 * the preprocessor — iteration macros used as loop headers
 * (`TAILQ_FOREACH(...) { ... }` parses as a call missing its `;` followed by
 * a block) and #ifdef blocks inside function bodies.
 */
import type { Expr } from '../../../simulator/src/ir';
import type { Vocabulary } from '../../../simulator/src/config';
import type { SyntaxNode } from '../parsing/syntax';
import { declaredVariables } from './declarations';
import { ExpressionLowering, LoweringContext, parseNumber, rangeOf } from './expressions';
import { callArguments, calleeName } from './calls';
import type { SourceRange, Variable } from '../../../simulator/src/ir';

const IGNORED_STATEMENTS = new Set([
  'comment', 'type_definition', 'struct_specifier', 'union_specifier', 'enum_specifier',
  'preproc_def', 'preproc_function_def', 'preproc_call', 'preproc_include', 'gnu_asm_expression',
  '{', '}', ';',
]);

export class StatementLowering {
  private readonly breakTargets: number[] = [];
  private readonly continueTargets: number[] = [];
  /** The latch block of each enclosing *_LOCKED iteration macro, for `continue`. */
  readonly definedLabels = new Set<string>();
  readonly locals: Variable[] = [];
  /** Statements whose parse damage a recovery (a glued iteration macro) made good. */
  readonly recoveredRanges: SourceRange[] = [];
  private readonly loopPattern: RegExp;

  constructor(private readonly ctx: LoweringContext, private readonly exprs: ExpressionLowering) {
    this.loopPattern = new RegExp(ctx.vocabulary.loopMacroPattern);
  }

  private get cfg() {
    return this.ctx.cfg;
  }

  /** The statements of a compound statement, or of a preprocessor branch. */
  statementList(nodes: readonly SyntaxNode[]): void {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const next = nodes[i + 1];
      const header = this.macroLoopHeader(node, next);
      if (header) {
        this.macroLoop(header, next);
        i++;
        continue;
      }
      if (node.type === 'if_statement' && next && this.endsInLoopHeader(node)) {
        // `if (pr == NULL) TAILQ_FOREACH(...)` + body: the body parsed as the if's next sibling.
        this.danglingBody = next;
        this.statement(node);
        this.danglingBody = undefined;
        i++;
        continue;
      }
      this.statement(node);
    }
  }

  /** The body of an iteration macro that ended an if's branch, waiting for its header. */
  private danglingBody: SyntaxNode | undefined;

  private isLoopMacro(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.ctx.vocabulary.loopMacros, name) || this.loopPattern.test(name);
  }

  /** An expression statement `NAME(args)` whose `;` is missing, NAME an iteration macro. */
  private headerCall(node: SyntaxNode): SyntaxNode | undefined {
    if (node.type !== 'expression_statement') return undefined;
    const call = node.namedChildren[0];
    if (!call || call.type !== 'call_expression') return undefined;
    const last = node.children[node.children.length - 1];
    if (last && !last.isMissing && last.type === ';') return undefined;
    return call;
  }

  private endsInLoopHeader(ifNode: SyntaxNode): boolean {
    const branches = [ifNode.childForFieldName('consequence'), ifNode.childForFieldName('alternative')?.namedChildren[0] ?? null];
    return branches.some((b) => {
      if (!b) return false;
      if (b.type === 'if_statement') return this.endsInLoopHeader(b);
      const call = this.headerCall(b);
      const name = call ? calleeName(call) : undefined;
      return name !== undefined && this.isLoopMacro(name);
    });
  }

  /**
   * An iteration macro used as a loop header: `NAME(args)` with its `;`
   * missing, followed by the loop body. Returns the call node.
   */
  private macroLoopHeader(node: SyntaxNode, next: SyntaxNode | undefined): SyntaxNode | undefined {
    if (!next) return undefined;
    const call = this.headerCall(node);
    const name = call ? calleeName(call) : undefined;
    if (!call || name === undefined) return undefined;
    return this.isLoopMacro(name) || next.type === 'compound_statement' ? call : undefined;
  }

  private macroLoop(call: SyntaxNode, body: SyntaxNode | undefined): void {
    const name = calleeName(call)!;
    this.macroLoopOf(name, callArguments(call), call, body);
  }

  /**
   * `FOREACH_PROC_IN_SYSTEM(p) { ... }`, a one-argument macro before a block,
   * parses as a nested function definition of type FOREACH_PROC_IN_SYSTEM.
   */
  private macroLoopDefinition(node: SyntaxNode): boolean {
    const type = node.childForFieldName('type');
    const declarator = node.childForFieldName('declarator');
    const body = node.childForFieldName('body');
    if (!type || type.type !== 'type_identifier' || !this.isLoopMacro(type.text) || !body) return false;
    const arg = declarator?.type === 'parenthesized_declarator' ? declarator.namedChildren[0] : undefined;
    this.macroLoopOf(type.text, arg ? [arg] : [], node, body);
    return true;
  }

  private macroLoopOf(name: string, args: readonly SyntaxNode[], header: SyntaxNode, body: SyntaxNode | undefined): void {
    const call = header;
    const cfg = this.cfg;
    const voc: Vocabulary = this.ctx.vocabulary;
    const spec = Object.prototype.hasOwnProperty.call(voc.loopMacros, name) ? voc.loopMacros[name]! : { assigns: [0] };
    // The list or parent a loop walks (`&allprison`, `td->td_ucred->cr_prison`), for the simulator.
    const macroArgs: Expr[] = args.map((a) => (a.type === 'identifier' ? { kind: 'name', name: a.text }
      : !this.exprs.hasEffects(a) ? this.exprs.value(a) : { kind: 'unknown', text: a.text }));
    const head = cfg.newBlock();
    const bodyBlock = cfg.newBlock();
    const latch = cfg.newBlock();
    const ended = cfg.newBlock();
    const exit = cfg.newBlock();
    cfg.enter(head);
    cfg.branch({ kind: 'unknown', text: `${name}: another element` }, `${name}(…) has another element`,
      bodyBlock, ended, 'macro-loop', rangeOf(call));
    // A queue(3)-style loop that runs to its end leaves its variable NULL (`if (pr != NULL)` after
    // TAILQ_FOREACH tells a break from the end); a `break` keeps the element.
    cfg.resumeAt(ended);
    const iterationVar = args[spec.assigns[0] ?? 0];
    if (iterationVar?.type === 'identifier') {
      cfg.emit({
        kind: 'assign', target: { kind: 'name', name: iterationVar.text }, targetText: iterationVar.text, op: '=',
        value: { kind: 'num', value: 0 }, range: rangeOf(call),
      });
    }
    cfg.jump(exit);
    cfg.resumeAt(bodyBlock);
    for (const index of spec.assigns) {
      const arg = args[index];
      if (!arg || arg.type !== 'identifier') continue;
      cfg.emit({
        kind: 'assign', target: { kind: 'name', name: arg.text }, targetText: arg.text, op: '=',
        value: { kind: 'element', macro: name, args: macroArgs }, range: rangeOf(call),
      });
    }
    const holds = spec.holds;
    const heldArg = holds ? args[holds.arg] : undefined;
    const heldLock: Expr | undefined = holds && heldArg
      ? { kind: 'field', base: { kind: 'name', name: heldArg.text }, field: holds.field, arrow: true } : undefined;
    const heldText = holds && heldArg ? `${heldArg.text}->${holds.field}` : '';
    if (holds && heldLock) {
      cfg.emit({ kind: 'scope-lock', action: 'acquire', lock: heldLock, lockText: heldText, lockClass: holds.lockClass, macro: name, range: rangeOf(call) });
    }
    this.breakTargets.push(exit);
    this.continueTargets.push(latch);
    if (body) this.statement(body);
    this.breakTargets.pop();
    this.continueTargets.pop();
    cfg.enter(latch);
    if (holds && heldLock) {
      cfg.emit({ kind: 'scope-lock', action: 'release', lock: heldLock, lockText: heldText, lockClass: holds.lockClass, macro: name, range: rangeOf(call) });
    }
    cfg.jump(head);
    cfg.resumeAt(exit);
  }

  statement(node: SyntaxNode): void {
    const cfg = this.cfg;
    switch (node.type) {
      case 'compound_statement':
        this.statementList(node.namedChildren);
        return;
      case 'function_definition':
        if (!this.macroLoopDefinition(node)) this.ctx.problem(node, 'nested function definition');
        return;
      case 'expression_statement': {
        if (this.danglingBody) {
          const call = this.headerCall(node);
          const name = call ? calleeName(call) : undefined;
          if (call && name !== undefined && this.isLoopMacro(name)) {
            const body = this.danglingBody;
            this.danglingBody = undefined;
            this.macroLoop(call, body);
            return;
          }
        }
        if (node.hasError && this.gluedMacroLoop(node)) return;
        const e = node.namedChildren.find((c) => c.type !== 'comment');
        if (e) this.exprs.value(e);
        this.endIfAborted(node);
        return;
      }
      case 'declaration':
        this.declaration(node);
        this.endIfAborted(node);
        return;
      case 'if_statement':
        this.ifStatement(node);
        return;
      case 'while_statement':
        this.whileStatement(node);
        return;
      case 'do_statement':
        this.doStatement(node);
        return;
      case 'for_statement':
        this.forStatement(node);
        return;
      case 'switch_statement':
        this.switchStatement(node);
        return;
      case 'return_statement': {
        const v = node.namedChildren.find((c) => c.type !== 'comment');
        const value = v ? this.exprs.value(v) : undefined;
        cfg.terminate({ kind: 'return', value, valueText: v?.text, range: rangeOf(node) });
        return;
      }
      case 'goto_statement': {
        const label = node.childForFieldName('label');
        if (label) cfg.jump(cfg.labelBlock(label.text));
        return;
      }
      case 'labeled_statement': {
        const label = node.childForFieldName('label');
        if (label) {
          this.definedLabels.add(label.text);
          cfg.enter(cfg.labelBlock(label.text));
        }
        for (const c of node.namedChildren) if (c.type !== 'statement_identifier') this.statement(c);
        return;
      }
      case 'break_statement': {
        const t = this.breakTargets[this.breakTargets.length - 1];
        if (t === undefined) this.ctx.problem(node, '`break` outside a loop or switch');
        else cfg.jump(t);
        return;
      }
      case 'continue_statement': {
        const t = this.continueTargets[this.continueTargets.length - 1];
        if (t === undefined) this.ctx.problem(node, '`continue` outside a loop');
        else cfg.jump(t);
        return;
      }
      case 'preproc_if':
      case 'preproc_ifdef':
        this.preprocessorConditional(node);
        return;
      case 'attributed_statement':
      case 'case_statement':
        for (const c of node.namedChildren) {
          if (c.type !== 'attribute_declaration' && node.childForFieldName('value')?.startIndex !== c.startIndex) this.statement(c);
        }
        return;
      case 'ERROR':
        this.ctx.problem(node, 'unreadable statement');
        return;
      default:
        if (IGNORED_STATEMENTS.has(node.type)) return;
        if (node.type.endsWith('_expression') || node.type === 'identifier') {
          this.exprs.value(node);
          return;
        }
        this.ctx.problem(node, `unexpected ${node.type.replace(/_/g, ' ')}`);
    }
  }

  /**
   * A brace-less iteration macro glued to its body:
   *
   *     FOREACH_PRISON_DESCENDANT_LOCKED(pr, tpr, descend)
   *             tpr->pr_allow &= ~tallow;
   *
   * tree-sitter reads `FOREACH(...) tpr->pr_allow` as one broken field
   * expression. The macro call is the leftmost operand; the text after it is
   * the body, which is re-parsed on its own (at its own offsets).
   */
  private gluedMacroLoop(node: SyntaxNode): boolean {
    if (!this.ctx.reparse) return false;
    let n: SyntaxNode | undefined = node.namedChildren[0];
    while (n && n.type !== 'call_expression') n = n.namedChildren[0];
    if (!n) return false;
    const name = calleeName(n);
    if (name === undefined || !this.isLoopMacro(name)) return false;
    const root = this.ctx.reparse(this.ctx.text, n.endIndex, node.endIndex);
    const body = root.namedChildren.filter((c) => c.type !== 'comment');
    if (root.hasError || body.length !== 1) return false;
    this.recoveredRanges.push(rangeOf(node));
    this.macroLoop(n, body[0]);
    return true;
  }

  private endIfAborted(node: SyntaxNode): void {
    if (this.ctx.aborted) {
      this.ctx.aborted = false;
      this.cfg.terminate({ kind: 'abort', range: rangeOf(node) });
    }
  }

  private declaration(node: SyntaxNode): void {
    for (const v of declaredVariables(node)) this.locals.push(v);
    for (const child of node.namedChildren) {
      if (child.type !== 'init_declarator') continue;
      const value = child.childForFieldName('value');
      const vars = declaredVariables({ ...nodeShim(child), type: 'declaration' } as SyntaxNode);
      const name = vars[0]?.name ?? child.childForFieldName('declarator')?.text ?? '?';
      if (!value || value.type === 'initializer_list') continue;
      const v = this.exprs.value(value);
      this.cfg.emit({ kind: 'assign', target: { kind: 'name', name }, targetText: name, op: '=', value: v, range: rangeOf(child) });
    }
  }

  private ifStatement(node: SyntaxNode): void {
    const cfg = this.cfg;
    const cond = node.childForFieldName('condition');
    const consequence = node.childForFieldName('consequence');
    const alternative = node.childForFieldName('alternative');
    const altStatement = alternative?.type === 'else_clause' ? alternative.namedChildren.find((c) => c.type !== 'comment') : alternative;
    const onTrue = cfg.newBlock();
    const onFalse = altStatement ? cfg.newBlock() : undefined;
    const join = cfg.newBlock();
    if (cond) this.exprs.condition(cond, onTrue, onFalse ?? join, 'if');
    else cfg.jump(onTrue);
    cfg.resumeAt(onTrue);
    if (consequence) this.statement(consequence);
    cfg.enter(join);
    if (onFalse !== undefined && altStatement) {
      cfg.resumeAt(onFalse);
      this.statement(altStatement);
      cfg.enter(join);
    }
  }

  private loopBody(body: SyntaxNode | null, breakTo: number, continueTo: number): void {
    this.breakTargets.push(breakTo);
    this.continueTargets.push(continueTo);
    if (body) this.statement(body);
    this.breakTargets.pop();
    this.continueTargets.pop();
  }

  private whileStatement(node: SyntaxNode): void {
    const cfg = this.cfg;
    const head = cfg.newBlock();
    const body = cfg.newBlock();
    const exit = cfg.newBlock();
    cfg.enter(head);
    const cond = node.childForFieldName('condition');
    if (cond) this.exprs.condition(cond, body, exit, 'loop');
    else cfg.jump(body);
    cfg.resumeAt(body);
    this.loopBody(node.childForFieldName('body'), exit, head);
    cfg.enter(head);
    cfg.resumeAt(exit);
  }

  private doStatement(node: SyntaxNode): void {
    const cfg = this.cfg;
    const body = cfg.newBlock();
    const test = cfg.newBlock();
    const exit = cfg.newBlock();
    cfg.enter(body);
    this.loopBody(node.childForFieldName('body'), exit, test);
    cfg.enter(test);
    const cond = node.childForFieldName('condition');
    if (cond) this.exprs.condition(cond, body, exit, 'loop');
    else cfg.jump(body);
    cfg.resumeAt(exit);
  }

  private forStatement(node: SyntaxNode): void {
    const cfg = this.cfg;
    const init = node.childForFieldName('initializer');
    if (init) {
      if (init.type === 'declaration') this.declaration(init);
      else this.exprs.value(init);
    }
    const head = cfg.newBlock();
    const body = cfg.newBlock();
    const latch = cfg.newBlock();
    const exit = cfg.newBlock();
    cfg.enter(head);
    const cond = node.childForFieldName('condition');
    if (cond) this.exprs.condition(cond, body, exit, 'loop');
    else cfg.jump(body);
    cfg.resumeAt(body);
    this.loopBody(node.childForFieldName('body'), exit, latch);
    cfg.enter(latch);
    const update = node.childForFieldName('update');
    if (update) this.exprs.value(update);
    cfg.jump(head);
    cfg.resumeAt(exit);
  }

  private switchStatement(node: SyntaxNode): void {
    const cfg = this.cfg;
    const cond = node.childForFieldName('condition');
    const body = node.childForFieldName('body');
    const value: Expr = cond ? this.exprs.value(cond) : { kind: 'unknown', text: '?' };
    const cases = body ? body.namedChildren.filter((c) => c.type === 'case_statement') : [];
    const exit = cfg.newBlock();
    const caseBlocks = cases.map(() => cfg.newBlock());
    let defaultBlock = exit;
    // The dispatch: one test per case label, in order, then the default.
    cases.forEach((c, i) => {
      const label = c.childForFieldName('value');
      if (!label) {
        defaultBlock = caseBlocks[i]!;
        return;
      }
      const next = cfg.newBlock();
      const labelValue = parseNumber(label.text);
      const right: Expr = labelValue !== undefined ? { kind: 'num', value: labelValue } : { kind: 'name', name: label.text };
      cfg.branch({ kind: 'binary', op: '==', left: value, right }, `${cond?.text ?? ''} == ${label.text}`,
        caseBlocks[i]!, next, 'switch', rangeOf(label));
      cfg.resumeAt(next);
    });
    cfg.jump(defaultBlock);
    this.breakTargets.push(exit);
    cases.forEach((c, i) => {
      cfg.enter(caseBlocks[i]!);
      const valueNode = c.childForFieldName('value');
      this.statementList(c.namedChildren.filter((s) => !valueNode || s.startIndex !== valueNode.startIndex));
    });
    this.breakTargets.pop();
    cfg.enter(exit);
  }

  /** #if/#ifdef/#ifndef inside a body: both sides are explored unless the configuration decides. */
  private preprocessorConditional(node: SyntaxNode): void {
    const cfg = this.cfg;
    const decision = this.preprocessorDecision(node);
    const alternative = node.childForFieldName('alternative');
    const skip = new Set<number>();
    for (const f of ['name', 'condition', 'alternative']) {
      const c = node.childForFieldName(f);
      if (c) skip.add(c.startIndex);
    }
    const body = node.namedChildren.filter((c) => !skip.has(c.startIndex));
    const lowerAlternative = (): void => {
      if (!alternative) return;
      if (alternative.type === 'preproc_else') this.statementList(alternative.namedChildren);
      else this.preprocessorConditional(alternative);
    };
    if (decision === true) return this.statementList(body);
    if (decision === false) return lowerAlternative();
    const onTrue = cfg.newBlock();
    const onFalse = cfg.newBlock();
    const join = cfg.newBlock();
    const text = node.text.split('\n', 1)[0]!.trim();
    cfg.branch({ kind: 'unknown', text }, text, onTrue, onFalse, 'preprocessor', rangeOf(node.children[0] ?? node));
    cfg.resumeAt(onTrue);
    this.statementList(body);
    cfg.enter(join);
    cfg.resumeAt(onFalse);
    lowerAlternative();
    cfg.enter(join);
  }

  private preprocessorDecision(node: SyntaxNode): boolean | undefined {
    const defines = this.ctx.vocabulary.defines;
    if (node.type === 'preproc_ifdef') {
      const name = node.childForFieldName('name')?.text;
      if (name === undefined || !Object.prototype.hasOwnProperty.call(defines, name)) return undefined;
      const defined = defines[name]!;
      return node.children[0]?.type === '#ifndef' ? !defined : defined;
    }
    const cond = node.childForFieldName('condition');
    if (!cond) return undefined;
    const n = parseNumber(cond.text.trim());
    if (n !== undefined) return n !== 0;
    const m = /^(!\s*)?defined\s*\(?\s*([A-Za-z_]\w*)\s*\)?$/.exec(cond.text.trim());
    if (m && Object.prototype.hasOwnProperty.call(defines, m[2]!)) return m[1] ? !defines[m[2]!] : defines[m[2]!];
    return undefined;
  }
}

/** A view of an init_declarator that declaredVariables can read (it has no `type` field). */
function nodeShim(n: SyntaxNode): SyntaxNode {
  return {
    get type() { return n.type; },
    get startIndex() { return n.startIndex; },
    get endIndex() { return n.endIndex; },
    get text() { return n.text; },
    get isNamed() { return n.isNamed; },
    get isMissing() { return n.isMissing; },
    get hasError() { return n.hasError; },
    get childCount() { return 1; },
    get children() { return [n]; },
    get namedChildren() { return [n]; },
    get parent() { return n.parent; },
    get nextSibling() { return n.nextSibling; },
    get previousSibling() { return n.previousSibling; },
    childForFieldName: () => null,
  };
}
