/**
 * The `jailcheck.*` settings: their shape, their defaults, how a raw value
 * from a client (initializationOptions, `workspace/configuration`,
 * `didChangeConfiguration`) is read, and what workspace trust takes away.
 * Settings are resolved per document (VS Code scopes analysis settings to a
 * resource), never kept in globals.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { ParserPreference } from '../parsing/parser';
import { DEFAULT_BOUNDS, JailcheckConfig, resolveConfig, Bounds, Vocabulary } from '../../../simulator/src/config';
import { RULES, RuleId, Severity } from '../../../simulator/src/findings';
import { UntrustedBaseline } from './protocol';
import type { Logger } from './logger';

export type SeveritySetting = Severity | 'hint' | 'off';

export interface SimulatorSettings {
  /** Run the built-in scenarios in the background when typing pauses. */
  readonly background: boolean;
  /** Milliseconds for a simulation: the function's (a command), or the file's functions' together (the background). */
  readonly timeBudgetMs: number;
  readonly maxPreemptions: number;
}

export interface Settings {
  /** Milliseconds between the last edit and the analysis; 0 analyses at once. */
  readonly debounceMs: number;
  readonly parser: ParserPreference;
  readonly vocabulary: Partial<Vocabulary>;
  readonly bounds: Bounds;
  readonly simulator: SimulatorSettings;
  readonly severity: Readonly<Partial<Record<RuleId, SeveritySetting>>>;
  /** In a git checkout, tell findings new since HEAD from those HEAD already has. */
  readonly compareWithHead: boolean;
  /** False in an untrusted workspace (the client then sends the untrusted baseline): nothing is run, not even git. */
  readonly trusted: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  debounceMs: 150,
  parser: 'auto',
  vocabulary: {},
  bounds: DEFAULT_BOUNDS,
  simulator: { background: true, timeBudgetMs: 2000, maxPreemptions: 2 },
  severity: {},
  compareWithHead: true,
  trusted: true,
};

const SEVERITIES: readonly SeveritySetting[] = ['error', 'warning', 'information', 'hint', 'off'];

type Raw = Record<string, unknown>;

function isRecord(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads a raw `jailcheck` section over `base`. Anything malformed is left at
 * the base value and reported through `problem` (one line naming the setting),
 * so one bad value never stops the analysis.
 */
export function readSettings(raw: unknown, base: Settings = DEFAULT_SETTINGS, problem: (message: string) => void = () => {}): Settings {
  if (raw === undefined || raw === null) return base;
  if (!isRecord(raw)) {
    problem('jailcheck settings: expected an object; using the defaults');
    return base;
  }
  const int = (value: unknown, name: string, fallback: number, min: number): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      problem(`jailcheck.${name}: expected a number ≥ ${min}, got ${JSON.stringify(value)}; using ${fallback}`);
      return fallback;
    }
    return Math.floor(value);
  };
  const bounds = isRecord(raw.bounds) ? raw.bounds : {};
  const sim = isRecord(raw.simulator) ? raw.simulator : {};
  let parser = base.parser;
  if (raw.parser !== undefined) {
    if (raw.parser === 'auto' || raw.parser === 'native' || raw.parser === 'wasm') parser = raw.parser;
    else problem(`jailcheck.parser: expected auto, native or wasm, got ${JSON.stringify(raw.parser)}`);
  }
  const severity: Partial<Record<RuleId, SeveritySetting>> = { ...base.severity };
  if (isRecord(raw.severity)) {
    for (const [rule, value] of Object.entries(raw.severity)) {
      if (!(rule in RULES)) problem(`jailcheck.severity: no rule named ${rule}`);
      else if (!SEVERITIES.includes(value as SeveritySetting)) problem(`jailcheck.severity.${rule}: expected one of ${SEVERITIES.join(', ')}`);
      else severity[rule as RuleId] = value as SeveritySetting;
    }
  }
  let vocabulary = base.vocabulary;
  if (raw.vocabulary !== undefined && raw.vocabulary !== null) {
    if (isRecord(raw.vocabulary)) vocabulary = raw.vocabulary as Partial<Vocabulary>;
    else problem('jailcheck.vocabulary: expected an object');
  }
  return {
    debounceMs: int(raw.debounceMs, 'debounceMs', base.debounceMs, 0),
    parser,
    vocabulary,
    bounds: {
      ancestorDepth: int(bounds.ancestorDepth, 'bounds.ancestorDepth', base.bounds.ancestorDepth, 1),
      maxStatesPerPoint: int(bounds.maxStatesPerPoint, 'bounds.maxStatesPerPoint', base.bounds.maxStatesPerPoint, 1),
      maxSteps: int(bounds.maxSteps, 'bounds.maxSteps', base.bounds.maxSteps, 1),
      counterLimit: int(bounds.counterLimit, 'bounds.counterLimit', base.bounds.counterLimit, 1),
    },
    simulator: {
      background: typeof sim.background === 'boolean' ? sim.background : base.simulator.background,
      timeBudgetMs: int(sim.timeBudgetMs, 'simulator.timeBudgetMs', base.simulator.timeBudgetMs, 1),
      maxPreemptions: int(sim.maxPreemptions, 'simulator.maxPreemptions', base.simulator.maxPreemptions, 0),
    },
    severity,
    compareWithHead: typeof raw.compareWithHead === 'boolean' ? raw.compareWithHead : base.compareWithHead,
    // Only initializationOptions carry it (the VS Code client sends workspace.isTrusted); once
    // false it stays false for every answer read over these settings.
    trusted: base.trusted && raw.trusted !== false,
  };
}

