/** Shared test helpers: one analysis service, findings with line numbers, fixture editing. */
import * as fs from 'fs';
import * as path from 'path';
import assert from 'node:assert/strict';
import { AnalysisService } from '../server/src/analysisService';
import { createNativeParser } from '../server/src/parsing/parser';
import { LineIndex } from '../server/src/lineIndex';
import type { Finding, RuleId } from '../simulator/src/findings';
import type { JailcheckConfig } from '../simulator/src/config';

let shared: AnalysisService | undefined;

/** The service every test shares (native tree-sitter; the parser tests cover WebAssembly). */
export function service(): AnalysisService {
  shared ??= AnalysisService.withParser(createNativeParser());
  return shared;
}

export const ROOT = path.resolve(__dirname, '..');

export function readFixture(rel: string): string {
  return fs.readFileSync(path.join(ROOT, rel), 'utf8');
}

export function example(): string {
  return readFixture('examples/kern_jail_2011.c');
}

export interface LineFinding extends Finding {
  readonly line: number;
}

export function check(text: string, config?: JailcheckConfig): LineFinding[] {
  const index = new LineIndex(text);
  return service().analyse(text, { config }).findings.map((f) => ({ ...f, line: index.position(f.range.start).line }));
}

/** Findings that are not information notes. */
export function problems(text: string, config?: JailcheckConfig): LineFinding[] {
  return check(text, config).filter((f) => f.severity !== 'information');
}

/**
 * Replaces `before` by `after` in `text`; `before` must occur exactly once,
 * so a fixture edit cannot silently stop applying.
 */
export function edit(text: string, before: string, after: string): string {
  const first = text.indexOf(before);
  assert.ok(first >= 0, `edit: text not found:\n${before}`);
  assert.equal(text.indexOf(before, first + 1), -1, `edit: text occurs more than once:\n${before}`);
  return text.slice(0, first) + after + text.slice(first + before.length);
}

/** The 1-based line of the `occurrence`-th line containing `snippet`, optionally after a line containing `after`. */
export function lineOf(text: string, snippet: string, opts: { after?: string; occurrence?: number } = {}): number {
  const lines = text.split('\n');
  let start = 0;
  if (opts.after) {
    start = lines.findIndex((l) => l.includes(opts.after!));
    assert.ok(start >= 0, `lineOf: anchor not found: ${opts.after}`);
  }
  let seen = 0;
  for (let i = start; i < lines.length; i++) {
    if (lines[i]!.includes(snippet) && ++seen === (opts.occurrence ?? 1)) return i + 1;
  }
  assert.fail(`lineOf: not found: ${snippet}`);
}

export function byRule(findings: readonly LineFinding[], rule: RuleId): LineFinding[] {
  return findings.filter((f) => f.rule === rule);
}

/** A readable list for assertion messages. */
export function describe(findings: readonly LineFinding[]): string {
  return findings.map((f) => `${f.line}: [${f.rule}] ${f.function}: ${f.message}`).join('\n') || '(no findings)';
}
