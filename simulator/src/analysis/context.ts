/**
 * What the analysis knows about one function before it runs: its variables
 * and their types, which variables are flag words, which parameter carries
 * the objects the flag contract speaks of, and how expressions map to
 * symbolic objects, locks, counters and values in a given state.
 */
import type { Expr, FunctionIR, TypeInfo } from '../ir';
import type { JailcheckConfig, Vocabulary } from '../config';
import { ObjId, parentOf } from './objects';
import { AState, UNKNOWN, Value } from './state';

export interface FileFacts {
  /** `#define` groups of flag bits the file itself declares. */
  readonly flagGroups: Readonly<Record<string, readonly string[]>>;
  /** Names of the functions defined in the file. */
  readonly functions: ReadonlySet<string>;
}

export class FunctionContext {
  readonly vocabulary: Vocabulary;
  readonly maxDepth: number;
  readonly counterLimit: number;
  readonly types = new Map<string, TypeInfo>();
  readonly params: ReadonlySet<string>;
  readonly locals: ReadonlySet<string>;
  /** The first parameter pointing to the configured object struct (`struct prison *pr`). */
  readonly objectParam?: string;
  /** Variables used as flag words (tested or built with flag bits). */
  readonly flagVars: ReadonlySet<string>;
  private readonly bitPattern: RegExp;
  private readonly groups: Readonly<Record<string, readonly string[]>>;

  constructor(readonly fn: FunctionIR, readonly config: JailcheckConfig, readonly file: FileFacts) {
    this.vocabulary = config.vocabulary;
    this.maxDepth = config.bounds.ancestorDepth;
    this.counterLimit = config.bounds.counterLimit;
    for (const v of [...fn.params, ...fn.locals]) this.types.set(v.name, v.type);
    this.params = new Set(fn.params.map((p) => p.name));
    this.locals = new Set(fn.locals.map((p) => p.name));
    this.objectParam = fn.params.find((p) => p.type.pointer > 0 && p.type.struct === this.vocabulary.objectStruct)?.name;
    this.bitPattern = new RegExp(this.vocabulary.flagBitPattern);
    this.groups = { ...this.vocabulary.flagGroups, ...file.flagGroups };
    this.flagVars = findFlagVars(fn, (e) => this.maskOf(e) !== undefined);
  }

  isFlagBit(name: string): boolean {
    return this.bitPattern.test(name) && !Object.prototype.hasOwnProperty.call(this.groups, name);
  }

  /** The bits a constant mask expression names: `PD_LOCKED`, `PD_LIST_SLOCKED | PD_LIST_XLOCKED`, a group. */
  maskOf(e: Expr): string[] | undefined {
    switch (e.kind) {
      case 'name':
        if (Object.prototype.hasOwnProperty.call(this.groups, e.name)) return [...this.groups[e.name]!];
        return this.isFlagBit(e.name) && !this.types.has(e.name) ? [e.name] : undefined;
      case 'binary': {
        if (e.op !== '|') return undefined;
        const l = this.maskOf(e.left);
        const r = this.maskOf(e.right);
        return l && r ? [...l, ...r] : undefined;
      }
      case 'num':
        return e.value === 0 ? [] : undefined;
      default:
        return undefined;
    }
  }

  /** A mask of field bits (`PR_PERSIST`, `PR_A | PR_B`): upper-case constants, not necessarily flag bits. */
  maskOfConstant(e: Expr): string[] | undefined {
    if (e.kind === 'name') return /^[A-Z_][A-Z0-9_]*$/.test(e.name) && !this.types.has(e.name) ? [e.name] : undefined;
    if (e.kind === 'binary' && e.op === '|') {
      const l = this.maskOfConstant(e.left);
      const r = this.maskOfConstant(e.right);
      return l && r ? [...l, ...r] : undefined;
    }
    return undefined;
  }

  isGlobal(name: string): boolean {
    return !this.types.has(name);
  }

