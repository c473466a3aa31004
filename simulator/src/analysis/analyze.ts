/**
 * Runs the static checks over a file: one path-sensitive run per function
 * (repeated when a run learns an entry precondition or a join that blurs a
 * lock), summaries of callees on demand, and findings with the path that
 * shows each.
 */
import type { FileIR, FunctionIR, LockMode, SourceRange } from '../ir';
import type { JailcheckConfig } from '../config';
import { Finding, FindingStep, RULES, RuleId } from '../findings';
import { contextFor, FileFacts, FunctionContext } from './context';
import { Cancelled, Engine, ExitRecord, RunResult, WNode, flagParamOf, contractGroups } from './engine';
import { LedgerCollector, ledgerListens } from '../ledger/collect';
import type { LedgerRow } from '../ledger/records';
import { checkExits, entryCondition } from './exits';
import { CallEnv, Outcome, Summary, outcomeOf } from './summaries';
import { FATAL, lockName, messageText, tracksDelta, Transfer } from './transfer';

export interface FunctionAnalysis {
  readonly name: string;
  readonly findings: Finding[];
  /** Abstract paths that reach a return. */
  readonly paths: number;
  /** States before each op and terminator (engine.pointKey), for hover. */
  readonly points: Map<number, WNode[]>;
  readonly context: FunctionContext;
  readonly incomplete?: string;
  readonly exits: readonly ExitRecord[];
  /** Where paths stopped at a fatal lock error (a double acquire, a release of a lock not held): the state before it. */
  readonly cut?: readonly WNode[];
  /**
   * The function's rows of the file's reference ledger (see ledgerRun);
   * with `deferLedger`, undefined when the ledger's own run is still to be
   * made by `ledgerLater`.
   */
  readonly ledgerRows?: readonly LedgerRow[];
  readonly ledgerLater?: () => LedgerRow[];
}

const MAX_STEPS_SHOWN = 40;

export function stepsOf(ctx: FunctionContext, node: WNode, last?: FindingStep): FindingStep[] {
  const steps: FindingStep[] = [];
  for (let n: WNode | null = node; n; n = n.prev) {
    if (!n.step) continue;
    const locks = [...n.state.locks.entries()].filter(([, h]) => h.certainty === 'held').map(([k, h]) => lockName(ctx, k, h));
    steps.push({ range: n.step.range, message: messageText(n.step.message), locks });
  }
  steps.reverse();
  if (last) steps.push(last);
  return steps.length > MAX_STEPS_SHOWN ? steps.slice(steps.length - MAX_STEPS_SHOWN) : steps;
}

function finding(ctx: FunctionContext, rule: RuleId, range: SourceRange, message: string, node: WNode,
  related: Array<{ range: SourceRange; message: string }> = []): Finding {
  const locks = [...node.state.locks.entries()].filter(([, h]) => h.certainty === 'held').map(([k, h]) => lockName(ctx, k, h));
  const cond = entryCondition(ctx, node.state);
  return {
    rule, severity: RULES[rule].severity, message, function: ctx.fn.name, range,
    steps: stepsOf(ctx, node, { range, message: cond ? `here (${cond})` : 'here', locks }),
    related,
  };
}

/**
 * Locks some path of each contract released (or asserted) without taking
 * them: preconditions of the function. Contract locks are excluded; they
 * are in every entry state already.
 */
function learntPreconditions(run: RunResult, contractKeys: ReadonlySet<string>): Map<string, Map<string, LockMode>> {
  const out = new Map<string, Map<string, LockMode>>();
  for (const e of run.exits) {
    const s = e.node.state;
    const m = out.get(s.contract) ?? new Map<string, LockMode>();
    for (const [key, mode] of s.entryHeld) if (!contractKeys.has(key)) m.set(key, mode);
    out.set(s.contract, m);
  }
  return out;
}

