/**
 * What the simulator needs to know about a file before it runs anything:
 * its functions by name, the value of every constant it uses, which branch
 * edges close a loop (an iteration macro's header is entered afresh or
 * re-entered from its body), and which globals are objects.
 */
import type { JailcheckConfig } from '../config';
import type { Expr, FileIR, FunctionIR } from '../ir';

export interface FlagCombo {
  readonly value: number;
  /** As written: `PD_DEREF | PD_DEUREF`. */
  readonly text: string;
  /** The functions that pass it. */
  readonly callers: readonly string[];
}

export interface LoopHead {
  readonly macro: string;
  readonly args: readonly Expr[];
  /** The variable the macro assigns each element to. */
  readonly variable?: string;
}

export interface FunctionInfo {
  readonly fn: FunctionIR;
  readonly declared: ReadonlySet<string>;
  /** For each block that ends in a macro-loop branch: the blocks that jump back to it from the body. */
  readonly backEdges: ReadonlyMap<number, ReadonlySet<number>>;
  readonly loopHeads: ReadonlyMap<number, LoopHead>;
}

const CONSTANT = /^[A-Z_][A-Z0-9_]*$/;

export class Program {
  readonly functions = new Map<string, FunctionInfo>();
  readonly constants = new Map<string, number>();
  /** Globals initialized as structures (`struct prison prison0 = { … }`): objects of the world. */
  readonly objectGlobals: ReadonlySet<string>;

  constructor(readonly file: FileIR, readonly config: JailcheckConfig) {
    for (const fn of file.functions) {
      if (fn.problems.length > 0) continue;
      this.functions.set(fn.name, analyseFunction(fn, config));
    }
    this.objectGlobals = new Set(Object.entries(file.globals ?? {}).filter(([, g]) => g.fields !== undefined).map(([n]) => n));
    this.assignConstants();
  }

  /**
   * The file's own #defines keep their values. Every other constant-looking
   * name (PR_PERSIST, EPERM, M_PRISON: they live in headers jailcheck does
   * not read) gets a distinct bit, so flag tests and comparisons between
   * different constants come out right; names that look like flag bits get
   * the low bits first.
   */
  private assignConstants(): void {
    for (const [k, v] of Object.entries(this.file.constants)) this.constants.set(k, v);
    const used = new Set<string>();
    const visit = (x: unknown): void => {
      if (Array.isArray(x)) { for (const y of x) visit(y); return; }
      if (x === null || typeof x !== 'object') return;
      const o = x as Record<string, unknown>;
      if (o.kind === 'name' && typeof o.name === 'string' && CONSTANT.test(o.name)) used.add(o.name);
      for (const v of Object.values(o)) if (v !== null && typeof v === 'object') visit(v);
    };
    for (const info of this.functions.values()) visit(info.fn.blocks);
    for (const g of Object.values(this.file.globals ?? {})) visit(g);
    const flagLike = new RegExp(`${this.config.vocabulary.flagBitPattern}|^PR_`);
    const names = [...used].filter((n) => !this.constants.has(n) && n !== 'NULL')
      .sort((a, b) => Number(!flagLike.test(a)) - Number(!flagLike.test(b)) || a.localeCompare(b));
    names.forEach((n, i) => this.constants.set(n, i < 23 ? 2 ** (8 + i) : 0x40000000 + i));
    for (const [group, bits] of Object.entries((this.file as { flagGroups?: Record<string, readonly string[]> }).flagGroups ?? {})) {
      this.constants.set(group, bits.reduce((acc, b) => acc | (this.constants.get(b) ?? 0), 0));
    }
  }

  /** The #if groups the simulator decided (the configuration it runs), by their first line. */
  readonly configuration = new Map<string, boolean>();

  /**
   * Whether the code under an `#ifdef X` / `#ifndef X` / `#if …` line runs.
   * The configured defines decide; any other symbol is taken as defined
   * (and any other `#if` as true), consistently in every thread and every
   * execution. That is the configuration the front end reads where an #if
   * group cuts a statement in half: it keeps the first branch.
   */
  preprocessorTaken(line: string): boolean {
    const m = /^#\s*(ifdef|ifndef|if|elif)\s+(.*)$/.exec(line.trim());
    const defines = this.config.vocabulary.defines;
    let taken = true;
    if (m && (m[1] === 'ifdef' || m[1] === 'ifndef')) {
      const sym = m[2]!.trim().split(/\s/)[0]!;
      const defined = Object.prototype.hasOwnProperty.call(defines, sym) ? defines[sym]! : true;
      taken = m[1] === 'ifdef' ? defined : !defined;
    }
    this.configuration.set(line.trim(), taken);
    return taken;
  }

