/**
 * Which branches and variables can matter to the checks, so that the paths
 * kept apart are only those that differ in something the checks look at.
 *
 * A branch matters if, between it and the point where its two sides meet
 * again (its immediate post-dominator), something significant happens: a
 * lock or counter operation, a call the analysis follows, a return, or an
 * assignment to a variable that matters. A variable matters if it names a
 * lock's or counter's object, is passed where the callee's contract reads
 * it, is returned, is tested by a branch that matters, or feeds one that
 * matters. `if (ip4 != NULL) free(ip4, M_PRISON);` in a cleanup ladder then
 * splits nothing, while `if (error) goto done_deref;` still does.
 */
import type { Block, Expr, FunctionIR, Op } from '../ir';

export interface Relevance {
  readonly branches: ReadonlySet<number>;
  readonly vars: ReadonlySet<string>;
}

function successors(b: Block): number[] {
  switch (b.term.kind) {
    case 'jump': return [b.term.target];
    case 'branch': return b.term.whenTrue === b.term.whenFalse ? [b.term.whenTrue] : [b.term.whenTrue, b.term.whenFalse];
    default: return [];
  }
}

/** Immediate post-dominators (Cooper, Harvey and Kennedy), with a virtual exit after every return. */
export function postDominators(fn: FunctionIR): Int32Array {
  const n = fn.blocks.length;
  const EXIT = n;
  const preds: number[][] = Array.from({ length: n + 1 }, () => []);
  // Reverse graph: an edge b -> s becomes s -> b; exits feed the virtual exit.
  const succ: number[][] = fn.blocks.map((b) => {
    const s = successors(b);
    return s.length === 0 ? [EXIT] : s;
  });
  // Blocks that cannot reach an exit (an infinite loop) are treated as exits too.
  const reaches = new Uint8Array(n + 1);
  reaches[EXIT] = 1;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (!reaches[i] && succ[i]!.some((s) => reaches[s])) {
        reaches[i] = 1;
        changed = true;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (!reaches[i]) succ[i] = [EXIT];
    for (const s of succ[i]!) preds[s]!.push(i);
  }
  // Postorder of the reverse graph from EXIT (edges: node -> its CFG predecessors).
  const order: number[] = [];
  const seen = new Uint8Array(n + 1);
  const stack: Array<[number, number]> = [[EXIT, 0]];
  seen[EXIT] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const ps = preds[top[0]]!;
    if (top[1] < ps.length) {
      const p = ps[top[1]++]!;
      if (!seen[p]) {
        seen[p] = 1;
        stack.push([p, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  const rpo = new Int32Array(n + 1).fill(-1);
  order.forEach((node, i) => (rpo[node] = i));
  const idom = new Int32Array(n + 1).fill(-1);
  idom[EXIT] = EXIT;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (rpo[a]! < rpo[b]!) a = idom[a]!;
      while (rpo[b]! < rpo[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = order.length - 2; k >= 0; k--) {
      const b = order[k]!;
      let nd = -1;
      for (const s of succ[b]!) {
        if (idom[s] === -1) continue;
        nd = nd === -1 ? s : intersect(s, nd);
      }
      if (nd !== -1 && idom[b] !== nd) {
        idom[b] = nd;
        changed = true;
      }
    }
  }
  return idom;
}

/** Variables by name, temps as `$<id>`. */
function readsOf(e: Expr, out: Set<string>): void {
  switch (e.kind) {
    case 'name': out.add(e.name); break;
    case 'temp': out.add(`$${e.id}`); break;
    case 'field': readsOf(e.base, out); break;
    case 'addr': case 'deref': case 'unary': readsOf(e.operand, out); break;
    case 'binary': readsOf(e.left, out); readsOf(e.right, out); break;
    default: break;
  }
}

export interface RelevanceInputs {
  /** Calls the analysis follows (functions of the file). */
  readonly followed: (callee: string) => boolean;
  /** Whether an argument position of a followed call carries something its summary uses (an object, flags). */
  readonly argumentMatters: (callee: string, index: number, arg: Expr) => boolean;
}

export function computeRelevance(fn: FunctionIR, inputs: RelevanceInputs): Relevance {
  const n = fn.blocks.length;
  const ipdom = postDominators(fn);
  const vars = new Set<string>();
  // Seeds: what lock and counter operations, followed calls and returns read.
  for (const b of fn.blocks) {
    for (const op of b.ops) {
      if (op.kind === 'lock' || op.kind === 'scope-lock') readsOf(op.lock, vars);
      else if (op.kind === 'count') readsOf(op.target, vars);
      // KASSERT(was_valid, ...) ends the paths where it is false: what it reads matters.
      else if (op.kind === 'assert') readsOf(op.cond, vars);
      else if (op.kind === 'call' && inputs.followed(op.callee)) {
        op.args.forEach((a, i) => { if (inputs.argumentMatters(op.callee, i, a)) readsOf(a, vars); });
      }
    }
    if (b.term.kind === 'return' && b.term.value) readsOf(b.term.value, vars);
  }
  const significantOp = (op: Op): boolean => {
    switch (op.kind) {
      case 'lock': case 'scope-lock': case 'count': return true;
      case 'call': return inputs.followed(op.callee);
      case 'assign': return op.target.kind === 'name' ? vars.has(op.target.name) : op.target.kind === 'temp' && vars.has(`$${op.target.id}`);
      case 'assert': return false;
    }
  };
  const significantBlock = (b: Block): boolean => b.ops.some(significantOp) || b.term.kind === 'return' || b.term.kind === 'abort';
  const branches = new Set<number>();
  for (let changed = true; changed;) {
    changed = false;
    const sig = fn.blocks.map(significantBlock);
    for (const b of fn.blocks) {
      if (b.term.kind !== 'branch' || branches.has(b.id)) continue;
      const stop = ipdom[b.id]!;
      // Is anything significant between the branch and where its sides meet again?
      const seen = new Uint8Array(n);
      const stack = [b.term.whenTrue, b.term.whenFalse].filter((s) => s !== stop);
      let found = false;
      while (stack.length && !found) {
        const x = stack.pop()!;
        if (x >= n || seen[x]) continue;
        seen[x] = 1;
        if (sig[x]) found = true;
        else for (const s of successors(fn.blocks[x]!)) if (s !== stop) stack.push(s);
      }
      // A branch whose sides reach different significant code without rejoining (goto ladders) also shows here.
      if (found) {
        branches.add(b.id);
        changed = true;
        readsOf(b.term.cond, vars);
      }
    }
    // Data dependence: what is assigned to a variable that matters, matters.
    for (const b of fn.blocks) {
      for (const op of b.ops) {
        const target = op.kind === 'assign' ? (op.target.kind === 'name' ? op.target.name : op.target.kind === 'temp' ? `$${op.target.id}` : undefined) : undefined;
        if (op.kind === 'assign' && target !== undefined && vars.has(target)) {
          const before = vars.size;
          readsOf(op.value, vars);
          if (vars.size !== before) changed = true;
        }
      }
    }
  }
  return { branches, vars };
}
