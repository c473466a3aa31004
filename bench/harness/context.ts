/**
 * What every benchmark section is given: the inputs, the parsers, the
 * analysis configuration, the time budget, and the figures of the sections
 * that ran before it (so a section can relate its times to the parse time
 * measured in the same run, or estimate what it can afford).
 */
import type { JailcheckConfig } from '../../simulator/src/config';
import type { CParser } from '../../server/src/parsing/parser';
import type { Figure, SectionResult } from './figures';

export interface BenchInput {
  /** `file`: a file named with --file (a FreeBSD checkout's kern_jail.c, say). */
  readonly id: 'generated' | 'example' | 'file';
  /** For the table: "generated kern_jail.c (seed 2011)". */
  readonly description: string;
  readonly text: string;
  readonly lines: number;
  readonly bytes: number;
  /** Where an incremental edit types, and why there. */
  readonly editTargets: readonly EditTarget[];
}

export interface EditTarget {
  /** The function the edits are inside. */
  readonly function: string;
  /** What kind of function it is, for the table ("the function jailcheck is for", "calls no function of the file"). */
  readonly why: string;
  /**
   * The end of an identifier the function's code uses (a variable assigned
   * in a statement): letters typed there change the IR at every keystroke,
   * as typing in a name does.
   */
  readonly offset: number;
  /** The identifier typed into. */
  readonly identifier: string;
}

/** A deadline for the whole run, shared out among the sections. */
export class Budget {
  private readonly start = performance.now();

  constructor(readonly totalMs: number) {}

  get elapsedMs(): number {
    return performance.now() - this.start;
  }

  get remainingMs(): number {
    return Math.max(0, this.totalMs - this.elapsedMs);
  }

  /** Time for one measurement: `share` of what is left, at most `capMs`. */
  slice(share: number, capMs: number): number {
    return Math.min(capMs, this.remainingMs * share);
  }
}

export interface BenchContext {
  readonly inputs: ReadonlyMap<BenchInput['id'], BenchInput>;
  readonly native: CParser;
  /** Undefined when web-tree-sitter did not load; `wasmProblem` says why. */
  readonly wasm?: CParser;
  readonly wasmProblem?: string;
  readonly config: JailcheckConfig;
  readonly budget: Budget;
  /** Figures of earlier sections, by `section/figure` id. */
  readonly measured: ReadonlyMap<string, Figure>;
  /** Progress for the person waiting (stderr; stdout carries the table or the JSON). */
  progress(message: string): void;
}

export interface BenchSection {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

export function skipped(section: Pick<BenchSection, 'id' | 'title'>, reason: string): SectionResult {
  return { id: section.id, title: section.title, figures: [], skipped: reason, notes: [] };
}
