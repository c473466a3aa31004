/**
 * Builds a function's control-flow graph one statement at a time. After a
 * return, goto or break the builder is "detached": the next statement, if
 * any, starts a block nothing jumps to (dead code, or code a later label
 * makes reachable), so every statement is still extracted.
 */
import type { Block, Expr, Op, SourceRange, Terminator } from '../../../simulator/src/ir';

export class CfgBuilder {
  readonly blocks: Block[] = [];
  private currentId: number | null;
  private readonly labels = new Map<string, number>();
  private temps = 0;

  constructor(private readonly fallbackRange: SourceRange) {
    this.currentId = this.newBlock();
  }

  /** The block statements are appended to (created if the builder is detached). */
  get current(): number {
    if (this.currentId === null) this.currentId = this.newBlock();
    return this.currentId;
  }

  get tempCount(): number {
    return this.temps;
  }

  newTemp(): number {
    return this.temps++;
  }

  newBlock(): number {
    const id = this.blocks.length;
    // Every block is born ending in an implicit return at the closing brace,
    // so a path that falls off the end of the function returns there.
    this.blocks.push({ id, ops: [], term: { kind: 'return', range: this.fallbackRange } });
    return id;
  }

  emit(op: Op): void {
    this.blocks[this.current]!.ops.push(op);
  }

  /** Ends the current block with `term`; the builder is detached until told where to continue. */
  terminate(term: Terminator): void {
    this.blocks[this.current]!.term = term;
    this.currentId = null;
  }

  jump(target: number): void {
    this.terminate({ kind: 'jump', target });
  }

  branch(cond: Expr, condText: string, whenTrue: number, whenFalse: number,
    origin: Extract<Terminator, { kind: 'branch' }>['origin'], range: SourceRange): void {
    this.terminate({ kind: 'branch', cond, condText, whenTrue, whenFalse, origin, range });
  }

  /** Falls through from the current block (if attached) into `id` and continues there. */
  enter(id: number): void {
    if (this.currentId !== null && this.currentId !== id) {
      this.blocks[this.currentId]!.term = { kind: 'jump', target: id };
    }
    this.currentId = id;
  }

  /** Continues in `id`; the current block must already be terminated. */
  resumeAt(id: number): void {
    this.currentId = id;
  }

  /** The block a `goto label` jumps to, created on first mention. */
  labelBlock(label: string): number {
    let id = this.labels.get(label);
    if (id === undefined) {
      id = this.newBlock();
      this.blocks[id]!.label = label;
      this.labels.set(label, id);
    }
    return id;
  }

  /** Labels that some goto names but no statement defines. */
  undefinedLabels(defined: ReadonlySet<string>): string[] {
    return [...this.labels.keys()].filter((l) => !defined.has(l));
  }
}
