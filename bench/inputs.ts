/**
 * The benchmark's inputs: the generated kern_jail.c-sized file and the
 * bundled example, each with the places its incremental edits type into —
 * one function nothing calls, and one whose callers are re-analysed with
 * it (chosen from the call graph, so the choice follows the file).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FunctionIR } from '../simulator/src/ir';
import type { CParser } from '../server/src/parsing/parser';
import { prepareKernelSource } from '../server/src/parsing/preprocess';
import { regionParser } from '../server/src/parsing/region';
import { extractFile } from '../server/src/extract/index';
import { FREEBSD_VOCABULARY } from '../simulator/src/config';
import type { BenchInput, EditTarget } from './harness/context';
import { GeneratedFile, generateKernJail } from './generate';
import { projectRoot } from './paths';

export function examplePath(): string {
  return path.join(projectRoot(), 'examples', 'kern_jail_2011.c');
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/**
 * Where to type in a function: the end of the first variable that a
 * statement of it assigns (`error = EINVAL;`, `killpr = NULL;`), so every
 * letter renames a variable the code reads and the IR changes each time.
 */
function typingSpot(text: string, fn: FunctionIR): { offset: number; identifier: string } | undefined {
  const declared = new Set([...fn.params, ...fn.locals].map((v) => v.name));
  let best: { offset: number; identifier: string } | undefined;
  for (const b of fn.blocks) {
    for (const op of b.ops) {
      if (op.kind !== 'assign' || op.target.kind !== 'name' || !declared.has(op.target.name)) continue;
      const name = op.target.name;
      if (text.slice(op.range.start, op.range.start + name.length) !== name) continue;
      if (!best || op.range.start < best.offset) best = { offset: op.range.start + name.length, identifier: name };
    }
  }
  return best;
}

/** Who calls whom among the file's functions, turned round: callee → its transitive callers. */
function transitiveCallers(functions: readonly FunctionIR[]): Map<string, Set<string>> {
  const direct = new Map<string, Set<string>>();
  const names = new Set(functions.map((f) => f.name));
  for (const f of functions) {
    for (const b of f.blocks) for (const op of b.ops) {
      if (op.kind !== 'call' || !names.has(op.callee) || op.callee === f.name) continue;
      const set = direct.get(op.callee) ?? new Set<string>();
      set.add(f.name);
      direct.set(op.callee, set);
    }
  }
  const out = new Map<string, Set<string>>();
  for (const name of names) {
    const seen = new Set<string>();
    const stack = [...(direct.get(name) ?? [])];
    while (stack.length) {
      const c = stack.pop()!;
      if (seen.has(c) || c === name) continue;
      seen.add(c);
      stack.push(...(direct.get(c) ?? []));
    }
    out.set(name, seen);
  }
  return out;
}

/** The functions of a file that call no other function of it. */
function leavesOf(functions: readonly FunctionIR[]): Set<string> {
  const names = new Set(functions.map((f) => f.name));
  return new Set(functions.filter((f) => !f.blocks.some((b) => b.ops.some((op) => op.kind === 'call' && names.has(op.callee) && op.callee !== f.name)))
    .map((f) => f.name));
}

/**
 * The places the edit figures type into, each reported on its own:
 * prison_deref() (the function jailcheck is for), kern_jail_set() (the
 * largest), and a leaf function (calling no function of the file:
 * prison_check_af() when the file has it, else the middle one by size).
 */
export function chooseEditTargets(text: string, parser: CParser): EditTarget[] {
  const prepared = prepareKernelSource(text);
  const ir = extractFile(parser.parse(prepared).rootNode, prepared, { vocabulary: FREEBSD_VOCABULARY, reparse: regionParser(parser) });
  const fns = ir.functions.filter((f) => f.problems.length === 0);
  const callers = transitiveCallers(fns);
  const lines = new Map(fns.map((f) => [f.name, lineCount(text.slice(f.range.start, f.range.end))]));
  const targets: EditTarget[] = [];
  const add = (f: FunctionIR | undefined, why: string): void => {
    if (!f || targets.some((t) => t.function === f.name)) return;
    const spot = typingSpot(text, f);
    if (!spot) return;
    const n = callers.get(f.name)?.size ?? 0;
    targets.push({ function: f.name, why: `${why}; ${lines.get(f.name)} lines, ${n} function${n === 1 ? '' : 's'} call it`, ...spot });
  };
  add(fns.find((f) => f.name === 'prison_deref'), 'the function jailcheck is for');
  add(fns.find((f) => f.name === 'kern_jail_set'), 'the largest function');
  const leaves = leavesOf(fns);
  const candidates = fns.filter((f) => leaves.has(f.name) && typingSpot(text, f)).sort((a, b) => lines.get(a.name)! - lines.get(b.name)! || a.range.start - b.range.start);
  add(candidates.find((f) => f.name === 'prison_check_af') ?? candidates[Math.floor(candidates.length / 2)], 'a leaf: calls no function of the file');
  return targets;
}

/** A file the user names (`--file`): every section runs on it. */
export function fileInput(file: string, text: string, parser: CParser): BenchInput {
  return {
    id: 'file', description: file, text, lines: lineCount(text), bytes: Buffer.byteLength(text), editTargets: chooseEditTargets(text, parser),
  };
}

export function generatedInput(file: GeneratedFile, parser: CParser): BenchInput {
  return {
    id: 'generated', description: `generated kern_jail.c (seed ${file.seed})`, text: file.text,
    lines: file.lines, bytes: Buffer.byteLength(file.text), editTargets: chooseEditTargets(file.text, parser),
  };
}

export function exampleInput(parser: CParser): BenchInput {
  const text = fs.readFileSync(examplePath(), 'utf8');
  return {
    id: 'example', description: 'examples/kern_jail_2011.c', text, lines: lineCount(text),
    bytes: Buffer.byteLength(text), editTargets: chooseEditTargets(text, parser),
  };
}

export { generateKernJail };
