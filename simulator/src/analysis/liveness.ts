/**
 * Which variables and temporaries a block may still read. Facts about
 * anything dead are dropped when a path enters a block, so paths that differ
 * only in what they can no longer observe are merged.
 *
 * Variables are numbered by the function's symbol table (every name the IR
 * reads is interned first, so their numbers are dense from 0) and temps by
 * their own ids; each block's live set is a bitset, and the fixpoint runs
 * over words, not over sets of strings.
 */
import type { Block, Expr, FunctionIR, Op } from '../ir';

export interface Liveness {
  /** Whether variable number `sym` may be read from the start of `block` on. */
  varLive(block: number, sym: number): boolean;
  tempLive(block: number, id: number): boolean;
  /** Whether some op or condition from this block on reads or changes counter field `field`. */
  counterLive(block: number, field: string): boolean;
}

function fieldsOf(e: Expr, fields: ReadonlySet<string>, out: Set<string>): void {
  switch (e.kind) {
    case 'field': if (fields.has(e.field)) out.add(e.field); fieldsOf(e.base, fields, out); break;
    case 'addr': case 'deref': case 'unary': fieldsOf(e.operand, fields, out); break;
    case 'binary': fieldsOf(e.left, fields, out); fieldsOf(e.right, fields, out); break;
    default: break;
  }
}

function successors(b: Block): number[] {
  switch (b.term.kind) {
    case 'jump': return [b.term.target];
    case 'branch': return [b.term.whenTrue, b.term.whenFalse];
    default: return [];
  }
}

/** The counter fields each block reads or changes, and which blocks reach it. */
function counterUses(fn: FunctionIR, fields: ReadonlySet<string>, summarised: (callee: string) => boolean): Array<Set<string>> {
  const use = fn.blocks.map((b) => {
    const out = new Set<string>();
    for (const op of b.ops) {
      if (op.kind === 'count') out.add(op.counter);
      else if (op.kind === 'assert') fieldsOf(op.cond, fields, out);
      else if (op.kind === 'assign') fieldsOf(op.value, fields, out);
      else if (op.kind === 'call') op.args.forEach((a) => fieldsOf(a, fields, out));
    }
    if (b.term.kind === 'branch') fieldsOf(b.term.cond, fields, out);
    // A callee defined in the file is summarised and can read any counter.
    if (b.ops.some((op) => op.kind === 'call' && summarised(op.callee))) fields.forEach((f) => out.add(f));
    return out;
  });
  const preds = predecessors(fn);
  const work = fn.blocks.map((_, i) => i);
  const queued = new Uint8Array(fn.blocks.length).fill(1);
  while (work.length) {
    const s = work.pop()!;
    queued[s] = 0;
    for (const p of preds[s]!) {
      let grew = false;
      for (const f of use[s]!) {
        if (!use[p]!.has(f)) {
          use[p]!.add(f);
          grew = true;
        }
      }
      if (grew && !queued[p]) {
        queued[p] = 1;
        work.push(p);
      }
    }
  }
  return use;
}

function predecessors(fn: FunctionIR): number[][] {
  const preds: number[][] = fn.blocks.map(() => []);
  fn.blocks.forEach((b, i) => {
    for (const s of successors(b)) preds[s]!.push(i);
  });
  return preds;
}

function readsOf(e: Expr, vars: (name: string) => void, temps: (id: number) => void): void {
  switch (e.kind) {
    case 'name': vars(e.name); break;
    case 'temp': temps(e.id); break;
    case 'field': readsOf(e.base, vars, temps); break;
    case 'addr': case 'deref': case 'unary': readsOf(e.operand, vars, temps); break;
    case 'binary': readsOf(e.left, vars, temps); readsOf(e.right, vars, temps); break;
    default: break;
  }
}

function opUses(op: Op, vars: (name: string) => void, temps: (id: number) => void): void {
  switch (op.kind) {
    case 'lock': case 'scope-lock': readsOf(op.lock, vars, temps); break;
    case 'count': readsOf(op.target, vars, temps); break;
    case 'assign':
      readsOf(op.value, vars, temps);
      // A compound assignment reads its target; a field store reads the base pointer.
      if (op.op !== '=' || op.target.kind !== 'name') readsOf(op.target, vars, temps);
      break;
    case 'call': op.args.forEach((a) => readsOf(a, vars, temps)); break;
    case 'assert': readsOf(op.cond, vars, temps); break;
  }
}

