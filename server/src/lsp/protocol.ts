/**
 * Every message between the jailcheck language server and its clients that
 * the Language Server Protocol does not define: one namespace per message,
 * with its method (or command) name and its types. The VS Code client
 * imports this file too, so it holds types and string constants only — no
 * runtime import — and both bundles agree on every name.
 *
 * Other editors need none of this: diagnostics, hover and code lenses are
 * plain LSP, and the two commands are reachable through
 * `workspace/executeCommand`.
 */
import type { Position, Range } from 'vscode-languageserver-protocol';
import type { LockStateAt } from '../../../simulator/src/analysis/lockState';
import type { SimulationReport } from '../../../simulator/src/sim/report';

/** The simulation report's types, for the client's report view (which imports nothing else of the server). */
export type { Counterexample, ScenarioResult, ScheduleStep, SimulationReport } from '../../../simulator/src/sim/report';

/**
 * Server → client notification: analysis or simulation started or ended.
 * Feeds VS Code's status item; any client may ignore it.
 */
export namespace StatusNotification {
  export const method = 'jailcheck/status';

  export interface LastAnalysis {
    readonly uri: string;
    readonly version: number;
    /** Wall time of the analysis, parse to findings. */
    readonly durationMs: number;
    /** When it ended, ISO 8601. */
    readonly finishedAt: string;
    readonly functions: number;
    /** Functions re-extracted by this analysis (the others came from the cache). */
    readonly reanalysed: number;
    /** Findings that are not information notes. */
    readonly problems: number;
    /** False for the early publication of an edit whose callers are still being analysed again. */
    readonly complete: boolean;
    /** The budget messages ("raise jailcheck.bounds.maxSteps …"), empty when no budget was reached. */
    readonly budgets: readonly string[];
  }

  export interface Params {
    readonly state: 'busy' | 'idle';
    /** What is running while busy. */
    readonly activity?: 'analysis' | 'simulation';
    readonly uri?: string;
    readonly parser: {
      readonly backend: 'native' | 'wasm';
      /** Why the native binding is not in use, when it is not. */
      readonly fallbackReason?: string;
    };
    readonly lastAnalysis?: LastAnalysis;
    /** A failure the user should know about (the analysis of a file threw). */
    readonly error?: string;
  }
}

/**
 * Command `jailcheck.simulate` (through `workspace/executeCommand`): runs the
 * simulator on one function of an open document. Supports work-done progress
 * (pass a `workDoneToken`) and cancellation (`$/cancelRequest`, or cancelling
 * the progress the server created when the client gave no token).
 */
export namespace SimulateCommand {
  export const command = 'jailcheck.simulate';

  /** The function is named, or found at `position`. */
  export interface Arguments {
    readonly uri: string;
    readonly function?: string;
    readonly position?: Position;
    /** Only this built-in scenario. */
    readonly scenario?: string;
  }

  export interface Result {
    readonly uri: string;
    /** The document version the simulation read. */
    readonly version: number;
    readonly function: string;
    readonly functionRange: Range;
    readonly report: SimulationReport;
    /**
     * For each scenario of the report (same order), the editor range of each
     * step of its counterexample (empty when it has none).
     */
    readonly stepRanges: ReadonlyArray<readonly Range[]>;
  }
}

/** Command `jailcheck.lockStateAt`: the lock state before the statement at a position. */
export namespace LockStateAtCommand {
  export const command = 'jailcheck.lockStateAt';

  export interface Arguments {
    readonly uri: string;
    readonly position: Position;
  }

  /** Null when the position is not inside an analysed function. */
  export type Result = {
    readonly function: string;
    /** The statement the state is reported before. */
    readonly range: Range;
    /** One line: "pr->pr_mtx held on all 4 paths; …". */
    readonly summary: string;
    readonly state: LockStateAt;
  } | null;
}

/**
 * Command `jailcheck.reviewPatch`: review a patch file against the C file it
 * names (open, or found in the workspace), else against the one given, and
 * return the verdict. The patch's diagnostics are published for its URI, as
 * for a patch document opened in the editor (language `diff`), which is
 * reviewed the same way without the command.
 */
export namespace ReviewPatchCommand {
  export const command = 'jailcheck.reviewPatch';
  export interface Arguments {
    readonly patchUri: string;
    /** The C file to apply the patch to when the file the patch names is nowhere in the workspace. */
    readonly baseUri?: string;
  }
  export type Result = import('./patchReview').PatchVerdict;
}

/**
 * Workspace trust. In an untrusted workspace the VS Code client adds, to each
 * answer to `workspace/configuration` for the `jailcheck` section, the values
 * of the budget settings below as the user (not the workspace) set them, or
 * their defaults. The server then ignores a workspace value that is wider
 * than that: a cloned repository cannot make the editor spin on a huge
 * budget. Narrower workspace values still apply.
 */
export namespace UntrustedBaseline {
  /** The key added to the `jailcheck` configuration object. */
  export const key = 'untrustedBaseline';
  /** Settings (below `jailcheck.`) where a larger number explores more. */
  export const budgetSettings = [
    'bounds.ancestorDepth',
    'bounds.maxStatesPerPoint',
    'bounds.maxSteps',
    'bounds.counterLimit',
    'simulator.timeBudgetMs',
    'simulator.maxPreemptions',
  ] as const;
  export type BudgetSetting = (typeof budgetSettings)[number];
  export type Values = Partial<Record<BudgetSetting, number>>;
}

/** Settings that only take effect when the server starts (the client restarts it). */
export const RESTART_SETTINGS = ['jailcheck.parser'] as const;
