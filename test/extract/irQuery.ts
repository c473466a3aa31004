/**
 * Extraction without analysis, and the questions a test asks of a
 * function's control-flow graph: which op starts at a marked offset, which
 * blocks a loop contains, what can reach what.
 */
import assert from 'node:assert/strict';
import type { Block, FunctionIR, Op, Terminator } from '../../simulator/src/ir';
import { DEFAULT_CONFIG, Vocabulary } from '../../simulator/src/config';
import type { CParser } from '../../server/src/parsing/parser';
import { prepareKernelSource } from '../../server/src/parsing/preprocess';
import { regionParser } from '../../server/src/parsing/region';
import { ExtractedFile, extractFile } from '../../server/src/extract/index';
import { service } from '../helpers';

/** The front end exactly as AnalysisService runs it, without the checks. */
export function extractWith(parser: CParser, source: string, vocabulary: Vocabulary = DEFAULT_CONFIG.vocabulary): ExtractedFile {
  const text = prepareKernelSource(source);
  const tree = parser.parse(text);
  return extractFile(tree.rootNode, text, { vocabulary, reparse: regionParser(parser) });
}

export function extract(source: string, vocabulary?: Vocabulary): ExtractedFile {
  return extractWith(service().parser, source, vocabulary);
}

function problemsText(ir: ExtractedFile): string {
  const per = ir.functions.filter((f) => f.problems.length).map((f) => `${f.name}: ${f.problems.map((p) => p.message).join('; ')}`);
  return [...per, ...ir.problems.map((p) => p.message)].join('\n') || '(none)';
}

/** The function named `name`, which must have been read without problems. */
export function readFunction(ir: ExtractedFile, name: string): FunctionIR {
  const fn = ir.functions.find((f) => f.name === name);
  assert.ok(fn, `no function ${name}; found: ${ir.functions.map((f) => f.name).join(', ') || '(none)'}`);
  assert.deepEqual(fn.problems, [], `${name} has problems:\n${problemsText(ir)}`);
  return fn;
}

/** Every function of the file read, none with a problem, no file-level problem. */
export function assertAllRead(ir: ExtractedFile, names: readonly string[]): void {
  assert.deepEqual(ir.functions.map((f) => f.name), [...names], 'functions found');
  assert.equal(problemsText(ir), '(none)');
}

export interface PlacedOp {
  readonly block: number;
  readonly index: number;
  readonly op: Op;
}

/** Ops in block order (which is source order for straight-line code). */
export function ops(fn: FunctionIR): PlacedOp[] {
  return fn.blocks.flatMap((b) => b.ops.map((op, index) => ({ block: b.id, index, op })));
}

/** The ops of `kind` whose range starts at `offset`. */
export function opsAt<K extends Op['kind']>(fn: FunctionIR, offset: number, kind: K): Array<PlacedOp & { op: Extract<Op, { kind: K }> }> {
  return ops(fn).filter((p) => p.op.range.start === offset && p.op.kind === kind) as Array<PlacedOp & { op: Extract<Op, { kind: K }> }>;
}

/** The one op of `kind` starting at `offset`. */
export function opAt<K extends Op['kind']>(fn: FunctionIR, offset: number, kind: K): PlacedOp & { op: Extract<Op, { kind: K }> } {
  const found = opsAt(fn, offset, kind);
  assert.equal(found.length, 1, `expected one ${kind} op at offset ${offset}, found ${found.length}:\n${dump(fn)}`);
  return found[0]!;
}

/** The block holding the first op, or else the terminator, that starts at `offset`. */
export function blockAt(fn: FunctionIR, offset: number): number {
  const op = ops(fn).find((p) => p.op.range.start === offset);
  if (op) return op.block;
  const term = fn.blocks.find((b) => b.term.kind !== 'jump' && b.term.range.start === offset);
  assert.ok(term, `no op or terminator at offset ${offset}:\n${dump(fn)}`);
  return term.id;
}

export type Branch = Extract<Terminator, { kind: 'branch' }>;

export function branches(fn: FunctionIR): Array<{ block: number; term: Branch }> {
  return fn.blocks.filter((b) => b.term.kind === 'branch').map((b) => ({ block: b.id, term: b.term as Branch }));
}

export function branchAt(fn: FunctionIR, offset: number, origin?: Branch['origin']): { block: number; term: Branch } {
  const found = branches(fn).filter((b) => b.term.range.start === offset && (!origin || b.term.origin === origin));
  assert.equal(found.length, 1, `expected one ${origin ?? ''} branch at offset ${offset}, found ${found.length}:\n${dump(fn)}`);
  return found[0]!;
}

export function successors(b: Block): number[] {
  switch (b.term.kind) {
    case 'jump': return [b.term.target];
    case 'branch': return [b.term.whenTrue, b.term.whenFalse];
    default: return [];
  }
}

/** Blocks reachable from `from` (including it), optionally never passing through `avoid`. */
export function reachable(fn: FunctionIR, from: number, avoid?: number): Set<number> {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || id === avoid) continue;
    seen.add(id);
    stack.push(...successors(fn.blocks[id]!));
  }
  return seen;
}

/** Blocks reachable from the entry. */
export function live(fn: FunctionIR): Set<number> {
  return reachable(fn, fn.entry);
}

/**
 * The blocks of the loop whose head is the branch in `head`: reachable from
 * its "another trip" side without passing the head again, and not from its
 * exit side (so a `return` in the body counts as inside, code after a
 * `break` does not).
 */
export function loopBlocks(fn: FunctionIR, head: number): Set<number> {
  const term = fn.blocks[head]!.term;
  assert.equal(term.kind, 'branch');
  const { whenTrue, whenFalse } = term as Branch;
  const outside = reachable(fn, whenFalse, head);
  return new Set([...reachable(fn, whenTrue, head)].filter((id) => !outside.has(id)));
}

/** Whether every path from the entry to `to` passes through `via`. */
export function dominates(fn: FunctionIR, via: number, to: number): boolean {
  return via === to || !reachable(fn, fn.entry, via).has(to);
}

/** A readable listing of the CFG, for assertion messages. */
export function dump(fn: FunctionIR): string {
  const out: string[] = [`${fn.name}:`];
  for (const b of fn.blocks) {
    out.push(`  b${b.id}${b.label ? ` (${b.label})` : ''}:`);
    for (const op of b.ops) {
      const what = op.kind === 'lock' ? `${op.action} ${op.lockText}${op.result !== undefined ? ` -> t${op.result}` : ''}`
        : op.kind === 'count' ? `${op.targetText} ${JSON.stringify(op.change)}${op.result !== undefined ? ` -> t${op.result} (${op.resultIs})` : ''}`
          : op.kind === 'assign' ? `${op.targetText} ${op.op} ${JSON.stringify(op.value)}`
            : op.kind === 'call' ? `${op.callee}(${op.argTexts.join(', ')})${op.result !== undefined ? ` -> t${op.result}` : ''}`
              : op.kind === 'assert' ? `${op.macro}(${op.condText})`
                : `${op.action} ${op.lockText} (${op.macro})`;
      out.push(`    ${op.kind} @${op.range.start}: ${what}`);
    }
    const t = b.term;
    out.push(`    -> ${t.kind === 'jump' ? `b${t.target}` : t.kind === 'branch' ? `${t.origin} [${t.condText}] ${JSON.stringify(t.cond)} ? b${t.whenTrue} : b${t.whenFalse}` : `${t.kind} @${t.range.start}`}`);
  }
  return out.join('\n');
}
