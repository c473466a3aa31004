/**
 * Interleaving diagnostics: after an analysis, the simulator's built-in
 * scenarios run in the background for the functions that give references
 * back up the jail hierarchy (the ones `jailcheck check` simulates), within
 * `jailcheck.simulator.timeBudgetMs` in all, once the typing has paused
 * (SIMULATE_WHEN_IDLE_MS), one scenario at a time so that edits and hovers
 * are served in between; the next edit cancels what is left. Each counterexample becomes a diagnostic on the step that broke the
 * invariant, labelled "logic error (no preemption needed)" or "race (N
 * preemptions)", with its schedule (thread, step, locks) as related
 * information — the same findings `jailcheck check` prints.
 */
import { CancellationTokenSource, Diagnostic } from 'vscode-languageserver/node';
import type { SimulationReport } from '../../../simulator/src/sim/report';
import { fingerprint } from '../incremental';
import { cascadeFunctions, mergeInterleavingFindings, simulateInTurn } from '../interleavings';
import type { simulateFunction } from '../simulate';
import type { Finding } from '../../../simulator/src/findings';
import { diagnosticsOf, Positions } from './diagnostics';
import type { Settings } from './settings';
import type { AnalysedDocument } from './analysis';
import type { DiagnosticsPublisher } from './diagnostics';
import type { Logger } from './logger';
import type { StatusReporter } from './status';

/** How long a document must go unedited before its background simulation starts. */
export const SIMULATE_WHEN_IDLE_MS = 750;

/** The diagnostics of simulation reports, one per place and broken invariant (as `jailcheck check` reports them). */
export function interleavingDiagnostics(runs: ReadonlyArray<{ readonly function: string; readonly report: SimulationReport }>,
  live: string, uri: string, doc: Positions, settings: Settings): Diagnostic[] {
  return diagnosticsOf(mergeInterleavingFindings(runs, live), uri, doc, settings);
}

/** Which of a document's interleaving findings HEAD does not have; undefined when HEAD's are not known. */
export type InterleavingSinceHead = (doc: AnalysedDocument, findings: readonly Finding[]) => ReadonlySet<Finding> | undefined;

export class BackgroundSimulation {
  private readonly running = new Map<string, CancellationTokenSource>();
  /** Per document: the text and settings simulated last, and what came of it. */
  private readonly cache = new Map<string, { key: string; findings: Finding[] }>();

  constructor(
    private readonly publisher: DiagnosticsPublisher,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
    private readonly simulate: typeof simulateFunction,
    private readonly sinceHead: InterleavingSinceHead = () => undefined,
  ) {}

  /** HEAD's findings became known or changed: publish the document's interleaving diagnostics again, compared. */
  restate(doc: AnalysedDocument): void {
    const cached = this.cache.get(doc.uri);
    if (!cached || cached.key !== this.keyOf(doc) || cached.findings.length === 0) return;
    this.publisher.interleaving(doc.uri, doc.version, this.diagnostics(doc, cached.findings));
  }

  private diagnostics(doc: AnalysedDocument, findings: readonly Finding[]): Diagnostic[] {
    return diagnosticsOf(findings, doc.uri, doc.document, doc.settings, this.sinceHead(doc, findings));
  }

  private keyOf(doc: AnalysedDocument): string | undefined {
    if (!doc.result) return undefined;
    return `${fingerprint(doc.result.text)}|${JSON.stringify(doc.settings.simulator)}|${JSON.stringify(doc.settings.severity)}|${JSON.stringify(doc.config)}`;
  }

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
    const targets = cascadeFunctions(result.ledgerRows, doc.config);
    if (targets.length === 0) return;
    const key = this.keyOf(doc)!;
    const cached = this.cache.get(doc.uri);
    if (cached?.key === key) {
      if (cached.findings.length > 0) this.publisher.interleaving(doc.uri, doc.version, this.diagnostics(doc, cached.findings));
      return;
    }
    const source = new CancellationTokenSource();
    this.running.set(doc.uri, source);
    void this.run(doc, targets, key, source).finally(() => {
      if (this.running.get(doc.uri) === source) this.running.delete(doc.uri);
      source.dispose();
    });
  }

  private async run(doc: AnalysedDocument, targets: readonly string[], key: string, source: CancellationTokenSource): Promise<void> {
    const token = source.token;
    // The simulator runs in slices of the event loop that an edit cannot interrupt: wait
    // until the typing pauses, so keystrokes never queue behind it.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SIMULATE_WHEN_IDLE_MS);
      token.onCancellationRequested(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (token.isCancellationRequested) return;
    const end = this.status.begin('simulation', doc.uri);
    const result = doc.result!;
    try {
      const runs = await simulateInTurn(this.simulate, { ir: result.ir, ledgerRows: result.ledgerRows, summaries: result.summaries }, targets, doc.config, {
        budgetMs: doc.settings.simulator.timeBudgetMs, maxPreemptions: doc.settings.simulator.maxPreemptions,
        cancelled: () => token.isCancellationRequested,
      });
      if (!runs) return;
      const findings = mergeInterleavingFindings(runs, doc.config.vocabulary.liveCounter);
      this.cache.set(doc.uri, { key, findings });
      this.publisher.interleaving(doc.uri, doc.version, this.diagnostics(doc, findings));
    } catch (err) {
      this.logger.error(`background simulation of ${doc.uri} failed`, err);
    } finally {
      end();
    }
  }
}
