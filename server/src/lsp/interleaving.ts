/**
 * Interleaving diagnostics: after an analysis, the simulator's built-in
 * scenarios run in the background for the functions that give references
 * back up the jail hierarchy (the ones `jailcheck check` simulates), within
 * `jailcheck.simulator.timeBudgetMs` in all, once the typing has paused
 * (SIMULATE_WHEN_IDLE_MS), in the analysis worker; the next edit cancels
 * what is left. Each counterexample becomes a diagnostic on the step that
 * broke the invariant, labelled "logic error (no preemption needed)" or
 * "race (N preemptions)", with its schedule (thread, step, locks) as related
 * information — the same findings `jailcheck check` prints.
 */
import type { Diagnostic } from 'vscode-languageserver/node';
import type { SimulationReport } from '../../../simulator/src/sim/report';
import type { Finding } from '../../../simulator/src/findings';
import { fingerprint } from '../../../simulator/src/analysis/incremental';
import { mergeInterleavingFindings } from '../interleavings';
import { diagnosticsOf, Positions } from './diagnostics';
import type { Settings } from './settings';
import type { AnalysedDocument } from './analysis';
import type { DiagnosticsPublisher } from './diagnostics';
import type { Logger } from './logger';
import type { StatusReporter } from './status';
import type { AnalysisWorkerClient } from './worker/client';
import { WorkerRequestError } from './worker/client';

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
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per document: the text and settings simulated last, and what came of it. */
  private readonly cache = new Map<string, { key: string; findings: Finding[] }>();

  constructor(
    private readonly worker: AnalysisWorkerClient,
    private readonly publisher: DiagnosticsPublisher,
    private readonly status: StatusReporter,
    private readonly logger: Logger,
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

  private keyOf(doc: AnalysedDocument): string {
    return `${fingerprint(doc.document.getText())}|${JSON.stringify(doc.settings.simulator)}|${JSON.stringify(doc.settings.severity)}|${JSON.stringify(doc.config)}`;
  }

  /** An edit: the simulation of the old text is no longer wanted (the worker stops it by itself). */
  cancel(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
  }

  closed(uri: string): void {
    this.cancel(uri);
    this.cache.delete(uri);
  }

  analysed(doc: AnalysedDocument): void {
    this.cancel(doc.uri);
    if (!doc.snapshot || !doc.complete || !doc.settings.simulator.background || doc.snapshot.cascade.length === 0) return;
    const key = this.keyOf(doc);
    const cached = this.cache.get(doc.uri);
    if (cached?.key === key) {
      if (cached.findings.length > 0) this.publisher.interleaving(doc.uri, doc.version, this.diagnostics(doc, cached.findings));
      return;
    }
    // Once the typing pauses: a simulation started on every keystroke would only be cancelled.
    this.timers.set(doc.uri, setTimeout(() => {
      this.timers.delete(doc.uri);
      void this.run(doc, key);
    }, SIMULATE_WHEN_IDLE_MS));
  }

  private async run(doc: AnalysedDocument, key: string): Promise<void> {
    const end = this.status.begin('simulation', doc.uri);
    try {
      const findings = await this.worker.background(doc.uri, doc.version, {
        timeBudgetMs: doc.settings.simulator.timeBudgetMs, maxPreemptions: doc.settings.simulator.maxPreemptions,
      });
      if (!findings) return;
      this.cache.set(doc.uri, { key, findings });
      this.publisher.interleaving(doc.uri, doc.version, this.diagnostics(doc, findings));
    } catch (err) {
      if (err instanceof WorkerRequestError && err.cancelled) return;
      this.logger.error(`background simulation of ${doc.uri} failed`, err);
    } finally {
      end();
    }
  }
}
