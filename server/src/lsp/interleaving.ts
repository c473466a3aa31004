/**
 * Interleaving diagnostics: after an analysis, the simulator's built-in
 * scenarios run in the background for each function that touches a
 * configured counter, within the simulator's time budget, and each
 * counterexample becomes a diagnostic on the step that broke the invariant,
 * labelled "logic error (no preemption needed)" or "race (N preemptions)",
 * with the schedule (thread, step, state) as related information. The next
 * edit cancels a simulation still running.
 */
import { CancellationTokenSource, Diagnostic, DiagnosticSeverity, Range } from 'vscode-languageserver/node';
import type { SimulationReport, ScheduleStep } from '../../../simulator/src/sim/report';
import type { FunctionIR } from '../../../simulator/src/ir';
import { RULES } from '../../../simulator/src/findings';
import { FREEBSD_VOCABULARY } from '../../../simulator/src/config';
import { fingerprint } from '../incremental';
import type { simulateFunction } from '../simulate';
import { oneLine, Positions, rangeOf, SOURCE } from './diagnostics';
import { severityOf, Settings } from './settings';
import type { AnalysedDocument } from './analysis';
import type { DiagnosticsPublisher } from './diagnostics';
import type { Logger } from './logger';
import type { StatusReporter } from './status';

const SEVERITY = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
} as const;

/** "logic error (no preemption needed)" for 0, "race (2 preemptions)" otherwise. */
export function preemptionLabel(preemptions: number): string {
  if (preemptions === 0) return 'logic error (no preemption needed)';
  return `race (${preemptions} preemption${preemptions === 1 ? '' : 's'})`;
}

/** The state after a step, in one line: "locks: pr->pr_mtx (T1); A.pr_uref=0, prison0.pr_uref=1". */
export function stepState(step: ScheduleStep): string {
  const locks = step.locks.length === 0 ? 'no lock held'
    : `locks: ${step.locks.map((l) => `${l.lock}${l.mode === 'shared' ? ' shared' : ''} (T${l.thread})`).join(', ')}`;
  const counters = Object.entries(step.counters).map(([k, v]) => `${k}=${v}`).join(', ');
  return counters ? `${locks}; ${counters}` : locks;
}

/**
 * One diagnostic per scenario whose counterexample breaks an invariant, on
 * the counterexample's last step (where it broke), or on `fallback` (the
 * function) when the schedule is empty. Undefined severity: the rule is off.
 */
export function counterexampleDiagnostics(report: SimulationReport, uri: string, doc: Positions, settings: Settings, fallback: Range): Diagnostic[] {
  const severity = severityOf(settings, 'interleaving-violation', RULES['interleaving-violation'].severity);
  if (!severity) return [];
  const out: Diagnostic[] = [];
  for (const scenario of report.scenarios) {
    const cx = scenario.counterexample;
    if (scenario.verdict !== 'violation' || !cx) continue;
    const last = cx.steps[cx.steps.length - 1];
    const label = cx.label || preemptionLabel(cx.preemptions);
    out.push({
      range: last ? rangeOf(doc, last.range) : fallback,
      severity: SEVERITY[severity],
      code: 'interleaving-violation',
      source: SOURCE,
      message: oneLine(`${cx.message} — ${label}, scenario "${scenario.name}"`),
      relatedInformation: cx.steps.map((s, i) => ({
        location: { uri, range: rangeOf(doc, s.range) },
        message: oneLine(`T${s.thread} step ${i + 1}: ${s.operation}${s.choice ? ` (${s.choice})` : ''} → ${stepState(s)}`),
      })),
      data: { function: report.function, scenario: scenario.name, invariant: cx.invariant, preemptions: cx.preemptions },
    });
  }
  return out;
}

/** Functions whose IR changes one of the configured counters: the ones worth simulating. */
export function touchesCounters(fn: FunctionIR, counterFields: readonly string[]): boolean {
  return fn.blocks.some((b) => b.ops.some((op) => op.kind === 'count' && counterFields.includes(op.counter)));
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.range.start.line}:${d.range.start.character}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export class BackgroundSimulation {
  private readonly running = new Map<string, CancellationTokenSource>();
  /** Per document: the text and settings simulated last, and what came of it. */
  private readonly cache = new Map<string, { key: string; diagnostics: Diagnostic[] }>();

  constructor(
    private readonly publisher: DiagnosticsPublisher,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
    private readonly simulate: typeof simulateFunction,
  ) {}

  /** An edit: the simulation of the old text is no longer wanted. */
  cancel(uri: string): void {
    this.running.get(uri)?.cancel();
    this.running.delete(uri);
  }

  closed(uri: string): void {
    this.cancel(uri);
    this.cache.delete(uri);
  }

  analysed(doc: AnalysedDocument): void {
    this.cancel(doc.uri);
    const result = doc.result;
    if (!result || !doc.settings.simulator.background) return;
    const counters = doc.settings.vocabulary.counterFields ?? FREEBSD_VOCABULARY.counterFields;
    const targets = result.ir.functions.filter((f) => f.problems.length === 0 && touchesCounters(f, counters));
    if (targets.length === 0) return;
    const key = `${fingerprint(result.text)}|${JSON.stringify(doc.settings.simulator)}|${JSON.stringify(doc.settings.severity)}`;
    const cached = this.cache.get(doc.uri);
    if (cached?.key === key) {
      if (cached.diagnostics.length > 0) this.publisher.interleaving(doc.uri, doc.version, cached.diagnostics);
      return;
    }
    const source = new CancellationTokenSource();
    this.running.set(doc.uri, source);
    void this.run(doc, targets, key, source).finally(() => {
      if (this.running.get(doc.uri) === source) this.running.delete(doc.uri);
      source.dispose();
    });
  }

  private async run(doc: AnalysedDocument, targets: readonly FunctionIR[], key: string, source: CancellationTokenSource): Promise<void> {
    const token = source.token;
    const end = this.status.begin('simulation', doc.uri);
    const found: Diagnostic[] = [];
    try {
      for (const fn of targets) {
        if (token.isCancellationRequested) return;
        const report = await this.simulate(doc.result!.ir, fn.name, {
          timeBudgetMs: doc.settings.simulator.timeBudgetMs,
          maxPreemptions: doc.settings.simulator.maxPreemptions,
          cancelled: () => token.isCancellationRequested,
        });
        found.push(...counterexampleDiagnostics(report, doc.uri, doc.document, doc.settings, rangeOf(doc.document, fn.nameRange)));
      }
      if (token.isCancellationRequested) return;
      const diagnostics = dedupe(found);
      this.cache.set(doc.uri, { key, diagnostics });
      this.publisher.interleaving(doc.uri, doc.version, diagnostics);
    } catch (err) {
      this.logger.error(`background simulation of ${doc.uri} failed`, err);
    } finally {
      end();
    }
  }
}