  /** The symbolic object a pointer expression designates in `s`. */
  objectOf(e: Expr, s: AState): ObjId | undefined {
    switch (e.kind) {
      case 'name': {
        const v = s.vars.get(e.name);
        if (v?.k === 'ptr') return v.obj;
        if (v?.k === 'null') return undefined;
        // A global struct (`prison0.pr_mtx`) or an untracked variable: named by itself.
        return this.isGlobal(e.name) ? `g:${e.name}` : `v:${e.name}`;
      }
      case 'addr':
        return e.operand.kind === 'name' && this.isGlobal(e.operand.name) ? `g:${e.operand.name}` : this.objectOf(e.operand, s);
      case 'deref':
        return this.objectOf(e.operand, s);
      case 'temp': {
        const v = s.temps.get(e.id);
        return v?.k === 'ptr' ? v.obj : undefined;
      }
      case 'field': {
        const base = this.objectOf(e.base, s);
        if (base === undefined) return undefined;
        if (e.field === this.vocabulary.parentField) {
          // A parent this path assigned (`pr->pr_parent = ppr` on a new jail) wins over the symbolic one.
          const assigned = s.vars.get(`^${base}`);
          return assigned?.k === 'ptr' ? assigned.obj : parentOf(base, this.maxDepth);
        }
        return `${base}.${e.field}`;
      }
      default:
        return undefined;
    }
  }

  /** The key of a lock expression (`pr->pr_mtx` → `p:pr#pr_mtx`), or undefined when it names nothing stable. */
  lockKey(e: Expr, s: AState): string | undefined {
    if (e.kind === 'name') return this.isGlobal(e.name) ? `g:${e.name}` : this.objectOf(e, s);
    if (e.kind === 'field') {
      const base = this.objectOf(e.base, s);
      return base === undefined ? undefined : `${base}#${e.field}`;
    }
    if (e.kind === 'addr' || e.kind === 'deref') return this.lockKey(e.operand, s);
    return undefined;
  }

  /** The key of a counter lvalue (`tpr->pr_uref` → `p:pr^1.pr_uref` on the second trip). */
  counterKey(e: Expr, s: AState): string | undefined {
    if (e.kind !== 'field') return e.kind === 'deref' ? undefined : undefined;
    const base = this.objectOf(e.base, s);
    return base === undefined ? undefined : `${base}.${e.field}`;
  }

  /** A fact key for `x->field & BIT` tests (`p:pr.pr_flags&PR_PERSIST`). */
  fieldBitKey(field: Expr, bit: string, s: AState): string | undefined {
    if (field.kind !== 'field') return undefined;
    const base = this.objectOf(field.base, s);
    return base === undefined ? undefined : `${base}.${field.field}&${bit}`;
  }

  isPointerVar(name: string): boolean {
    return (this.types.get(name)?.pointer ?? 0) > 0;
  }

  /** Evaluates a pure expression. `site` names objects that appear here for the first time. */
  valueOf(e: Expr, s: AState, site: number): Value {
    switch (e.kind) {
      case 'num':
        return { k: 'int', value: e.value, zero: e.value === 0 };
      case 'name': {
        const v = s.vars.get(e.name);
        if (v) return v;
        const mask = this.maskOf(e);
        if (mask) return { k: 'bits', set: mask, clear: [], exact: true };
        if (this.isGlobal(e.name)) return UNKNOWN;
        return UNKNOWN;
      }
      case 'temp':
        return s.temps.get(e.id) ?? UNKNOWN;
      case 'element':
        return { k: 'ptr', obj: `n:${site}`, nullness: 'nonnull' };
      case 'addr': {
        const o = this.objectOf(e, s);
        return o ? { k: 'ptr', obj: o, nullness: 'nonnull' } : UNKNOWN;
      }
      case 'field': {
        if (e.field === this.vocabulary.parentField) {
          const o = this.objectOf(e, s);
          return o ? { k: 'ptr', obj: o, nullness: 'maybe' } : UNKNOWN;
        }
        return UNKNOWN;
      }
      case 'binary': {
        const mask = this.maskOf(e);
        if (mask) return { k: 'bits', set: mask, clear: [], exact: true };
        if (e.op === '|' || e.op === '&') return this.bitsExpr(e, s, site);
        return UNKNOWN;
      }
      default:
        return UNKNOWN;
    }
  }