/**
 * The ledger's own run of a function, which follows how the counters of
 * every object move (its ancestors', and those of the jails it finds or
 * creates), not only those of the objects its caller can see. The checks
 * merge paths that differ only in those; the ledger cannot: whether a
 * parent's reference is taken because the jail below rose from zero is a
 * fact about one path (the maintainer's alternative fix in the seed thread,
 * test/checks/ledger.test.ts, is judged an asymmetry on merged paths, and
 * keeping every run apart by them exceeds the state bound on the 2011
 * prison_deref()). So a function whose first run changed such a counter is
 * run once more for its rows; any other function's rows come from that run,
 * which is then the same (see ARCHITECTURE.md, "How the parts decide").
 */
function ledgerRun(ctx: FunctionContext, env: CallEnv, shouldStop?: () => boolean): LedgerRow[] {
  const collector = new LedgerCollector(ctx);
  const transfer = new Transfer(ctx, env, true);
  transfer.observer = collector.observe;
  new Engine(ctx, transfer).run({ recordPoints: false, shouldStop });
  return collector.rows;
}

/** Whether every path of each contract already started with all of its contract's preconditions. */
function uniform(run: RunResult, pre: ReadonlyMap<string, ReadonlyMap<string, LockMode>>): boolean {
  return run.exits.every((e) => [...(pre.get(e.node.state.contract)?.keys() ?? [])].every((k) => e.node.state.entryHeld.has(k)));
}

export interface AnalyzeOptions {
  readonly recordPoints?: boolean;
  /** Asked now and then during the run: true stops it with a Cancelled error (a newer edit). */
  readonly shouldStop?: () => boolean;
  /** Leave the ledger's own run, when one is needed, to `ledgerLater` (the editor publishes the checks first). */
  readonly deferLedger?: boolean;
  readonly spec?: { readonly set: readonly string[]; readonly clear: readonly string[] };
}

