/**
 * Classifies a call by the vocabulary: a lock operation, a refcount(9)
 * change, an assertion, a call that never returns, or an ordinary call
 * (which the checks may follow if it is defined in the same file).
 */
import type { CountChange, Expr, LockMode } from '../../../simulator/src/ir';
import type { SyntaxNode } from '../parsing/syntax';
import type { ExpressionLowering, LoweringContext } from './expressions';
import { rangeOf, unwrap } from './expressions';

export function calleeName(call: SyntaxNode): string | undefined {
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  const u = unwrap(fn);
  return u.type === 'identifier' ? u.text : undefined;
}

export function callArguments(call: SyntaxNode): SyntaxNode[] {
  const args = call.childForFieldName('arguments');
  return args ? args.namedChildren.filter((c) => c.type !== 'comment') : [];
}

/** `&pr->pr_mtx` → `pr->pr_mtx`; `PROC_LOCK(p)` with field p_mtx → `p->p_mtx`. */
function lockObject(arg: Expr, field: string | undefined): Expr {
  const base = arg.kind === 'addr' ? arg.operand : arg;
  return field ? { kind: 'field', base, field, arrow: true } : base;
}

function lockText(argNode: SyntaxNode, field: string | undefined): string {
  const t = unwrap(argNode).text.replace(/^&\s*/, '');
  return field ? `${t}->${field}` : t;
}

/** Reads MA_OWNED | MA_NOTRECURSED and similar into what the assertion claims. */
function assertedState(modeNode: SyntaxNode | undefined, ctx: LoweringContext): { held: boolean; mode?: LockMode } | undefined {
  if (!modeNode) return undefined;
  const names = modeNode.text.match(/[A-Z_][A-Z0-9_]*/g) ?? [];
  for (const name of names) {
    const m = ctx.vocabulary.assertModes[name];
    if (m) return m;
  }
  return undefined;
}

export function lowerCall(n: SyntaxNode, ctx: LoweringContext, exprs: ExpressionLowering): Expr {
  const cfg = ctx.cfg;
  const name = calleeName(n);
  const argNodes = callArguments(n);
  const range = rangeOf(n);
  const voc = ctx.vocabulary;

  if (name !== undefined && Object.prototype.hasOwnProperty.call(voc.assertMacros, name)) {
    // KASSERT's message argument is never evaluated for its effects.
    const condNode = argNodes[voc.assertMacros[name]!.condArg];
    if (condNode) {
      const cond = exprs.value(condNode);
      cfg.emit({ kind: 'assert', cond, condText: condNode.text, macro: name, range });
    }
    return { kind: 'num', value: 0 };
  }

  const lockFn = name !== undefined && Object.prototype.hasOwnProperty.call(voc.locks, name) ? voc.locks[name] : undefined;
  if (lockFn && name !== undefined) {
    const lockArg = argNodes[lockFn.lockArg];
    if (!lockArg) {
      ctx.problem(n, `${name}() without its lock argument`);
      return { kind: 'unknown', text: n.text };
    }
    const lock = lockObject(exprs.value(lockArg), lockFn.field);
    const text = lockText(lockArg, lockFn.field);
    if (lockFn.action === 'assert-held') {
      const asserted = assertedState(lockFn.modeArg !== undefined ? argNodes[lockFn.modeArg] : undefined, ctx);
      if (!asserted) return { kind: 'num', value: 0 };
      cfg.emit({
        kind: 'lock', action: asserted.held ? 'assert-held' : 'assert-not-held', lock, lockText: text,
        lockClass: lockFn.lockClass, mode: asserted.mode, callee: name, range,
      });
      return { kind: 'num', value: 0 };
    }
    const isTry = lockFn.action === 'try-acquire' || lockFn.action === 'try-upgrade';
    const result = isTry ? cfg.newTemp() : undefined;
    cfg.emit({
      kind: 'lock', action: lockFn.action, lock, lockText: text, lockClass: lockFn.lockClass,
      mode: lockFn.mode, result, callee: name, range,
    });
    if (result === undefined) return { kind: 'num', value: 0 };
    // sx_xlock_sig() returns 0 on success: expose "succeeded" as the temp, and the C value as its negation.
    return lockFn.successValue === 0 ? { kind: 'unary', op: '!', operand: { kind: 'temp', id: result } } : { kind: 'temp', id: result };
  }

  const rc = name !== undefined && Object.prototype.hasOwnProperty.call(voc.refcountFunctions, name) ? voc.refcountFunctions[name] : undefined;
  if (rc && name !== undefined) {
    const counterArg = argNodes[rc.counterArg];
    const amountNode = rc.amountArg !== undefined ? argNodes[rc.amountArg] : undefined;
    const amountExpr = amountNode ? exprs.value(amountNode) : undefined;
    const amount = amountExpr?.kind === 'num' ? amountExpr.value : amountNode ? null : 1;
    if (!counterArg) {
      ctx.problem(n, `${name}() without its counter argument`);
      return { kind: 'unknown', text: n.text };
    }
    const counterExpr = exprs.value(counterArg);
    const target = counterExpr.kind === 'addr' ? counterExpr.operand : { kind: 'deref' as const, operand: counterExpr };
    const u = unwrap(counterArg);
    const targetNode = u.type === 'pointer_expression' ? u.childForFieldName('argument') : null;
    const field = targetNode ? exprs.counterOf(targetNode) : undefined;
    const targetText = targetNode ? unwrap(targetNode).text : u.text;
    if (rc.effect === 'read') {
      if (!field) return { kind: 'unknown', text: n.text };
      return target;
    }
    let change: CountChange;
    let resultIs: 'before' | 'after' | 'flag' | undefined;
    switch (rc.effect) {
      case 'acquire': change = amount === null ? { kind: 'set', value: null } : { kind: 'add', amount }; break;
      case 'release': change = { kind: 'release', amount: amount ?? 1 }; resultIs = 'flag'; break;
      case 'init': change = { kind: 'set', value: amount }; break;
      case 'release-if-not-last': change = { kind: 'release-if-not-last' }; resultIs = 'flag'; break;
      case 'acquire-if-not-zero': change = { kind: 'acquire-if-not-zero' }; resultIs = 'flag'; break;
    }
    if (!field) {
      // A refcount(9) call on a counter the configuration does not name: an ordinary call.
      const result = cfg.newTemp();
      cfg.emit({ kind: 'call', callee: name, args: [counterExpr], argTexts: [counterArg.text], result, range });
      return { kind: 'temp', id: result };
    }
    const result = resultIs ? cfg.newTemp() : undefined;
    cfg.emit({ kind: 'count', target, targetText, counter: field, change, result, resultIs, callee: name, range });
    return result === undefined ? { kind: 'num', value: 0 } : { kind: 'temp', id: result };
  }

  // An argument tree-sitter could not read (a type given to __DECONST) is simply unknown.
  const args = argNodes.map((a): Expr => (a.type === 'ERROR' ? { kind: 'unknown', text: a.text } : exprs.value(a)));
  if (name === undefined) {
    const fn = n.childForFieldName('function');
    if (fn && exprs.hasEffects(fn)) exprs.value(fn);
  }
  const result = cfg.newTemp();
  cfg.emit({
    kind: 'call', callee: name ?? (n.childForFieldName('function')?.text ?? '?'), args,
    argTexts: argNodes.map((a) => a.text), result, range,
  });
  if (name !== undefined && voc.noReturnCalls.includes(name)) ctx.aborted = true;
  return { kind: 'temp', id: result };
}
