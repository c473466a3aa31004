/**
 * Findings as LSP diagnostics: the rule id as code, the severity the settings
 * give the rule, and the path (or the related sites) as relatedInformation,
 * one location and one line each. Every publication carries the document
 * version it describes; the interleaving diagnostics of the background
 * simulator are published with the static ones of the same version.
 */
import {
  Connection, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Range,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Finding, FindingStep, RelatedSite } from '../../../simulator/src/findings';
import type { SourceRange } from '../../../simulator/src/ir';
import { severityOf, Settings, SeveritySetting } from './settings';
import type { AnalysedDocument } from './analysis';

export const SOURCE = 'jailcheck';

const LSP_SEVERITY: Record<Exclude<SeveritySetting, 'off'>, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Anything that turns offsets into positions: a TextDocument. */
export type Positions = Pick<TextDocument, 'positionAt'>;

export function rangeOf(doc: Positions, r: SourceRange): Range {
  return { start: doc.positionAt(r.start), end: doc.positionAt(r.end) };
}

/** Diagnostics messages and related lines are one line each. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** "pr->pr_mtx released [held: allprison_lock]" (a schedule's steps name their thread in the message). */
export function stepLine(step: FindingStep): string {
  const held = step.locks ? ` [held: ${step.locks.length > 0 ? step.locks.join(', ') : 'nothing'}]` : '';
  return oneLine(`${step.message}${held}`);
}

export function findingToDiagnostic(finding: Finding, uri: string, doc: Positions, settings: Settings): Diagnostic | undefined {
  const severity = severityOf(settings, finding.rule, finding.severity);
  if (!severity) return undefined;
  const related: DiagnosticRelatedInformation[] = [
    ...finding.steps.map((s) => ({ location: { uri, range: rangeOf(doc, s.range) }, message: stepLine(s) })),
    ...finding.related.map((r: RelatedSite) => ({ location: { uri, range: rangeOf(doc, r.range) }, message: oneLine(r.message) })),
  ];
  return {
    range: rangeOf(doc, finding.range),
    severity: LSP_SEVERITY[severity],
    code: finding.rule,
    source: SOURCE,
    message: oneLine(finding.message),
    ...(related.length > 0 ? { relatedInformation: related } : {}),
    data: { function: finding.function },
  };
}

/** Appended to the message of a finding that the file's HEAD version does not have. */
export const NEW_SINCE_HEAD = ' (new since HEAD)';

/** The diagnostic of `f`, saying whether HEAD has the finding (when HEAD's findings are known). */
export function markedSinceHead(d: Diagnostic, f: Finding, newSinceHead: ReadonlySet<Finding> | undefined): Diagnostic {
  if (!newSinceHead || f.rule === 'parse-problem') return d;
  const isNew = newSinceHead.has(f);
  return { ...d, message: isNew ? d.message + NEW_SINCE_HEAD : d.message, data: { ...(d.data as object), sinceHead: isNew ? 'new' : 'head' } };
}

/**
 * The static checks' diagnostics of an analysed document. With `newSinceHead`
 * (the file is in git and HEAD's version was analysed), each says whether
 * HEAD has it: `data.sinceHead` is "new" or "head", and new ones say so.
 */
export function staticDiagnostics(doc: AnalysedDocument, newSinceHead?: ReadonlySet<Finding>): Diagnostic[] {
  if (doc.skipped) {
    return [{
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Information, code: 'parse-problem', source: SOURCE, message: doc.skipped,
    }];
  }
  return diagnosticsOf(doc.snapshot?.findings ?? [], doc.uri, doc.document, doc.settings, newSinceHead);
}

/** Findings as diagnostics (those of rules turned off left out), marked against HEAD when its findings are known. */
export function diagnosticsOf(findings: readonly Finding[], uri: string, doc: Positions, settings: Settings, newSinceHead?: ReadonlySet<Finding>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of findings) {
    const d = findingToDiagnostic(f, uri, doc, settings);
    if (d) out.push(markedSinceHead(d, f, newSinceHead));
  }
  return out;
}

interface Published {
  version: number;
  static: Diagnostic[];
  interleaving: Diagnostic[];
}

export class DiagnosticsPublisher {
  private readonly byUri = new Map<string, Published>();

  constructor(private readonly connection: Connection) {}

  /** A new analysis: its findings replace everything published for older versions. */
  analysed(doc: AnalysedDocument, newSinceHead?: ReadonlySet<Finding>): void {
    const p: Published = { version: doc.version, static: staticDiagnostics(doc, newSinceHead), interleaving: [] };
    this.byUri.set(doc.uri, p);
    this.send(doc.uri, p);
  }

  /** The same analysis, its findings now compared with HEAD: the interleaving diagnostics stay. */
  restated(doc: AnalysedDocument, newSinceHead?: ReadonlySet<Finding>): void {
    const p = this.byUri.get(doc.uri);
    if (!p || p.version !== doc.version) return;
    p.static = staticDiagnostics(doc, newSinceHead);
    this.send(doc.uri, p);
  }

  /** The background simulator's diagnostics for a version already published. */
  interleaving(uri: string, version: number, diagnostics: Diagnostic[]): void {
    const p = this.byUri.get(uri);
    if (!p || p.version !== version) return;
    // Nothing new to say: no second publication of the same diagnostics.
    if (p.interleaving.length === 0 && diagnostics.length === 0) return;
    p.interleaving = diagnostics;
    this.send(uri, p);
  }

  closed(uri: string): void {
    this.byUri.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  private send(uri: string, p: Published): void {
    void this.connection.sendDiagnostics({ uri, version: p.version, diagnostics: [...p.static, ...p.interleaving] });
  }
}