  /** `flags | PD_LOCKED`, `flags & ~PD_LOCKED`, `drflags & PD_LOCK_FLAGS`: flag words built from flag words. */
  private bitsExpr(e: Extract<Expr, { kind: 'binary' }>, s: AState, site: number): Value {
    const maskOperand = (x: Expr): { bits: string[]; negated: boolean } | undefined => {
      if (x.kind === 'unary' && x.op === '~') {
        const m = this.maskOf(x.operand);
        return m ? { bits: m, negated: true } : undefined;
      }
      const m = this.maskOf(x);
      return m ? { bits: m, negated: false } : undefined;
    };
    let word = e.left;
    let mask = maskOperand(e.right);
    if (!mask) {
      word = e.right;
      mask = maskOperand(e.left);
    }
    if (!mask) return UNKNOWN;
    const w = this.valueOf(word, s, site);
    // A word known to be 0 (`deuref = 0`) is an exact, empty set of bits.
    const base = w.k === 'bits' ? w : w.k === 'int' && (w.value === 0 || w.zero === true)
      ? { k: 'bits' as const, set: [] as string[], clear: [] as string[], exact: true }
      : { k: 'bits' as const, set: [] as string[], clear: [] as string[], exact: false };
    if (e.op === '|' && !mask.negated) {
      return { k: 'bits', set: union(base.set, mask.bits), clear: base.clear.filter((b) => !mask!.bits.includes(b)), exact: base.exact };
    }
    if (e.op === '&' && mask.negated) {
      return { k: 'bits', set: base.set.filter((b) => !mask!.bits.includes(b)), clear: union(base.clear, mask.bits), exact: base.exact };
    }
    if (e.op === '&' && !mask.negated) {
      // Keeps only the mask's bits: everything else is now clear.
      return { k: 'bits', set: base.set.filter((b) => mask!.bits.includes(b)), clear: mask.bits.filter((b) => base.clear.includes(b)), exact: true };
    }
    return UNKNOWN;
  }
}

export function union(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out.sort();
}

/** Variables the function treats as flag words: combined with, tested against, or assigned flag bits. */
function findFlagVars(fn: FunctionIR, isMask: (e: Expr) => boolean): Set<string> {
  const out = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.kind === 'binary') {
      if ((e.op === '&' || e.op === '|') && e.left.kind === 'name' && (isMask(e.right) || (e.right.kind === 'unary' && isMask(e.right.operand)))) out.add(e.left.name);
      if ((e.op === '&' || e.op === '|') && e.right.kind === 'name' && isMask(e.left)) out.add(e.right.name);
      visit(e.left);
      visit(e.right);
    } else if (e.kind === 'unary') visit(e.operand);
  };
  for (const b of fn.blocks) {
    for (const op of b.ops) {
      if (op.kind === 'assign') {
        if (op.target.kind === 'name' && (isMask(op.value) || (op.value.kind === 'binary' && (isMask(op.value.left) || isMask(op.value.right))))) out.add(op.target.name);
        if (op.target.kind === 'name' && (op.op === '|=' || op.op === '&=')) {
          const v = op.value.kind === 'unary' ? op.value.operand : op.value;
          if (isMask(v)) out.add(op.target.name);
        }
        visit(op.value);
      } else if (op.kind === 'call') op.args.forEach(visit);
      else if (op.kind === 'assert') visit(op.cond);
    }
    if (b.term.kind === 'branch') visit(b.term.cond);
  }
  return out;
}
