/**
 * The pr_uref ledger: every change of the configured counters in the file,
 * classified by whose counter it is, which transition it can be, and in what
 * event; and the parent-reference asymmetry findings drawn from it.
 */
import type { JailcheckConfig } from '../config';
import type { FileIR } from '../ir';
import type { Finding } from '../findings';
import { analyzeFile, FileAnalysis } from '../analysis/incremental';
import type { LedgerRow } from './records';
import { asymmetryFindings } from './rules';

export type { LedgerRow } from './records';

export interface Ledger {
  readonly rows: LedgerRow[];
  readonly findings: Finding[];
}

/**
 * The ledger of an analysed file: its functions' rows come from their
 * analyses (analyze.ts), one run per function for findings and rows alike.
 */
export function buildLedger(file: FileIR & { flagGroups?: Readonly<Record<string, readonly string[]>> }, config: JailcheckConfig,
  analysis?: FileAnalysis): Ledger {
  return ledgerOf((analysis ?? analyzeFile(file, config)).ledgerRows, config);
}

/** The ledger of a file from the rows of its functions. */
export function ledgerOf(rows: readonly LedgerRow[], config: JailcheckConfig): Ledger {
  const merged = mergeConditions(rows);
  return { rows: merged, findings: asymmetryFindings(merged, config.vocabulary.liveCounter) };
}

/**
 * One row per site and meaning: the same change seen under several entry
 * contracts is one row, whose condition is what all of them share
 * ("flags & PD_DEUREF" for the user-reference loop of prison_deref).
 */
function mergeConditions(rows: readonly LedgerRow[]): LedgerRow[] {
  const groups = new Map<string, LedgerRow[]>();
  for (const r of rows) {
    const id = JSON.stringify([r.range.start, r.counter, r.whose, r.transition, r.cause, r.event, r.direction, r.via ?? '']);
    const list = groups.get(id);
    if (list) list.push(r);
    else groups.set(id, [r]);
  }
  const out: LedgerRow[] = [];
  for (const list of groups.values()) {
    const sets = list.map((r) => new Set(r.condition ? r.condition.split(' & ').slice(1) : []));
    const common = [...sets[0]!].filter((b) => sets.every((s) => s.has(b)));
    const word = list[0]!.condition.split(' & ')[0];
    out.push({ ...list[0]!, condition: common.length && word ? `${word} & ${common.join(' & ')}` : '' });
  }
  return out.sort((a, b) => a.range.start - b.range.start || a.counter.localeCompare(b.counter));
}
