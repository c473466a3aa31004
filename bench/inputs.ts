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

const STRING = /"(?:[^"\\\n]|\\.)*"/g;

/** The closing quote of the first string literal in the function's body, if it has one. */
function typingSpot(text: string, fn: FunctionIR): number | undefined {
  const bodyStart = text.indexOf('{', fn.nameRange.end);
  if (bodyStart < 0 || bodyStart > fn.range.end) return undefined;
  STRING.lastIndex = bodyStart;
  const m = STRING.exec(text);
  if (!m || m.index + m[0].length > fn.range.end) return undefined;
  return m.index + m[0].length - 1;
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

/**
 * A function nothing calls (the middle one by size, so neither trivial nor
 * the giant), and the function with the most transitive callers whose
 * re-analysis stays small (itself and its callers under `maxLines` lines).
 */
export function chooseEditTargets(text: string, parser: CParser, maxLines = 400): EditTarget[] {
  const prepared = prepareKernelSource(text);
  const ir = extractFile(parser.parse(prepared).rootNode, prepared, { vocabulary: FREEBSD_VOCABULARY, reparse: regionParser(parser) });
  const fns = ir.functions.filter((f) => f.problems.length === 0);
  const callers = transitiveCallers(fns);
  const lines = new Map(fns.map((f) => [f.name, lineCount(text.slice(f.range.start, f.range.end))]));
  const withSpot = fns.map((f) => ({ f, spot: typingSpot(text, f) })).filter((x) => x.spot !== undefined);
  const targets: EditTarget[] = [];

  const leaves = withSpot.filter(({ f }) => callers.get(f.name)!.size === 0)
    .sort((a, b) => lines.get(a.f.name)! - lines.get(b.f.name)! || a.f.range.start - b.f.range.start);
  const leaf = leaves[Math.floor(leaves.length / 2)];
  if (leaf) targets.push({ function: leaf.f.name, why: `nothing calls it, ${lines.get(leaf.f.name)} lines`, offset: leaf.spot! });

  const cost = (name: string): number => [name, ...callers.get(name)!].reduce((s, n) => s + (lines.get(n) ?? 0), 0);
  const called = withSpot.filter(({ f }) => callers.get(f.name)!.size > 0 && cost(f.name) <= maxLines)
    .sort((a, b) => callers.get(b.f.name)!.size - callers.get(a.f.name)!.size || a.f.range.start - b.f.range.start)[0];
  if (called) {
    const n = callers.get(called.f.name)!.size;
    targets.push({ function: called.f.name, why: `${n} function${n === 1 ? '' : 's'} call it, directly or not`, offset: called.spot! });
  }
  return targets;
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