export function analyzeFunction(ctx: FunctionContext, env: CallEnv, options: AnalyzeOptions = {}): FunctionAnalysis & { run: RunResult } {
  const transfer = new Transfer(ctx, env);
  const engine = new Engine(ctx, transfer);
  const contractKeys = new Set(contractGroups(ctx).flat().map((g) => g.key));
  const record = options.recordPoints ?? false;
  // The pr_uref ledger listens to the first run (see ledgerRows below).
  const collector = ledgerListens(ctx) ? new LedgerCollector(ctx) : undefined;
  let untracked = false;
  transfer.observer = collector && ((op, key, before) => {
    if (!tracksDelta(key) && tracksDelta(key, true)) untracked = true;
    collector.observe(op, key, before);
  });
  let run: RunResult;
  try {
    run = engine.run({ recordPoints: record, spec: options.spec, shouldStop: options.shouldStop });
  } finally {
    transfer.observer = undefined;
  }
  const later = untracked ? () => ledgerRun(ctx, env, options.shouldStop) : undefined;
  const ledger = !collector ? { ledgerRows: [] } : !later ? { ledgerRows: collector.rows } : options.deferLedger ? { ledgerLater: later } : { ledgerRows: later() };
  let assumptions = new Map<string, Map<string, LockMode>>();
  // A precondition learnt on one path holds for every path under the same contract: run again
  // with it (bounded: three rounds; on real code the first run learns nothing, see ARCHITECTURE.md).
  for (let round = 0; round < 3; round++) {
    const learnt = learntPreconditions(run, contractKeys);
    for (const [c, m] of assumptions) for (const [k, mode] of m) if (!learnt.get(c)?.has(k)) learnt.set(c, new Map(learnt.get(c) ?? []).set(k, mode));
    if (uniform(run, learnt)) break;
    assumptions = learnt;
    run = engine.run({ recordPoints: record, spec: options.spec, assumptions, shouldStop: options.shouldStop });
  }
  // Where paths that cannot be told apart meet with a lock held on one only, everything
  // downstream would be reported twice (once per path). The lock is blurred there and the
  // function run again; the join itself is reported if later code touches that lock, and the
  // returns are judged on the unblurred run, where each path is still itself.
  const exitRun = run;
  let mismatches = run.mismatches;
  if (mismatches.length > 0) {
    const blur = new Map<number, Set<string>>();
    for (const m of mismatches) {
      const set = blur.get(m.block) ?? new Set<string>();
      set.add(m.key);
      blur.set(m.block, set);
    }
    run = engine.run({ recordPoints: record, spec: options.spec, assumptions, blur, shouldStop: options.shouldStop });
    mismatches = mismatches.filter((m) => run.touchedMaybe.has(m.key));
  }

  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (f: Finding, subject: string): void => {
    // One report per place and problem: the same decrement seen on several ancestors is one finding.
    const id = `${f.rule}@${f.range.start}:${subject}`;
    // "pr->pr_mtx (that is, pr->pr_parent->pr_mtx) is released…": the same line seen on each
    // trip of a loop that walks up the hierarchy is one problem, reported for the first trip.
    const same = `${f.rule}@${f.range.start}:${f.message.replace(/ \(that is, [^)]*\)/, '')}`;
    if (seen.has(id) || seen.has(same)) return;
    seen.add(id);
    seen.add(same);
    findings.push(f);
  };
  for (const { finding: f, node } of run.findings) add(finding(ctx, f.rule, f.range, f.message, node), f.subject);
  // One report per lock: later joins of the same two kinds of path are consequences of the first.
  // Where the paths kept apart show what goes wrong (a second acquire, a release of a lock not
  // held), that is reported instead: it says more than "paths meet here".
  const reportedLocks = new Set<string>();
  for (const m of [...mismatches].sort((a, b) => a.range.start - b.range.start)) {
    const name = lockName(ctx, m.key, m.holding.state.locks.get(m.key));
    if (reportedLocks.has(name)) continue;
    reportedLocks.add(name);
    const consequences = exitRun.findings.filter((x) => x.finding.subject === m.key
      && (x.finding.rule === 'lock-double-acquire' || x.finding.rule === 'lock-release-not-held'));
    if (consequences.length > 0) {
      for (const { finding: f, node } of consequences) add(finding(ctx, f.rule, f.range, f.message, node), f.subject);
      continue;
    }
    add({
      ...finding(ctx, 'lock-join-mismatch', m.range,
        `paths meet here with ${name} held on one and not on the other, and nothing the code can test tells them apart`, m.holding),
      related: [{ range: m.notHolding.step?.range ?? m.range, message: `on this path ${name} is not held` }],
    }, m.key);
  }
  for (const f of checkExits(ctx, exitRun.exits)) add(finding(ctx, f.rule, f.range, f.message, f.node, f.related), f.subject);
  for (const { note, node } of run.notes) {
    add({ ...finding(ctx, note.rule, note.range, note.message, node), steps: [] }, note.subject);
  }
  if (run.incomplete) {
    add({
      rule: 'analysis-incomplete', severity: 'information', function: ctx.fn.name, range: ctx.fn.nameRange,
      message: `${ctx.fn.name}() was only partly analysed: ${run.incomplete}`, steps: [], related: [],
    }, 'budget');
  }
  findings.sort((a, b) => a.range.start - b.range.start || a.rule.localeCompare(b.rule));
  return {
    name: ctx.fn.name, findings, paths: exitRun.exits.length, points: run.points, context: ctx,
    incomplete: run.incomplete ?? exitRun.incomplete, exits: exitRun.exits, run, ...ledger,
    cut: exitRun.findings.filter((x) => FATAL.has(x.finding.rule)).map((x) => x.node),
  };
}

/**
 * What the exits of a function's analysis mean to its callers. `cut`: the
 * paths that stopped at a fatal lock error. For a function that promises to
 * release the locks its flags describe, each is also an outcome that keeps
 * the promise, so that the error is reported once, in the function, and not
 * again in every caller as the locks it would have released "still held".
 */
