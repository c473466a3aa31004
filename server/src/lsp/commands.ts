/**
 * The server's commands (workspace/executeCommand):
 * - jailcheck.simulate: the simulator on one function (named, or the one at
 *   a position), with work-done progress and cancellation;
 * - jailcheck.lockStateAt: the hover's lock state as data;
 * - jailcheck.reviewPatch: a patch file reviewed against a C file (see patchReview.ts).
 */
import {
  CancellationToken, Connection, ErrorCodes, ExecuteCommandParams, LSPErrorCodes, ResponseError, WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { describeLockState } from '../../../simulator/src/analysis/lockState';
import type { SimulationReport } from '../../../simulator/src/sim/report';
import type { AnalysisScheduler } from './analysis';
import { rangeOf } from './diagnostics';
import { isPosition, lockStateIn } from './hover';
import type { AnalysisWorkerClient } from './worker/client';
import { WorkerRequestError } from './worker/client';
import type { Logger } from './logger';
import type { PatchReviewFeature } from './patchReview';
import { LockStateAtCommand, ReviewPatchCommand, SimulateCommand } from './protocol';
import type { StatusReporter } from './status';

export const SERVER_COMMANDS = [SimulateCommand.command, LockStateAtCommand.command, ReviewPatchCommand.command];

/** A request the user can fix: answered with this message, not logged as a bug. */
function userError(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

function argumentOf<T>(params: ExecuteCommandParams): T {
  const arg = params.arguments?.[0];
  if (typeof arg !== 'object' || arg === null || typeof (arg as { uri?: unknown }).uri !== 'string') {
    throw userError(`${params.command} expects one argument: an object with a uri`);
  }
  return arg as T;
}

export class CommandsFeature {
  private serverProgress = false;

  constructor(
    private readonly connection: Connection,
    private readonly scheduler: AnalysisScheduler,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
    private readonly worker: AnalysisWorkerClient,
    private readonly review?: PatchReviewFeature,
  ) {
    connection.onExecuteCommand(async (params, token, workDone) => {
      try {
        switch (params.command) {
          case SimulateCommand.command:
            return await this.simulateCommand(argumentOf<SimulateCommand.Arguments>(params), token, workDone);
          case LockStateAtCommand.command:
            return await this.lockStateAt(argumentOf<LockStateAtCommand.Arguments>(params));
          case ReviewPatchCommand.command:
            return await this.reviewPatch(params);
          default:
            return userError(`unknown command ${params.command}`);
        }
      } catch (err) {
        if (err instanceof ResponseError) return err;
        this.logger.error(`command ${params.command}`, err);
        return new ResponseError(ErrorCodes.InternalError, `jailcheck: ${params.command} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  /** Whether the client lets the server start progress of its own (for clients that pass no token). */
  set clientSupportsProgress(value: boolean) {
    this.serverProgress = value;
  }

  private async simulateCommand(args: SimulateCommand.Arguments, token: CancellationToken, workDone: WorkDoneProgressReporter): Promise<SimulateCommand.Result> {
    const doc = await this.scheduler.current(args.uri);
    if (!doc) throw userError(`${args.uri} is not open in the editor`);
    if (!doc.snapshot) throw userError(doc.skipped ?? 'this document was not analysed');
    let fn: { name: string; range: { start: number; end: number } } | undefined;
    if (args.function) {
      fn = doc.snapshot.functions.find((f) => f.name === args.function);
      if (!fn) throw userError(`no function named ${args.function} in this file`);
    } else if (args.position) {
      if (!isPosition(args.position)) throw userError('jailcheck.simulate: position needs a line and a character');
      const offset = doc.document.offsetAt(args.position);
      fn = doc.snapshot.functions.find((f) => f.range.start <= offset && offset <= f.range.end);
      if (!fn) throw userError(`line ${args.position.line + 1} is not inside a function`);
    } else {
      throw userError('jailcheck.simulate needs a function name or a position');
    }
    const name = fn.name;

    // The client's token, or progress of our own when the client can show it.
    let progress: WorkDoneProgressReporter = workDone;
    let progressToken: CancellationToken | undefined;
    if (WorkDoneProgressReporter.isNullInstance(workDone) && this.serverProgress) {
      const created = await this.connection.window.createWorkDoneProgress();
      progress = created;
      progressToken = created.token;
    }
    progress.begin(`Simulating ${name}()`, undefined, 'running the built-in scenarios', true);
    const end = this.status.begin('simulation', args.uri);
    try {
      let report: SimulationReport;
      try {
        report = await this.worker.simulate(doc.uri, name, args.scenario, {
          timeBudgetMs: doc.settings.simulator.timeBudgetMs, maxPreemptions: doc.settings.simulator.maxPreemptions,
        }, () => token.isCancellationRequested || progressToken?.isCancellationRequested === true);
      } catch (err) {
        // A function that cannot be simulated, or no scenario of that name: the user's to fix.
        if (err instanceof WorkerRequestError && err.error.kind === 'input') throw userError(err.message);
        if (err instanceof WorkerRequestError && err.cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'the document changed while it was simulated; run the command again');
        throw err;
      }
      this.logger.info(`simulated ${name}() in ${Math.round(report.elapsedMs)} ms: ${report.scenarios.length} scenario(s)`);
      return {
        uri: args.uri,
        version: doc.version,
        function: name,
        functionRange: rangeOf(doc.document, fn.range),
        report,
        stepRanges: report.scenarios.map((s) => (s.counterexample?.steps ?? []).map((step) => rangeOf(doc.document, step.range))),
      };
    } finally {
      progress.done();
      end();
    }
  }

  private async reviewPatch(params: ExecuteCommandParams): Promise<ReviewPatchCommand.Result> {
    const arg = params.arguments?.[0] as Partial<ReviewPatchCommand.Arguments> | undefined;
    if (typeof arg?.patchUri !== 'string' || (arg.baseUri !== undefined && typeof arg.baseUri !== 'string')) {
      throw userError(`${params.command} expects one argument: an object with a patchUri (and a baseUri)`);
    }
    if (!this.review) throw userError('patch review is not available in this server');
    return this.review.reviewCommand(arg.patchUri, arg.baseUri);
  }

  private async lockStateAt(args: LockStateAtCommand.Arguments): Promise<LockStateAtCommand.Result> {
    if (!isPosition(args.position)) throw userError('jailcheck.lockStateAt needs a position with a line and a character');
    const doc = await this.scheduler.current(args.uri);
    if (!doc) throw userError(`${args.uri} is not open in the editor`);
    const state = await lockStateIn(this.scheduler, args.uri, doc.document.offsetAt(args.position));
    if (!state) return null;
    return { function: state.function, range: rangeOf(doc.document, state.range), summary: describeLockState(state), state };
  }
}
