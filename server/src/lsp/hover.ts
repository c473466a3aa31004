/**
 * Hover anywhere inside a function: the locks held before the statement
 * under the cursor, on how many of the paths reaching it (with the flag
 * condition when not on all), and the counter changes so far.
 */
import type { Connection, Hover, MarkupContent } from 'vscode-languageserver/node';
import { describeLockState, lockStateAt, LockStateAt } from '../../../simulator/src/analysis/lockState';
import type { AnalysisScheduler, AnalysedDocument } from './analysis';
import { rangeOf } from './diagnostics';
import type { Logger } from './logger';
import type { Position } from 'vscode-languageserver/node';

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

/** The lock state at `position` of an analysed document, with the statement's line. */
export function lockStateIn(doc: AnalysedDocument, position: Position): LockStateAt | undefined {
  if (!doc.analyzer || !doc.result) return undefined;
  const offset = doc.document.offsetAt(position);
  const at = doc.analyzer.analysisAt(offset);
  if (!at) return undefined;
  // The analysis may have been made on an earlier version of the function: ask it by block and
  // op, with this version's ranges.
  return lockStateAt(at.analysis, offset, at.ir);
}

export class HoverFeature {
  constructor(connection: Connection, private readonly scheduler: AnalysisScheduler, private readonly logger: Logger) {
    connection.onHover(async (params) => {
      try {
        return await this.hover(params.textDocument.uri, params.position);
      } catch (err) {
        this.logger.error(`hover at ${params.textDocument.uri}:${params.position.line + 1}`, err);
        return null;
      }
    });
  }

  private async hover(uri: string, position: Position): Promise<Hover | null> {
    const doc = await this.scheduler.current(uri);
    if (!doc) return null;
    const state = lockStateIn(doc, position);
    if (!state) return null;
    const range = rangeOf(doc.document, state.range);
    const contents: MarkupContent = { kind: 'markdown', value: lockStateMarkdown(state, range.start.line + 1) };
    return { contents, range };
  }
}
