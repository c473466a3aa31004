/** SARIF 2.1.0, for code-scanning services and SARIF viewers. */
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Log, Result, ReportingDescriptor } from 'sarif';
import { RULES } from '../../../simulator/src/findings';
import type { ReportFinding, ReportLocation } from './report';

const LEVEL = { error: 'error', warning: 'warning', information: 'note' } as const;

/**
 * artifactLocation.uri must be a URI reference: a relative path (what
 * code-scanning services resolve against the checkout) with each segment
 * percent-encoded, so `a b#1.c` stays one file; an absolute path as a
 * file: URI.
 */
export function artifactUri(file: string): string {
  if (path.isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}

function physical(loc: ReportLocation) {
  return {
    artifactLocation: { uri: artifactUri(loc.file) },
    region: { startLine: loc.start.line, startColumn: loc.start.column, endLine: loc.end.line, endColumn: loc.end.column },
  };
}

export function toSarif(findings: readonly ReportFinding[]): Log {
  const ruleIds = Object.keys(RULES) as Array<keyof typeof RULES>;
  const rules: ReportingDescriptor[] = ruleIds.map((id) => ({
    id,
    name: RULES[id].title,
    shortDescription: { text: RULES[id].title },
    fullDescription: { text: RULES[id].help },
    defaultConfiguration: { level: LEVEL[RULES[id].severity] },
  }));
  const results: Result[] = findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: ruleIds.indexOf(f.rule),
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [{
      physicalLocation: physical(f),
      ...(f.function ? { logicalLocations: [{ name: f.function, kind: 'function' }] } : {}),
    }],
    ...(f.steps.length ? {
      codeFlows: [{
        threadFlows: [{
          locations: f.steps.map((s) => ({
            location: { physicalLocation: physical(s), message: { text: s.message } },
            ...(s.locks ? { state: { locks: { text: s.locks.join(', ') || 'nothing' } } } : {}),
          })),
        }],
      }],
    } : {}),
    ...(f.related.length ? { relatedLocations: f.related.map((r, i) => ({ id: i, physicalLocation: physical(r), message: { text: r.message } })) } : {}),
  }));
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [{ tool: { driver: { name: 'jailcheck', informationUri: 'https://example.invalid/jailcheck', version: '0.1.0', rules } }, results }],
  };
}
