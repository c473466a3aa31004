/**
 * Listens to one function's analysis run (analyze.ts) and turns each
 * counter change, in the state it happens in, into ledger rows.
 */
import type { LedgerEvent } from '../config';
import type { CountOp } from '../ir';
import type { FunctionContext } from '../analysis/context';
import { counterFact } from '../analysis/conditions';
import { flagParamOf } from '../analysis/engine';
import { ancestorParts } from '../analysis/objects';
import type { AState } from '../analysis/state';
import type { Cause, LedgerRow, Transition, Whose } from './records';

interface Relation {
  readonly whose: Whose;
  /** The jail the event is about. */
  readonly subject: string;
  /** The object one level below the changed one (the child whose event this is), for ancestors. */
  readonly below?: string;
}

/** Whose counter `obj` is, in `s`: the object itself, or an ancestor of some other object. */
function relation(obj: string, s: AState): Relation {
  const { base, depth } = ancestorParts(obj);
  // A parent named by assignment (`pr->pr_parent = ppr` on a new jail): ppr and its ancestors are
  // the new jail's parent and ancestors.
  for (const [name, v] of s.vars) {
    if (!name.startsWith('^') || v.k !== 'ptr') continue;
    const child = name.slice(1);
    const parent = ancestorParts(v.obj);
    if (parent.base !== base || parent.depth !== 0) continue;
    if (depth === '*') return { whose: { kind: 'ancestor', level: 'any' }, subject: child };
    return { whose: { kind: 'ancestor', level: depth + 1 }, subject: child, below: depth === 0 ? child : depth === 1 ? base : `${base}^${depth - 1}` };
  }
  if (depth !== 0) {
    const below = depth === '*' ? undefined : depth === 1 ? base : `${base}^${depth - 1}`;
    return { whose: { kind: 'ancestor', level: depth === '*' ? 'any' : depth }, subject: base, below };
  }
  return { whose: { kind: 'self' }, subject: obj };
}

function written(s: AState, key: string): boolean | undefined {
  return s.facts.get(`w:${key}`) ? s.facts.get(key) : undefined;
}

export class LedgerCollector {
  readonly rows: LedgerRow[] = [];
  private readonly seen = new Set<string>();
  private readonly eventPatterns: Array<{ event: LedgerEvent; re: RegExp }>;

  /**
   * Variables that become the parent of a jail this function creates
   * (`pr->pr_parent = ppr;` on a fresh `pr`): real kern_jail_set() takes the
   * parent's references before it allocates the child, so the link comes
   * later on the path than the increment.
   */
  private readonly creationParents = new Set<string>();

  constructor(private readonly ctx: FunctionContext) {
    this.eventPatterns = ctx.vocabulary.events.map((e) => ({ event: e.event, re: new RegExp(e.functions) }));
    const allocated = new Set<string>();
    for (const b of ctx.fn.blocks) {
      for (const op of b.ops) {
        if (op.kind === 'call' && ['malloc', 'uma_zalloc', 'mallocarray'].includes(op.callee) && op.result !== undefined) allocated.add(`$${op.result}`);
      }
    }
    const fresh = new Set<string>();
    for (const b of ctx.fn.blocks) {
      for (const op of b.ops) {
        if (op.kind === 'assign' && op.target.kind === 'name' && op.value.kind === 'temp' && allocated.has(`$${op.value.id}`)) fresh.add(op.target.name);
      }
    }
    for (const b of ctx.fn.blocks) {
      for (const op of b.ops) {
        if (op.kind === 'assign' && op.target.kind === 'field' && op.target.field === ctx.vocabulary.parentField
          && op.target.base.kind === 'name' && fresh.has(op.target.base.name) && op.value.kind === 'name') {
          this.creationParents.add(op.value.name);
        }
      }
    }
  }