function budgetOf(s: Settings, key: UntrustedBaseline.BudgetSetting): number {
  const [group, name] = key.split('.') as [string, string];
  return ((s as unknown as Record<string, Record<string, number>>)[group]!)[name]!;
}

function withBudget(s: Settings, key: UntrustedBaseline.BudgetSetting, value: number): Settings {
  const [group, name] = key.split('.') as ['bounds' | 'simulator', string];
  return { ...s, [group]: { ...s[group], [name]: value } };
}

/**
 * Workspace trust: a budget wider than the user-level value (the baseline the
 * client sends for an untrusted workspace) falls back to that value.
 */
export function applyTrust(s: Settings, baseline: UntrustedBaseline.Values | undefined): Settings {
  if (!baseline) return s;
  let out: Settings = { ...s, trusted: false };
  for (const key of UntrustedBaseline.budgetSettings) {
    const limit = baseline[key];
    if (typeof limit === 'number' && budgetOf(out, key) > limit) out = withBudget(out, key, limit);
  }
  return out;
}

/** The analysis configuration the settings describe. */
export function configOf(s: Settings): JailcheckConfig {
  return resolveConfig({ vocabulary: s.vocabulary, bounds: s.bounds });
}

/** The severity a finding of `rule` is shown with, or undefined when the user turned the rule off. */
export function severityOf(s: Settings, rule: RuleId, own: Severity): Exclude<SeveritySetting, 'off'> | undefined {
  const chosen = s.severity[rule];
  if (chosen === 'off') return undefined;
  return chosen ?? own;
}

/**
 * Where settings come from for one server: initializationOptions first, then
 * the client's answers to `workspace/configuration` (per document) when it
 * can answer, else what `didChangeConfiguration` pushed.
 */
export class SettingsStore {
  private initial: Settings = DEFAULT_SETTINGS;
  private pushed?: unknown;
  private pullSupported = false;
  private readonly perUri = new Map<string, Promise<Settings>>();
  private readonly reported = new Set<string>();

  constructor(private readonly connection: Connection, private readonly logger: Logger) {}

  initialize(initializationOptions: unknown, pullSupported: boolean): Settings {
    this.initial = this.read(initializationOptions, DEFAULT_SETTINGS);
    this.pullSupported = pullSupported;
    return this.initial;
  }

  /** The settings at server start (the parser is chosen from these). */
  get startup(): Settings {
    return this.initial;
  }

  /** Forgets cached answers; `settings` is what the client pushed, if anything. */
  changed(settings: unknown): void {
    this.perUri.clear();
    if (isRecord(settings) && settings.jailcheck !== undefined) this.pushed = settings.jailcheck;
  }

  forget(uri: string): void {
    this.perUri.delete(uri);
  }

  get(uri: string): Promise<Settings> {
    let p = this.perUri.get(uri);
    if (!p) {
      p = this.fetch(uri);
      this.perUri.set(uri, p);
    }
    return p;
  }

  private async fetch(uri: string): Promise<Settings> {
    if (!this.pullSupported) return this.read(this.pushed, this.initial);
    try {
      const [raw] = await this.connection.workspace.getConfiguration([{ scopeUri: uri, section: 'jailcheck' }]) as unknown[];
      return this.read(raw, this.initial);
    } catch (err) {
      this.logger.warn(`could not read the jailcheck settings for ${uri} (${err instanceof Error ? err.message : String(err)}); using the defaults`);
      return this.initial;
    }
  }

  private read(raw: unknown, base: Settings): Settings {
    const s = readSettings(raw, base, (m) => this.reportOnce(m));
    const baseline = isRecord(raw) && isRecord(raw[UntrustedBaseline.key]) ? raw[UntrustedBaseline.key] as UntrustedBaseline.Values : undefined;
    return applyTrust(s, baseline);
  }

  private reportOnce(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.logger.warn(message);
  }
}
