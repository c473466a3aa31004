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
import { computeRelevance, Relevance } from './relevance';
import { Symbols } from './pmap';

export interface FileFacts {
  /** `#define` groups of flag bits the file itself declares. */
  readonly flagGroups: Readonly<Record<string, readonly string[]>>;
  /** Names of the functions defined in the file. */
  readonly functions: ReadonlySet<string>;
  /** Parameter types of the file's functions, by name. */
  readonly paramTypes?: ReadonlyMap<string, readonly TypeInfo[]>;
}

const contexts = new WeakMap<FunctionIR, { config: JailcheckConfig; facts: FileFacts; ctx: FunctionContext }>();

/**
 * The context of a function, made once per IR, configuration and file: the
 * analysis of the function itself, its summary and its ledger run share it.
 */
export function contextFor(fn: FunctionIR, config: JailcheckConfig, facts: FileFacts): FunctionContext {
  const cached = contexts.get(fn);
  if (cached && cached.config === config && cached.facts === facts) return cached.ctx;
  const ctx = new FunctionContext(fn, config, facts);
  contexts.set(fn, { config, facts, ctx });
  return ctx;
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
  /** The keys of this function's abstract states, interned (pmap.ts); variable names come first. */
  readonly symbols = new Symbols();
  /** Every name the function's IR mentions has a symbol below this (liveness numbers them so). */
  readonly variableCount: number;

  constructor(readonly fn: FunctionIR, readonly config: JailcheckConfig, readonly file: FileFacts) {
    for (const v of [...fn.params, ...fn.locals]) this.symbols.id(v.name);
    forEachName(fn, (name) => this.symbols.id(name));
    this.variableCount = this.symbols.names.length;
    this.vocabulary = config.vocabulary;
    this.maxDepth = config.bounds.ancestorDepth;
    this.counterLimit = config.bounds.counterLimit;
    for (const v of [...fn.params, ...fn.locals]) this.types.set(v.name, v.type);
    this.params = new Set(fn.params.map((p) => p.name));
    this.locals = new Set(fn.locals.map((p) => p.name));
    this.objectParam = fn.params.find((p) => p.type.pointer > 0 && p.type.struct === this.vocabulary.objectStruct)?.name;
    this.bitPattern = new RegExp(this.vocabulary.flagBitPattern);
    this.groups = { ...this.vocabulary.flagGroups, ...file.flagGroups };
    this.flagVars = findFlagVars(fn, (e) => (this.maskOf(e)?.length ?? 0) > 0, (name) => this.types.has(name));
    const pointers = new Set<string>();
    for (const v of [...fn.params, ...fn.locals]) if (v.type.pointer > 0 && v.type.struct === this.vocabulary.objectStruct) pointers.add(v.name);
    const baseNames = (e: Expr): void => {
      if (e.kind === 'name') pointers.add(e.name);
      else if (e.kind === 'field' || e.kind === 'addr' || e.kind === 'deref') baseNames(e.kind === 'field' ? e.base : e.operand);
    };
    for (const b of fn.blocks) {
      for (const op of b.ops) {
        if (op.kind === 'lock' || op.kind === 'scope-lock') baseNames(op.lock.kind === 'field' ? op.lock.base : op.lock);
        else if (op.kind === 'count' && op.target.kind === 'field') baseNames(op.target.base);
      }
    }
    this.objectPointers = pointers;
    this.relevance = computeRelevance(fn, {
      followed: (callee) => file.functions.has(callee),
      argumentMatters: (callee, index, arg) => {
        // A temp carries a computed argument (`cond ? PD_A : PD_B`): always followed.
        if (arg.kind === 'temp') return true;
        const t = file.paramTypes?.get(callee)?.[index];
        if (t && t.pointer > 0 && t.struct === this.vocabulary.objectStruct) return true;
        return this.mentionsFlags(arg);
      },
    });
  }

  readonly relevance: Relevance;

  /** Variables whose object identity the checks need: they point to the object struct, or name locks or counters. */
  readonly objectPointers: ReadonlySet<string> = new Set();

  isObjectPointer(name: string): boolean {
    return this.objectPointers.has(name);
  }

  /** Whether a variable's value can matter to the checks (see relevance.ts). */
  isRelevant(name: string): boolean {
    return this.relevance.vars.has(name) || this.flagVars.has(name);
  }

  private mentionsFlags(e: Expr): boolean {
    if (this.maskOf(e)) return true;
    if (e.kind === 'name') return this.flagVars.has(e.name);
    if (e.kind === 'binary') return this.mentionsFlags(e.left) || this.mentionsFlags(e.right);
    if (e.kind === 'unary') return this.mentionsFlags(e.operand);
    return false;
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

  /** Every flag bit this function or the configuration names. */
  get knownFlagBits(): string[] {
    if (!this.flagBitsCache) {
      const bits = new Set<string>();
      for (const c of this.vocabulary.flagContracts) bits.add(c.bit);
      for (const g of Object.values(this.groups)) g.forEach((b) => bits.add(b));
      const visit = (e: Expr): void => {
        if (e.kind === 'name' && this.isFlagBit(e.name) && !this.types.has(e.name)) bits.add(e.name);
        else if (e.kind === 'binary') { visit(e.left); visit(e.right); }
        else if (e.kind === 'unary') visit(e.operand);
      };
      for (const b of this.fn.blocks) {
        for (const op of b.ops) {
          if (op.kind === 'assign') visit(op.value);
          else if (op.kind === 'call') op.args.forEach(visit);
        }
        if (b.term.kind === 'branch') visit(b.term.cond);
      }
      this.flagBitsCache = [...bits].sort();
    }
    return this.flagBitsCache;
  }

  private flagBitsCache?: string[];

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
        return this.symbols.join(this.isGlobal(e.name) ? 'g:' : 'v:', e.name);
      }
      case 'addr':
        return e.operand.kind === 'name' && this.isGlobal(e.operand.name) ? this.symbols.join('g:', e.operand.name) : this.objectOf(e.operand, s);
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
          return assigned?.k === 'ptr' ? assigned.obj : this.parentOf(base);
        }
        return this.symbols.join(base, this.symbols.join('.', e.field));
      }
      default:
        return undefined;
    }
  }

  /** The key of a lock expression (`pr->pr_mtx` → `p:pr#pr_mtx`), or undefined when it names nothing stable. */
  lockKey(e: Expr, s: AState): string | undefined {
    if (e.kind === 'name') return this.isGlobal(e.name) ? this.symbols.join('g:', e.name) : this.objectOf(e, s);
    if (e.kind === 'field') {
      const base = this.objectOf(e.base, s);
      return base === undefined ? undefined : this.symbols.join(base, this.symbols.join('#', e.field));
    }
    if (e.kind === 'addr' || e.kind === 'deref') return this.lockKey(e.operand, s);
    return undefined;
  }

  /** The key of a counter lvalue (`tpr->pr_uref` → `p:pr^1.pr_uref` on the second trip). */
  counterKey(e: Expr, s: AState): string | undefined {
    if (e.kind !== 'field') return e.kind === 'deref' ? undefined : undefined;
    const base = this.objectOf(e.base, s);
    return base === undefined ? undefined : this.symbols.join(base, this.symbols.join('.', e.field));
  }

  /** A fact key for `x->field & BIT` tests (`p:pr.pr_flags&PR_PERSIST`). */
  fieldBitKey(field: Expr, bit: string, s: AState): string | undefined {
    if (field.kind !== 'field') return undefined;
    const base = this.objectOf(field.base, s);
    return base === undefined ? undefined : this.symbols.join(this.symbols.join(base, this.symbols.join('.', field.field)), this.symbols.join('&', bit));
  }

  /** The object first met at offset `site` (`n:1234`), one string per site. */
  siteObject(site: number): ObjId {
    let o = this.sites.get(site);
    if (o === undefined) {
      o = `n:${site}`;
      this.sites.set(site, o);
    }
    return o;
  }

  private readonly sites = new Map<number, string>();
  private readonly parents = new Map<string, string>();

  /** parentOf(o), one string per object. */
  parentOf(o: ObjId): ObjId {
    let p = this.parents.get(o);
    if (p === undefined) {
      p = parentOf(o, this.maxDepth);
      this.parents.set(o, p);
    }
    return p;
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
        return { k: 'ptr', obj: this.siteObject(site), nullness: 'nonnull' };
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
        if (e.op === '|' || e.op === '&') {
          const bits = this.bitsExpr(e, s, site);
          if (bits.k !== 'unknown') return bits;
        }
        if (['==', '!=', '<', '<=', '>', '>=', '&&', '||', '&'].includes(e.op)) return this.condValue(e, s);
        return UNKNOWN;
      }
      case 'unary':
        return e.op === '!' ? this.condValue(e, s) : UNKNOWN;
      default:
        return UNKNOWN;
    }
  }

  /** A saved condition, with the values of the variables it reads (see Value 'cond'). */
  condValue(e: Expr, s: AState): Value {
    const names = new Set<string>();
    const temps = new Map<number, Value>();
    const visit = (x: Expr): void => {
      if (x.kind === 'name') names.add(x.name);
      else if (x.kind === 'temp') {
        const v = s.temps.get(x.id);
        if (v) temps.set(x.id, v);
      } else if (x.kind === 'field') visit(x.base);
      else if (x.kind === 'unary' || x.kind === 'addr' || x.kind === 'deref') visit(x.operand);
      else if (x.kind === 'binary') { visit(x.left); visit(x.right); }
    };
    visit(e);
    if (names.size === 0 && temps.size === 0) return UNKNOWN;
    const saved = [...temps.entries()];
    return { k: 'cond', cond: e, snapshot: this.snapshotOf(names, saved, s), temps: saved };
  }

  /**
   * What a saved condition depends on: its variables' values and, for a
   * temp holding a counter's value (`pr->pr_uref++ == 0`), how far that
   * counter has moved since.
   */
  snapshotOf(names: Iterable<string>, temps: ReadonlyArray<readonly [number, Value]>, s: AState): string {
    const vars = [...names].sort().map((n) => `${n}=${JSON.stringify(s.vars.get(n) ?? null)}`);
    const counters = temps.map(([, v]) => (v.k === 'cnt' ? `${v.key}=${JSON.stringify(s.counters.get(v.key)?.delta ?? 0)}` : ''));
    return [...vars, ...counters].join(';');
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
    // The bits not named keep whatever the word had, including its link to the entry value.
    const entry = 'entry' in base ? base.entry : undefined;
    if (e.op === '|' && !mask.negated) {
      return { k: 'bits', set: union(base.set, mask.bits), clear: base.clear.filter((b) => !mask!.bits.includes(b)), exact: base.exact, entry };
    }
    if (e.op === '&' && mask.negated) {
      return { k: 'bits', set: base.set.filter((b) => !mask!.bits.includes(b)), clear: union(base.clear, mask.bits), exact: base.exact, entry };
    }
    if (e.op === '&' && !mask.negated) {
      // Keeps only the mask's bits (`drflags &= PD_LOCK_FLAGS`): every other flag bit is now clear,
      // and the mask's bits are as they were (still the caller's, if they were).
      const outside = this.knownFlagBits.filter((b) => !mask!.bits.includes(b));
      return {
        k: 'bits', set: base.set.filter((b) => mask!.bits.includes(b)),
        clear: union(outside, base.clear.filter((b) => mask!.bits.includes(b))), exact: base.exact, entry,
      };
    }
    return UNKNOWN;
  }
}

