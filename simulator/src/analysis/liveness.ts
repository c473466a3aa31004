/**
 * Which variables and temporaries a block may still read. Facts about
 * anything dead are dropped when a path enters a block, so paths that differ
 * only in what they can no longer observe are merged.
 */
import type { Block, Expr, FunctionIR, Op } from '../ir';

export interface Liveness {
  readonly vars: ReadonlyArray<ReadonlySet<string>>;
  readonly temps: ReadonlyArray<ReadonlySet<number>>;
  /** Counter fields that some op or condition from this block on reads or changes. */
  readonly counters: ReadonlyArray<ReadonlySet<string>>;
}

function fieldsOf(e: Expr, fields: ReadonlySet<string>, out: Set<string>): void {
  switch (e.kind) {
    case 'field': if (fields.has(e.field)) out.add(e.field); fieldsOf(e.base, fields, out); break;
    case 'addr': case 'deref': case 'unary': fieldsOf(e.operand, fields, out); break;
    case 'binary': fieldsOf(e.left, fields, out); fieldsOf(e.right, fields, out); break;
    default: break;
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
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = fn.blocks.length - 1; i >= 0; i--) {
      for (const s of successors(fn.blocks[i]!)) {
        for (const f of use[s]!) {
          if (!use[i]!.has(f)) {
            use[i]!.add(f);
            changed = true;
          }
        }
      }
    }
  }
  return use;
}

function readsOf(e: Expr, vars: Set<string>, temps: Set<number>): void {
  switch (e.kind) {
    case 'name': vars.add(e.name); break;
    case 'temp': temps.add(e.id); break;
    case 'field': readsOf(e.base, vars, temps); break;
    case 'addr': case 'deref': case 'unary': readsOf(e.operand, vars, temps); break;
    case 'binary': readsOf(e.left, vars, temps); readsOf(e.right, vars, temps); break;
    default: break;
  }
}

function opUses(op: Op, vars: Set<string>, temps: Set<number>): void {
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

function successors(b: Block): number[] {
  switch (b.term.kind) {
    case 'jump': return [b.term.target];
    case 'branch': return [b.term.whenTrue, b.term.whenFalse];
    default: return [];
  }
}

export function computeLiveness(fn: FunctionIR, counterFields: readonly string[] = [],
  summarised: (callee: string) => boolean = () => true): Liveness {
  const n = fn.blocks.length;
  const useV: Array<Set<string>> = [];
  const defV: Array<Set<string>> = [];
  const useT: Array<Set<number>> = [];
  const defT: Array<Set<number>> = [];
  for (const b of fn.blocks) {
    const dt = new Set<number>();
    for (const op of b.ops) {
      const t = op.kind === 'lock' || op.kind === 'count' || op.kind === 'call' ? op.result : undefined;
      if (t !== undefined) dt.add(t);
      if (op.kind === 'assign' && op.target.kind === 'temp') dt.add(op.target.id);
    }
    defT.push(dt);
    const uv = new Set<string>();
    const dv = new Set<string>();
    const ut = new Set<number>();
    const definedHere = new Set<number>();
    for (const op of b.ops) {
      const rv = new Set<string>();
      const rt = new Set<number>();
      opUses(op, rv, rt);
      for (const v of rv) if (!dv.has(v)) uv.add(v);
      for (const t of rt) if (!definedHere.has(t)) ut.add(t);
      const t = op.kind === 'lock' || op.kind === 'count' || op.kind === 'call' ? op.result : undefined;
      if (t !== undefined) definedHere.add(t);
      if (op.kind === 'assign' && op.target.kind === 'temp') definedHere.add(op.target.id);
      if (op.kind === 'assign' && op.op === '=' && op.target.kind === 'name') dv.add(op.target.name);
    }
    const termExpr = b.term.kind === 'branch' ? b.term.cond : b.term.kind === 'return' ? b.term.value : undefined;
    if (termExpr) {
      const rv = new Set<string>();
      const rt = new Set<number>();
      readsOf(termExpr, rv, rt);
      for (const v of rv) if (!dv.has(v)) uv.add(v);
      for (const t of rt) if (!definedHere.has(t)) ut.add(t);
    }
    useV.push(uv);
    defV.push(dv);
    useT.push(ut);
  }
  const liveV: Array<Set<string>> = fn.blocks.map((_, i) => new Set(useV[i]));
  const liveT: Array<Set<number>> = fn.blocks.map((_, i) => new Set(useT[i]));
  // Temps are defined and used close together; a temp is live wherever it is live in a successor.
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      for (const s of successors(fn.blocks[i]!)) {
        for (const v of liveV[s]!) {
          if (!defV[i]!.has(v) && !liveV[i]!.has(v)) {
            liveV[i]!.add(v);
            changed = true;
          }
        }
        for (const t of liveT[s]!) {
          if (!defT[i]!.has(t) && !liveT[i]!.has(t)) {
            liveT[i]!.add(t);
            changed = true;
          }
        }
      }
    }
  }
  // A temp defined in a block is not live on entry to it (its uses there come after the definition).
  fn.blocks.forEach((_, i) => defT[i]!.forEach((t) => liveT[i]!.delete(t)));
  return { vars: liveV, temps: liveT, counters: counterUses(fn, new Set(counterFields), summarised) };
}
