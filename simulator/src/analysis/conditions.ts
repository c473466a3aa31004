/**
 * Branch conditions: which way a path can go, and what it learns by going
 * there. `refine(s, cond, true)` is the state on the true side, or null when
 * that side is impossible on this path. Flag tests, NULL tests, pointer
 * equality (`tpr != pr`), counter comparisons (`--x > 0`), trylock results
 * and tested field bits are understood; anything else leaves the state as
 * it was, so both sides stay possible.
 */
import type { Expr } from '../ir';
import type { FunctionContext } from './context';
import { union } from './context';
import { sameObject } from './objects';
import { AState, CounterFact, derive, Value, setCounter, setFact, setTemp, setVar } from './state';

type Cmp = '==' | '!=' | '<' | '<=' | '>' | '>=';
const FLIP: Record<Cmp, Cmp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const NEGATE: Record<Cmp, Cmp> = { '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

export function counterFact(s: AState, key: string): CounterFact {
  return s.counters.get(key) ?? { delta: 0, lo: 0, hi: Infinity, approx: false };
}

/** The value of a condition on this path, if the path determines it. */
export function decide(ctx: FunctionContext, s: AState, cond: Expr): boolean | undefined {
  const t = refine(ctx, s, cond, true);
  const f = refine(ctx, s, cond, false);
  if (t && !f) return true;
  if (f && !t) return false;
  return undefined;
}

export function refine(ctx: FunctionContext, s: AState, cond: Expr, truth: boolean): AState | null {
  switch (cond.kind) {
    case 'num':
      return (cond.value !== 0) === truth ? s : null;
    case 'str':
      return truth ? s : null;
    case 'unary':
      if (cond.op === '!') return refine(ctx, s, cond.operand, !truth);
      return s;
    case 'binary':
      return refineBinary(ctx, s, cond, truth);
    case 'name':
      return refineTruthy(ctx, s, cond, truth);
    case 'temp':
      return refineTruthy(ctx, s, cond, truth);
    case 'field':
      return refineTruthy(ctx, s, cond, truth);
    default:
      return s;
  }
}

function refineBinary(ctx: FunctionContext, s: AState, e: Extract<Expr, { kind: 'binary' }>, truth: boolean): AState | null {
  switch (e.op) {
    case '&&':
    case '||': {
      // `a && b` true, or `a || b` false: both operands are known.
      const both = (e.op === '&&') === truth;
      if (both) {
        const l = refine(ctx, s, e.left, truth);
        return l && refine(ctx, l, e.right, truth);
      }
      // Otherwise one of them is: only refine when the other is decided.
      const l = decide(ctx, s, e.left);
      const r = decide(ctx, s, e.right);
      const needed = !truth; // && false needs a false operand; || true needs a true one
      if (l === !needed && r === !needed) return null;
      if (l === !needed) return refine(ctx, s, e.right, needed);
      if (r === !needed) return refine(ctx, s, e.left, needed);
      return s;
    }
    case '&':
      return refineMask(ctx, s, e, truth);
    case '==': case '!=': case '<': case '<=': case '>': case '>=':
      return refineCompare(ctx, s, e.op, e.left, e.right, truth);
    default:
      return s;
  }
}

/** `x` used as a truth value: a flag, a pointer, an int, a counter. */
function refineTruthy(ctx: FunctionContext, s: AState, e: Expr, truth: boolean): AState | null {
  if (e.kind === 'field' && ctx.vocabulary.counterFields.includes(e.field)) {
    return refineCompare(ctx, s, '!=', e, { kind: 'num', value: 0 }, truth);
  }
  const v = valueOfOperand(ctx, s, e);
  switch (v.k) {
    case 'cond': {
      // Still the condition it was saved from? Then testing the variable tests the condition,
      // with the temps it read (long dead by now) put back for the test.
      const names = new Set<string>();
      const collect = (x: Expr): void => {
        if (x.kind === 'name') names.add(x.name);
        else if (x.kind === 'field') collect(x.base);
        else if (x.kind === 'unary' || x.kind === 'addr' || x.kind === 'deref') collect(x.operand);
        else if (x.kind === 'binary') { collect(x.left); collect(x.right); }
      };
      collect(v.cond);
      if (ctx.snapshotOf(names, v.temps, s) !== v.snapshot) return assign(s, e, { k: 'int', zero: !truth });
      let withTemps = s;
      for (const [id, tv] of v.temps) withTemps = setTemp(withTemps, id, tv);
      const refined = refine(ctx, withTemps, v.cond, truth);
      if (!refined) return null;
      let temps = refined.temps;
      for (const [id] of v.temps) {
        const before = s.temps.get(id);
        temps = before !== undefined ? temps.with(id, before) : temps.without(id);
      }
      return assign(derive(refined, { temps }), e, { k: 'int', zero: !truth });
    }
    case 'int':
      if (v.value !== undefined) return (v.value !== 0) === truth ? s : null;
      if (v.zero !== undefined) return v.zero !== truth ? s : null;
      return assign(s, e, { k: 'int', zero: !truth });
    case 'ptr':
      if (v.nullness === 'nonnull') return truth ? s : null;
      return truth ? assign(s, e, { ...v, nullness: 'nonnull' }) : assign(s, e, { k: 'null' });
    case 'null':
      return truth ? null : s;
    case 'cnt':
      return refineCompare(ctx, s, '!=', e, { kind: 'num', value: 0 }, truth);
    case 'bits':
      if (v.set.length > 0) return truth ? s : null;
      return s;
    case 'unknown':
      if (e.kind === 'name' && !ctx.isGlobal(e.name)) {
        if (ctx.isPointerVar(e.name)) {
          return truth ? assign(s, e, { k: 'ptr', obj: ctx.symbols.join('v:', e.name), nullness: 'nonnull' }) : assign(s, e, { k: 'null' });
        }
        return assign(s, e, { k: 'int', zero: !truth });
      }
      return s;
  }
}

function valueOfOperand(ctx: FunctionContext, s: AState, e: Expr): Value {
  if (e.kind === 'name') return s.vars.get(e.name) ?? { k: 'unknown' };
  if (e.kind === 'temp') return s.temps.get(e.id) ?? { k: 'unknown' };
  return ctx.valueOf(e, s, 0);
}

function assign(s: AState, e: Expr, v: Value): AState {
  if (e.kind === 'name') return setVar(s, e.name, v);
  if (e.kind === 'temp') return setTemp(s, e.id, v);
  return s;
}

/** `word & MASK` as a truth value: a flag test, or a tested bit of an object's field. */
function refineMask(ctx: FunctionContext, s: AState, e: Extract<Expr, { kind: 'binary' }>, truth: boolean): AState | null {
  let word = e.left;
  let mask = ctx.maskOf(e.right);
  if (!mask) {
    mask = ctx.maskOf(e.left);
    word = e.right;
  }
  // Two constants (`PD_DEREF & PD_LOCKED`, as a call's flags argument is tested): decided outright.
  const wordMask = ctx.maskOf(word);
  if (mask && wordMask) return wordMask.some((b) => mask!.includes(b)) === truth ? s : null;
  if (mask && ((word.kind === 'name' && !ctx.isGlobal(word.name)) || word.kind === 'temp')) {
    const v = valueOfOperand(ctx, s, word);
    // A word known to be 0 (`drflags = 0;`) has every bit clear.
    const zero = v.k === 'int' && (v.value === 0 || v.zero === true);
    const bits = v.k === 'bits' ? v : { k: 'bits' as const, set: [] as string[], clear: [] as string[], exact: zero };
    const anySet = mask.some((b) => bits.set.includes(b));
    const allClear = mask.every((b) => bits.clear.includes(b) || (bits.exact && !bits.set.includes(b)));
    if (anySet) return truth ? s : null;
    if (allClear) return truth ? null : s;
    let refined: Value;
    if (!truth) {
      refined = { ...bits, clear: union(bits.clear, mask) };
    } else {
      const open = mask.filter((b) => !bits.clear.includes(b));
      refined = open.length === 1 ? { ...bits, set: union(bits.set, open) } : bits;
    }
    let out = assign(s, word, refined);
    // A test of the parameter's entry value is also a fact about the entry contract: the bits
    // this test just learnt (not those the function itself set or cleared) are the caller's.
    if (bits.entry && v.k === 'bits') {
      const entryName = `@entry:${bits.entry}`;
      const ev = out.vars.get(entryName);
      if (ev?.k === 'bits' && refined.k === 'bits') {
        const learntSet = refined.set.filter((b) => !bits.set.includes(b));
        const learntClear = refined.clear.filter((b) => !bits.clear.includes(b));
        if (learntSet.length || learntClear.length) {
          out = setVar(out, entryName, { ...ev, set: union(ev.set, learntSet), clear: union(ev.clear, learntClear) });
        }
      }
    }
    return out;
  }
  // `pr->pr_flags & PR_PERSIST`, `flags & JAIL_ATTACH`: remembered as a fact about that field or
  // variable, so a later test of the same bit goes the same way.
  const bit = e.right.kind === 'name' ? e.right.name : undefined;
  if (bit && /^[A-Z_][A-Z0-9_]*$/.test(bit) && !ctx.types.has(bit)) {
    let key: string | undefined;
    if (e.left.kind === 'field') key = ctx.fieldBitKey(e.left, bit, s);
    else if (e.left.kind === 'name' && ctx.types.has(e.left.name)) key = ctx.symbols.join(ctx.symbols.join('v:', e.left.name), ctx.symbols.join('&', bit));
    if (key) {
      const known = s.facts.get(key);
      if (known !== undefined) return known === truth ? s : null;
      let out = setFact(s, key, truth);
      // A persistent jail holds a reference of each kind on itself: PR_PERSIST set means both
      // counters are at least 1.
      if (truth && bit === ctx.vocabulary.persistFlag && e.left.kind === 'field') {
        const obj = key.slice(0, key.lastIndexOf('.'));
        for (const field of ctx.vocabulary.counterFields) {
          const ck = `${obj}.${field}`;
          const f = counterFact(out, ck);
          if (f.lo < 1 && f.hi >= 1) out = setCounter(out, ck, { ...f, lo: 1 });
        }
      }
      // What a test first learns about a parameter's object is part of what the caller can see.
      return key.startsWith('p:') && !s.observed.has(key) ? derive(out, { observed: out.observed.with(key, truth) }) : out;
    }
  }
  return s;
}

/** A counter's current value plus an adjustment: `tpr->pr_uref`, or a temp holding `--x`. */
function counterTerm(ctx: FunctionContext, s: AState, e: Expr): { key: string; adjust: number } | undefined {
  if (e.kind === 'field' && ctx.vocabulary.counterFields.includes(e.field)) {
    const key = ctx.counterKey(e, s);
    return key ? { key, adjust: 0 } : undefined;
  }
  if (e.kind === 'temp') {
    const v = s.temps.get(e.id);
    if (v?.k === 'cnt') return { key: v.key, adjust: v.adjust };
  }
  return undefined;
}

function constantOf(ctx: FunctionContext, s: AState, e: Expr): number | undefined {
  if (e.kind === 'num') return e.value;
  const v = valueOfOperand(ctx, s, e);
  return v.k === 'int' ? v.value : undefined;
}

function isNull(ctx: FunctionContext, s: AState, e: Expr): boolean {
  if (e.kind === 'num') return e.value === 0;
  return valueOfOperand(ctx, s, e).k === 'null';
}

function refineCompare(ctx: FunctionContext, s: AState, op: Cmp, left: Expr, right: Expr, truth: boolean): AState | null {
  // Put the constant on the right.
  if (constantOf(ctx, s, left) !== undefined && constantOf(ctx, s, right) === undefined) {
    return refineCompare(ctx, s, FLIP[op], right, left, truth);
  }
  const effective = truth ? op : NEGATE[op];
  const c = constantOf(ctx, s, right);

  // (flags & PD_X) == 0 and friends.
  if (c === 0 && left.kind === 'binary' && left.op === '&' && (effective === '==' || effective === '!=')) {
    return refineMask(ctx, s, left, effective === '!=');
  }

  const term = counterTerm(ctx, s, left);
  if (term && term.key.includes('^*')) return s;
  if (term && c !== undefined) {
    const fact = counterFact(s, term.key);
    const k = c - term.adjust;
    let { lo, hi } = fact;
    switch (effective) {
      case '>': lo = Math.max(lo, k + 1); break;
      case '>=': lo = Math.max(lo, k); break;
      case '<': hi = Math.min(hi, k - 1); break;
      case '<=': hi = Math.min(hi, k); break;
      case '==': lo = Math.max(lo, k); hi = Math.min(hi, k); break;
      case '!=':
        if (lo === k) lo = k + 1;
        if (hi === k) hi = k - 1;
        break;
    }
    if (lo > hi) return null;
    const tested = fact.tested || !term.key.includes('^');
    if (lo === fact.lo && hi === fact.hi && fact.tested === tested) return s;
    return setCounter(s, term.key, { ...fact, lo, hi, tested });
  }

  if (effective === '==' || effective === '!=') {
    const eq = effective === '==';
    // Pointer against NULL.
    if (isNull(ctx, s, right) && !(right.kind === 'num' && valueOfOperand(ctx, s, left).k === 'int')) {
      const lv = valueOfOperand(ctx, s, left);
      if (lv.k === 'ptr' || lv.k === 'null' || (left.kind === 'name' && ctx.isPointerVar(left.name)) || left.kind === 'temp') {
        return refineTruthy(ctx, s, left, !eq);
      }
    }
    const lv = valueOfOperand(ctx, s, left);
    const rv = valueOfOperand(ctx, s, right);
    if (lv.k === 'ptr' && rv.k === 'ptr') {
      const same = sameObject(lv.obj, rv.obj);
      if (same === 'yes') return eq ? s : null;
      if (same === 'no') return eq ? null : s;
      // Maybe the same (`pr == &prison0`): both sides stay possible. Renaming the variable to the
      // other object would orphan what is known under its own name (the lock it holds).
      return s;
    }
    if (lv.k === 'null' && rv.k === 'ptr') return rv.nullness === 'nonnull' ? (eq ? null : s) : s;
    // An int against a constant.
    if (c !== undefined && (left.kind === 'name' || left.kind === 'temp')) {
      if (lv.k === 'int' && lv.value !== undefined) return (lv.value === c) === eq ? s : null;
      if (lv.k === 'int' && lv.zero !== undefined && c === 0) return (lv.zero === eq) ? s : null;
      if (lv.k === 'int' || lv.k === 'unknown') {
        if (eq) return assign(s, left, { k: 'int', value: c, zero: c === 0 });
        if (c === 0) return assign(s, left, { k: 'int', zero: false });
      }
    }
  }
  return s;
}
