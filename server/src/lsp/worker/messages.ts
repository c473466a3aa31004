/**
 * What the language server's thread and its analysis worker say to each
 * other (analysisWorker.ts does the work; client.ts is the server's side).
 * Everything is plain data, copied by postMessage.
 *
 * Cancellation does not wait for a message (a synchronous analysis never
 * reads one): the two share an Int32Array over a SharedArrayBuffer. Cell 0
 * counts the updates the server has sent, so that other work can step
 * aside while one waits; each further cell is a document's generation,
 * bumped by every edit, so that work for an older text stops.
 */
import type { JailcheckConfig } from '../../../../simulator/src/config';
import type { Finding } from '../../../../simulator/src/findings';
import type { SourceRange } from '../../../../simulator/src/ir';
import type { PointState } from '../../../../simulator/src/analysis/lockState';
import type { SimulationReport } from '../../../../simulator/src/sim/report';
import type { ReviewResult } from '../../review/reviewPatch';

/** Cells of the shared array: 0 is the update count; slots start at 1. */
export const SLOTS = 4096;
export const UPDATES_SENT = 0;

/** What the server tells the worker, each with the slot and generation its work belongs to. */
export type WorkerRequest =
  | { readonly kind: 'update'; readonly id: number; readonly slot: number; readonly gen: number; readonly uri: string; readonly version: number;
      readonly text: string; readonly config: JailcheckConfig; readonly configKey: string }
  | { readonly kind: 'simulate'; readonly id: number; readonly slot: number; readonly gen: number; readonly uri: string; readonly function: string;
      readonly scenario?: string; readonly timeBudgetMs: number; readonly maxPreemptions: number; readonly cancelId: number }
  | { readonly kind: 'background'; readonly id: number; readonly slot: number; readonly gen: number; readonly uri: string; readonly version: number;
      readonly timeBudgetMs: number; readonly maxPreemptions: number }
  | { readonly kind: 'analyseText'; readonly id: number; readonly slot: number; readonly gen: number; readonly text: string;
      readonly config: JailcheckConfig; readonly configKey: string; readonly simulate?: SimulationBudget }
  | { readonly kind: 'review'; readonly id: number; readonly slot: number; readonly gen: number; readonly baseText: string; readonly patchText: string;
      readonly config: JailcheckConfig; readonly configKey: string; readonly baseName: string; readonly patchName: string; readonly simulate?: SimulationBudget }
  | { readonly kind: 'close'; readonly uri: string }
  /** The user cancelled a simulation they started (its progress bar's button). */
  | { readonly kind: 'cancel'; readonly cancelId: number };

export interface SimulationBudget {
  readonly timeBudgetMs: number;
  readonly maxPreemptions: number;
}

/** One function of an analysed version, as the server's features need it. */
export interface FunctionInfo {
  readonly name: string;
  readonly range: SourceRange;
  readonly paths: number;
  /** Findings that are not information. */
  readonly findings: number;
  readonly analysed: boolean;
  /** Its analysis (a number the worker gives each; a function reused from an earlier version keeps it): hover's states come under it. */
  readonly analysis?: number;
  /**
   * Its program points here: [point key, start, end]; left out when the
   * function's text is the previous snapshot's (the server moves that
   * snapshot's points with the function).
   */
  readonly points?: ReadonlyArray<readonly [number, number, number]>;
}

/** One analysed version of a document. */
export interface Snapshot {
  readonly uri: string;
  readonly version: number;
  readonly findings: Finding[];
  readonly functions: readonly FunctionInfo[];
  readonly reextracted: number;
  readonly reanalysed: number;
  /** Worker time from the update's arrival to this snapshot. */
  readonly durationMs: number;
  /** False for a snapshot sent before the callers of changed functions were analysed again. */
  readonly complete: boolean;
  /** The functions whose built-in scenarios the background simulation runs (interleavings.ts cascadeFunctions). */
  readonly cascade: readonly string[];
  /** Why the document was not analysed, when it was not. */
  readonly skipped?: string;
}

export interface TextAnalysis {
  /** The text analysed. */
  readonly text: string;
  /** Static findings, the ledger's included. */
  readonly findings: Finding[];
  /** The simulator's findings, when asked for. */
  readonly interleaving?: Finding[];
}

/** What the worker tells the server. */
export type WorkerMessage =
  | { readonly kind: 'ready'; readonly parser: { readonly backend: 'native' | 'wasm'; readonly fallbackReason?: string } }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: WorkerError }
  /** An early snapshot of an update still under way. */
  | { readonly kind: 'partial'; readonly id: number; readonly value: Snapshot }
  /** Hover's states of one analysis: [point key, state]. */
  | { readonly kind: 'states'; readonly analysis: number; readonly states: ReadonlyArray<readonly [number, PointState]> }
  | { readonly kind: 'log'; readonly level: 'info' | 'error'; readonly message: string };

export interface WorkerError {
  /** `cancelled`: newer work made it useless; `input`: the user's to fix (message says how); `internal`: a bug. */
  readonly kind: 'cancelled' | 'input' | 'internal';
  /** The error's class, for input errors (PatchDoesNotApply is placed on its hunk). */
  readonly name?: string;
  readonly message: string;
}

export type { SimulationReport, ReviewResult };