/** Calls `f` with every variable name the function's ops and terminators mention. */
function forEachName(fn: FunctionIR, f: (name: string) => void): void {
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'name': f(e.name); break;
      case 'field': visit(e.base); break;
      case 'addr': case 'deref': case 'unary': visit(e.operand); break;
      case 'binary': visit(e.left); visit(e.right); break;
      case 'element': e.args?.forEach(visit); break;
      default: break;
    }
  };
  for (const b of fn.blocks) {
    for (const op of b.ops) {
      switch (op.kind) {
        case 'lock': case 'scope-lock': visit(op.lock); break;
        case 'count': visit(op.target); break;
        case 'assign': visit(op.target); visit(op.value); break;
        case 'call': op.args.forEach(visit); break;
        case 'assert': visit(op.cond); break;
      }
    }
    if (b.term.kind === 'branch') visit(b.term.cond);
    else if (b.term.kind === 'return' && b.term.value) visit(b.term.value);
  }
}

export function union(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out.sort();
}

/** Variables the function treats as flag words: combined with, tested against, or assigned flag bits. */
function findFlagVars(fn: FunctionIR, isMask: (e: Expr) => boolean, isVariable: (name: string) => boolean): Set<string> {
  const found = new Set<string>();
  const out = { add: (name: string) => { if (isVariable(name)) found.add(name); } };
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
  return found;
}