function definedTemp(op: Op): number | undefined {
  if (op.kind === 'lock' || op.kind === 'count' || op.kind === 'call') return op.result;
  if (op.kind === 'assign' && op.target.kind === 'temp') return op.target.id;
  return undefined;
}

/** Bitsets of `words` 32-bit words per block, in one array. */
class BlockBits {
  readonly bits: Uint32Array;
  constructor(readonly blocks: number, readonly words: number) {
    this.bits = new Uint32Array(Math.max(1, blocks * words));
  }
  set(b: number, i: number): void {
    this.bits[b * this.words + (i >>> 5)]! |= 1 << (i & 31);
  }
  has(b: number, i: number): boolean {
    return i >>> 5 < this.words && (this.bits[b * this.words + (i >>> 5)]! & (1 << (i & 31))) !== 0;
  }
}

/**
 * `varIndex` numbers the variables (the function's symbols; -1 for a name it
 * does not know, which then is never live); `varCount` is one past the
 * largest number.
 */
export function computeLiveness(fn: FunctionIR, varIndex: (name: string) => number, varCount: number,
  counterFields: readonly string[] = [], summarised: (callee: string) => boolean = () => true): Liveness {
  const n = fn.blocks.length;
  const vw = Math.ceil(varCount / 32) || 1;
  const tw = Math.ceil(fn.tempCount / 32) || 1;
  const useV = new BlockBits(n, vw);
  const defV = new BlockBits(n, vw);
  const useT = new BlockBits(n, tw);
  const defT = new BlockBits(n, tw);
  fn.blocks.forEach((b, bi) => {
    const definedHere = new Set<number>();
    const readVar = (name: string): void => {
      const i = varIndex(name);
      if (i >= 0 && !defV.has(bi, i)) useV.set(bi, i);
    };
    const readTemp = (id: number): void => {
      if (!definedHere.has(id)) useT.set(bi, id);
    };
    for (const op of b.ops) {
      opUses(op, readVar, readTemp);
      const t = definedTemp(op);
      if (t !== undefined) {
        definedHere.add(t);
        defT.set(bi, t);
      }
      if (op.kind === 'assign' && op.op === '=' && op.target.kind === 'name') {
        const i = varIndex(op.target.name);
        if (i >= 0) defV.set(bi, i);
      }
    }
    const termExpr = b.term.kind === 'branch' ? b.term.cond : b.term.kind === 'return' ? b.term.value : undefined;
    if (termExpr) readsOf(termExpr, readVar, readTemp);
  });
  // live(b) = use(b) ∪ (live(succ) − def(b)); temps the same. A worklist over predecessors.
  const liveV = new BlockBits(n, vw);
  const liveT = new BlockBits(n, tw);
  liveV.bits.set(useV.bits);
  liveT.bits.set(useT.bits);
  const preds = predecessors(fn);
  const work: number[] = [];
  const queued = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    work.push(i);
    queued[i] = 1;
  }
  while (work.length) {
    const s = work.pop()!;
    queued[s] = 0;
    for (const p of preds[s]!) {
      let grew = false;
      for (let w = 0; w < vw; w++) {
        const add = liveV.bits[s * vw + w]! & ~defV.bits[p * vw + w]!;
        const old = liveV.bits[p * vw + w]!;
        if (((old | add) >>> 0) !== old) {
          liveV.bits[p * vw + w] = old | add;
          grew = true;
        }
      }
      for (let w = 0; w < tw; w++) {
        const add = liveT.bits[s * tw + w]! & ~defT.bits[p * tw + w]!;
        const old = liveT.bits[p * tw + w]!;
        if (((old | add) >>> 0) !== old) {
          liveT.bits[p * tw + w] = old | add;
          grew = true;
        }
      }
      if (grew && !queued[p]) {
        queued[p] = 1;
        work.push(p);
      }
    }
  }
  // A temp defined in a block is not live on entry to it (its uses there come after the definition).
  for (let i = 0; i < liveT.bits.length; i++) liveT.bits[i] = liveT.bits[i]! & ~defT.bits[i]!;
  const counters = counterUses(fn, new Set(counterFields), summarised);
  return {
    varLive: (block, sym) => liveV.has(block, sym),
    tempLive: (block, id) => liveT.has(block, id),
    counterLive: (block, field) => counters[block]!.has(field),
  };
}
