/**
 * Hover anywhere inside a function: the locks held before the statement
 * under the cursor, on how many of the paths reaching it (with the flag
 * condition when not on all), and the counter changes so far. Answered on
 * the server's thread from the latest analysis's states (the worker sends
 * them with each analysis), without waiting for an analysis under way.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { Connection, Hover, MarkupContent } from 'vscode-languageserver/node';
import type { Position } from 'vscode-languageserver/node';
import { describeLockState, LockStateAt, pointAt } from '../../../simulator/src/analysis/lockState';
import type { AnalysisScheduler } from './analysis';
import { rangeOf } from './diagnostics';
import type { Logger } from './logger';

/**
 * Markdown that shows `text` as written. Only the characters that would
 * change its rendering mid-line are escaped, so clients that show the
 * Markdown raw (Neovim) stay readable: `pr->pr_mtx` keeps its `>`.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*[\]<]/g, (c) => `\\${c}`);
}

function delta(d: number | 'set'): string {
  if (d === 'set') return 'set to a value';
  return d > 0 ? `+${d}` : `−${-d}`;
}

/** The hover's Markdown for a lock state. */
export function lockStateMarkdown(s: LockStateAt, line: number): string {
  const lines = [`**jailcheck** · \`${s.function}()\` before line ${line}`, '', escapeMarkdown(describeLockState(s))];
  if (!s.unreachable && s.counters.length > 0) {
    lines.push('', `Counter changes so far: ${s.counters.map((c) => `\`${c.counter}\` ${c.deltas.map(delta).join(' or ')}`).join('; ')}`);
  }
  return lines.join('\n');
}

export function isPosition(p: unknown): p is Position {
  return typeof p === 'object' && p !== null && Number.isInteger((p as Position).line) && Number.isInteger((p as Position).character);
}

/** How long a hover waits for the states of an analysis that just finished (they follow its diagnostics). */
const STATES_WAIT_MS = 500;

/** The lock state at `position` of a document as it is now (its range in the document as it is now). */
export async function lockStateIn(scheduler: AnalysisScheduler, uri: string, offset: number): Promise<LockStateAt | undefined> {
  const at = scheduler.at(uri, offset);
  if (!at?.fn || at.fn.analysis === undefined) return undefined;
  const point = pointAt((at.fn.points ?? []).map(([key, start, end]) => ({ key, range: { start, end } })), at.offset);
  if (!point) return undefined;
  const states = at.states ?? await scheduler.statesOf(at.fn.analysis, STATES_WAIT_MS);
  const state = states?.get(point.key);
  if (!state) return undefined;
  return { function: at.fn.name, range: { start: at.toNow(point.range.start), end: at.toNow(point.range.end) }, ...state };
}

export class HoverFeature {
  constructor(connection: Connection, private readonly scheduler: AnalysisScheduler,
    private readonly documents: { get(uri: string): { offsetAt(p: Position): number; positionAt(o: number): Position } | undefined },
    private readonly logger: Logger) {
    connection.onHover(async (params) => {
      // A malformed request is the client's to fix: say what is missing, do not fail inside.
      if (typeof params?.textDocument?.uri !== 'string' || !isPosition(params.position)) {
        return new ResponseError(ErrorCodes.InvalidParams, 'textDocument/hover needs a textDocument with a uri and a position with a line and a character');
      }
      try {
        return await this.hover(params.textDocument.uri, params.position);
      } catch (err) {
        this.logger.error(`hover at ${params.textDocument.uri}:${params.position.line + 1}`, err);
        return null;
      }
    });
  }

  private async hover(uri: string, position: Position): Promise<Hover | null> {
    const doc = this.documents.get(uri);
    if (!doc) return null;
    const state = await lockStateIn(this.scheduler, uri, doc.offsetAt(position));
    if (!state) return null;
    const range = rangeOf(doc, state.range);
    const contents: MarkupContent = { kind: 'markdown', value: lockStateMarkdown(state, range.start.line + 1) };
    return { contents, range };
  }
}