  /** The listener given to the transfer functions. */
  readonly observe = (op: CountOp, key: string, before: AState): void => {
    const voc = this.ctx.vocabulary;
    const dot = key.lastIndexOf('.');
    const obj = key.slice(0, dot);
    const counter = key.slice(dot + 1);
    const base = op.target.kind === 'field' && op.target.base.kind === 'name' ? op.target.base.name : undefined;
    const rel: Relation = base !== undefined && this.creationParents.has(base) && !obj.includes('^')
      ? { whose: { kind: 'ancestor', level: 1 }, subject: 'a:new' }
      : relation(obj, before);
    const f = counterFact(before, key);
    const ch = op.change;
    let direction: LedgerRow['direction'];
    let transition: Transition;
    const unknownValue = obj.includes('^*');
    switch (ch.kind) {
      case 'add':
        direction = ch.amount > 0 ? 'increment' : 'decrement';
        transition = ch.amount > 0
          ? (unknownValue || f.lo <= 0 ? 'rise' : 'none')
          : (unknownValue || (f.lo <= -ch.amount && f.hi >= -ch.amount) ? 'fall' : 'none');
        break;
      case 'release':
        direction = 'decrement';
        transition = unknownValue || (f.lo <= ch.amount && f.hi >= ch.amount) ? 'fall' : 'none';
        break;
      case 'release-if-not-last':
        direction = 'decrement';
        transition = 'none';
        break;
      case 'acquire-if-not-zero':
        direction = 'increment';
        transition = 'none';
        break;
      case 'set':
        direction = 'set';
        transition = ch.value !== null && ch.value > 0 && f.hi >= 0 ? 'rise' : 'none';
        break;
    }
    const fresh = rel.subject.startsWith('a:');
    // Why an ancestor's counter moves: what happened, on this path, to the jail just below it.
    let cause: Cause = 'unconditional';
    if (rel.below !== undefined) {
      const belowKey = `${rel.below}.${counter}`;
      const b = before.counters.get(belowKey);
      if (before.facts.get(`freed:${rel.below}`)) cause = 'freed';
      else if (b && typeof b.delta === 'number' && b.delta < 0 && b.hi === 0) cause = 'fell';
      else if (b && typeof b.delta === 'number' && b.delta > 0 && b.lo === b.delta && b.hi === b.delta) cause = 'rose';
    }
    if (cause === 'unconditional' && fresh) cause = 'created';
    const event = this.eventOf(rel, cause, before, counter);
    const fp = flagParamOf(this.ctx);
    const entry = fp ? before.vars.get(`@entry:${fp}`) : undefined;
    const condition = entry?.k === 'bits' && entry.set.length ? `${fp} & ${entry.set.join(' & ')}` : '';
    const row: LedgerRow = {
      counter, function: this.ctx.fn.name, range: op.range, target: op.targetText, direction,
      whose: rel.whose, transition, cause, event, fresh, condition,
      ...(op.callee && !voc.refcountFunctions[op.callee] ? { via: op.callee } : {}),
    };
    const whose = row.whose.kind === 'ancestor' ? `a${row.whose.level}` : 's';
    const id = `${row.range.start}|${row.counter}|${whose}|${row.transition}|${row.cause}|${row.event}|${row.condition}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.rows.push(row);
  };

  private eventOf(rel: Relation, cause: Cause, s: AState, counter: string): LedgerEvent {
    if (cause === 'created') return 'create';
    if (cause === 'freed') return 'free';
    // The path set or cleared the persist flag of the jail it is about, or went the way of a
    // request to set or clear it (`if (pr_flags & PR_PERSIST)` in kern_jail_set()).
    const flag = this.ctx.vocabulary.persistFlag;
    const flagsKey = `${rel.subject}.pr_flags&${flag}`;
    let persist = written(s, flagsKey);
    if (persist === undefined && rel.whose.kind === 'self') {
      for (const [key, v] of s.facts) if (key.startsWith('v:') && key.endsWith(`&${flag}`)) persist = v;
    }
    if (persist === true) return 'persist-set';
    if (persist === false) return 'persist-clear';
    if (cause === 'fell' && counter === this.ctx.vocabulary.liveCounter) return 'dying';
    for (const { event, re } of this.eventPatterns) if (re.test(this.ctx.fn.name)) return event;
    return 'other';
  }
}

/**
 * Whether a function has ledger rows: it changes a counter, directly or
 * through a call to a function of the file (whose changes the ledger hears
 * of at the call).
 */
export function ledgerListens(ctx: FunctionContext): boolean {
  const counters = ctx.vocabulary.counterFields;
  return ctx.fn.blocks.some((b) => b.ops.some((op) => (op.kind === 'count' && counters.includes(op.counter))
    || (op.kind === 'call' && ctx.file.functions.has(op.callee))));
}