  /** The value of a flag expression such as `PD_DEREF | PD_DEUREF`, by its bit names. */
  flagValue(bits: readonly string[]): number | undefined {
    let v = 0;
    for (const b of bits) {
      const c = this.constants.get(b);
      if (c === undefined) return undefined;
      v |= c;
    }
    return v;
  }

  /** The constant flag words the file's callers pass to `fn` as argument `index`, in the order met. */
  flagCombos(fn: string, index: number): FlagCombo[] {
    const byValue = new Map<number, { text: string; callers: Set<string> }>();
    const defined = new Set(Object.keys(this.file.constants));
    const value = (e: Expr): { v: number; bits: string[] } | undefined => {
      if (e.kind === 'name' && defined.has(e.name)) return { v: this.constants.get(e.name)!, bits: [e.name] };
      if (e.kind === 'num') return { v: e.value, bits: [String(e.value)] };
      if (e.kind === 'binary' && e.op === '|') {
        const l = value(e.left);
        const r = value(e.right);
        return l && r ? { v: l.v | r.v, bits: [...l.bits, ...r.bits] } : undefined;
      }
      return undefined;
    };
    for (const info of this.functions.values()) {
      for (const b of info.fn.blocks) {
        for (const op of b.ops) {
          if (op.kind !== 'call' || op.callee !== fn || !op.args[index]) continue;
          const v = value(op.args[index]!);
          if (!v) continue;
          const had = byValue.get(v.v) ?? { text: v.bits.join(' | '), callers: new Set<string>() };
          had.callers.add(info.fn.name);
          byValue.set(v.v, had);
        }
      }
    }
    return [...byValue].map(([v, c]) => ({ value: v, text: c.text, callers: [...c.callers] }));
  }

  /** The names of the bits set in `value`, among `candidates`. */
  bitNames(value: number, candidates: readonly string[]): string[] {
    return candidates.filter((b) => { const c = this.constants.get(b); return c !== undefined && c !== 0 && (value & c) === c; });
  }
}

function analyseFunction(fn: FunctionIR, config: JailcheckConfig): FunctionInfo {
  const declared = new Set([...fn.params.map((p) => p.name), ...fn.locals.map((l) => l.name)]);
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  // Back edges: jumps to a block still on the depth-first stack.
  const backEdges = new Map<number, Set<number>>();
  const state = new Map<number, 1 | 2>();
  const stack: Array<{ id: number; succ: number[]; i: number }> = [];
  const succOf = (id: number): number[] => {
    const t = byId.get(id)?.term;
    if (!t) return [];
    return t.kind === 'jump' ? [t.target] : t.kind === 'branch' ? [t.whenTrue, t.whenFalse] : [];
  };
  stack.push({ id: fn.entry, succ: succOf(fn.entry), i: 0 });
  state.set(fn.entry, 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.succ.length) {
      state.set(top.id, 2);
      stack.pop();
      continue;
    }
    const next = top.succ[top.i++]!;
    const s = state.get(next);
    if (s === 1) {
      const set = backEdges.get(next) ?? new Set<number>();
      set.add(top.id);
      backEdges.set(next, set);
    } else if (s === undefined) {
      state.set(next, 1);
      stack.push({ id: next, succ: succOf(next), i: 0 });
    }
  }
  const loopHeads = new Map<number, LoopHead>();
  for (const b of fn.blocks) {
    if (b.term.kind !== 'branch' || b.term.origin !== 'macro-loop') continue;
    const body = byId.get(b.term.whenTrue);
    const first = body?.ops.find((op) => op.kind === 'assign' && op.value.kind === 'element');
    if (first?.kind === 'assign' && first.value.kind === 'element') {
      const spec = config.vocabulary.loopMacros[first.value.macro];
      const args = first.value.args ?? [];
      const v = args[spec?.assigns[0] ?? 0];
      loopHeads.set(b.id, { macro: first.value.macro, args, variable: v?.kind === 'name' ? v.name : undefined });
    } else {
      const macro = b.term.condText.split('(')[0] ?? '';
      loopHeads.set(b.id, { macro, args: [] });
    }
  }
  return { fn, declared, backEdges, loopHeads };
}