export function summaryFromExits(ctx: FunctionContext, exits: readonly ExitRecord[], config: JailcheckConfig, cut: readonly WNode[] = []): Summary {
  const fp = flagParamOf(ctx);
  const contractBits = new Map<string, Map<string, string>>();
  for (const g of contractGroups(ctx)) for (const c of g) contractBits.set(c.bit, new Map([[c.key, c.bit]]));
  const outcomes = new Map<string, Outcome>();
  // A function that promises to release every lock its flags describe is taken at its word
  // by its callers; where it breaks the promise, that is reported in the function itself.
  const promises = config.vocabulary.releasesContractLocks.includes(ctx.fn.name);
  for (const e of exits) {
    const o = outcomeOf(e.node.state, e.ret, fp, contractBits, promises);
    outcomes.set(o.signature, o);
  }
  if (promises) {
    for (const node of cut) {
      const o = outcomeOf(node.state, { k: 'unknown' }, fp, contractBits, true);
      outcomes.set(o.signature, o);
    }
  }
  return { params: ctx.fn.params.map((p) => p.name), flagParam: fp, outcomes: [...outcomes.values()] };
}

/** The file's functions, callees before callers (so a caller finds its callees' summaries made). */
export function bottomUp(functions: readonly FunctionIR[]): FunctionIR[] {
  const byName = new Map(functions.map((f) => [f.name, f]));
  const out: FunctionIR[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (fn: FunctionIR): void => {
    if (state.has(fn.name)) return;
    state.set(fn.name, 'visiting');
    for (const b of fn.blocks) {
      for (const op of b.ops) {
        if (op.kind !== 'call') continue;
        const callee = byName.get(op.callee);
        if (callee && callee !== fn) visit(callee);
      }
    }
    state.set(fn.name, 'done');
    out.push(fn);
  };
  for (const fn of functions) visit(fn);
  return out;
}

/**
 * bottomUp(), then the functions it does not list: a second function of the
 * same name (two #ifdef sides, a copy being edited).
 */
export function withDuplicates(functions: readonly FunctionIR[]): FunctionIR[] {
  const ordered = bottomUp(functions);
  const listed = new Set(ordered);
  return [...ordered, ...functions.filter((f) => !listed.has(f))];
}

/** One function's findings (and its analysis, unless it could not be analysed). */
export function analyzeOne(fn: FunctionIR, config: JailcheckConfig, facts: FileFacts, env: CallEnv, recordPoints: boolean,
  shouldStop?: () => boolean, deferLedger = false): { analysis?: FunctionAnalysis; findings: Finding[] } {
  if (fn.problems.length > 0) {
    return {
      findings: [{
        rule: 'parse-problem', severity: 'information', function: fn.name, range: fn.nameRange,
        message: `${fn.name}() was not analysed: ${fn.problems[0]!.message}`, steps: [], related: [],
      }],
    };
  }
  try {
    const a = analyzeFunction(contextFor(fn, config, facts), env, { recordPoints, shouldStop, deferLedger });
    return { analysis: a, findings: a.findings };
  } catch (err) {
    if (err instanceof Cancelled) throw err;
    // An internal error costs one function, and says so: it is a bug in jailcheck, not in the code.
    return {
      findings: [{
        rule: 'analysis-incomplete', severity: 'information', function: fn.name, range: fn.nameRange,
        message: `${fn.name}() was not analysed: internal error in jailcheck (${err instanceof Error ? err.message : String(err)}); please report it`,
        steps: [], related: [],
      }],
    };
  }
}

export function fileFacts(file: FileIR & { flagGroups?: Readonly<Record<string, readonly string[]>> }): FileFacts {
  return {
    flagGroups: file.flagGroups ?? {},
    functions: new Set(file.functions.map((f) => f.name)),
    paramTypes: new Map(file.functions.map((f) => [f.name, f.params.map((p) => p.type)])),
  };
}
