/**
 * The scenarios jailcheck infers for a function: the function alone on a
 * few small worlds, under each flag combination its callers in the file
 * pass, and together with a second thread running short sequences of the
 * file's other operations on the same jail (a process attaching and
 * leaving, persist set and cleared, removal, another call of the function,
 * a hold and its release, functions that take the same locks).
 */
import type { CallEnv } from '../analysis/summaries';
import type { LedgerEvent } from '../config';
import type { LedgerRow } from '../ledger/records';
import { callText } from './harness';
import type { InvariantId } from './machine';
import type { CallSpec } from './plan';
import type { FlagCombo, Program } from './program';
import { Entries, EntryPoint, Role, synthesizeArgs, WorldRecipe } from './worlds';

export interface ScenarioSpec {
  readonly name: string;
  readonly description: string;
  readonly recipe: WorldRecipe;
  readonly threads: ReadonlyArray<{ readonly process: string; readonly calls: readonly CallSpec[] }>;
  readonly invariants?: readonly InvariantId[];
}

type Combo = FlagCombo;

const ROOT_WORLDS = {
  held: (root: string): WorldRecipe => ({ jails: [{ name: 'A', parent: root, held: true }], processes: [{ name: 'p1', jail: 'A' }] }),
  unheld: (root: string): WorldRecipe => ({ jails: [{ name: 'A', parent: root }], processes: [{ name: 'p1', jail: 'A' }] }),
  twoProcs: (root: string): WorldRecipe => ({ jails: [{ name: 'A', parent: root }], processes: [{ name: 'p1', jail: 'A' }, { name: 'p2', jail: 'A' }] }),
  twoLevels: (root: string): WorldRecipe => ({ jails: [{ name: 'A', parent: root }, { name: 'B', parent: 'A', held: true }], processes: [{ name: 'p1', jail: 'B' }] }),
};

function withProcess(r: WorldRecipe, name: string, jail: string): WorldRecipe {
  return { ...r, processes: [...r.processes, { name, jail }] };
}

function call(program: Program, entry: EntryPoint, role: Role): CallSpec | undefined {
  const args = synthesizeArgs(program, entry, role);
  return args ? { fn: entry.fn, args, text: callText(entry.fn, args, program) } : undefined;
}

/** The functions that take a lock `fn` takes (by field or global name). */
function lockNames(program: Program, fn: string): Set<string> {
  const out = new Set<string>();
  const info = program.functions.get(fn);
  for (const b of info?.fn.blocks ?? []) {
    for (const op of b.ops) {
      if (op.kind !== 'lock' || op.action !== 'acquire') continue;
      out.add(op.lock.kind === 'name' ? op.lock.name : op.lock.kind === 'field' ? op.lock.field : '');
    }
  }
  out.delete('');
  return out;
}

export function builtinScenarios(program: Program, entries: Entries, summaries: CallEnv | undefined, rows: readonly LedgerRow[],
  fnName: string): ScenarioSpec[] {
  const info = program.functions.get(fnName);
  if (!info) return [];
  const voc = program.config.vocabulary;
  const root = voc.rootObject;
  const summary = summaries?.summaryOf(fnName, []);
  const entry: EntryPoint = { fn: fnName, params: info.fn.params, flagParam: summary?.flagParam };
  const flagIndex = entry.flagParam !== undefined ? info.fn.params.findIndex((p) => p.name === entry.flagParam) : -1;
  const combos: Array<Combo | undefined> = flagIndex >= 0 ? program.flagCombos(fnName, flagIndex) : [undefined];
  if (combos.length === 0) combos.push(undefined);
  const contractBits = new Set(voc.flagContracts.map((c) => c.bit));
  // The combination the partner scenarios use: no lock promised, the most references dropped.
  const main = [...combos].sort((a, b) => {
    const locks = (c: Combo | undefined): number => (c ? c.text.split(' | ').filter((x) => contractBits.has(x)).length : 0);
    const drops = (c: Combo | undefined): number => (c ? c.text.split(' | ').length - locks(c) : 0);
    return locks(a) - locks(b) || drops(b) - drops(a);
  })[0];
  const fCall = (target: string, process: string, c: Combo | undefined): CallSpec | undefined =>
    call(program, entry, { target, process, flags: c?.value, flagText: c?.text });
  const out: ScenarioSpec[] = [];
  const comboLabel = (c: Combo | undefined): string => (c ? ` [${c.text}]` : '');
  const comboWhy = (c: Combo | undefined): string => (c ? ` with ${c.text}, as ${c.callers.map((x) => `${x}()`).join(' and ')} pass${c.callers.length === 1 ? 'es' : ''}` : '');

  const alone: Array<{ id: string; recipe: WorldRecipe; target: string; words: string }> = [
    { id: 'alone-held', recipe: ROOT_WORLDS.held(root), target: 'A', words: `jail A under ${root} with one process, p1, and one more reference held` },
    { id: 'alone', recipe: ROOT_WORLDS.unheld(root), target: 'A', words: `jail A under ${root} with one process, p1, and nothing else` },
    { id: 'alone-two-levels', recipe: ROOT_WORLDS.twoLevels(root), target: 'B', words: `${root} → A → B, process p1 in B, B held` },
  ];
  for (const c of combos) {
    for (const a of alone) {
      const f = fCall(a.target, 'p1', c);
      if (!f) continue;
      out.push({
        name: `${a.id}${comboLabel(c)}`, description: `p1 runs ${f.text} alone; ${a.words}${comboWhy(c)}`,
        recipe: a.recipe, threads: [{ process: 'p1', calls: [f] }],
      });
    }
  }

  const seq = (events: ReadonlyArray<LedgerEvent>, role: Role): CallSpec[] | undefined => {
    const calls: CallSpec[] = [];
    for (const e of events) {
      const entryPoint = entries[e];
      if (!entryPoint) return undefined;
      const c = call(program, entryPoint, { ...role, event: e });
      if (!c) return undefined;
      calls.push(c);
    }
    return calls;
  };
  const leave: LedgerEvent[] = entries.release ? ['process-exit', 'release'] : ['process-exit'];
  const partner = (id: string, words: string, recipe: WorldRecipe, target: string, second: CallSpec[] | undefined, secondProcess = 'p2'): void => {
    const f = fCall(target, 'p1', main);
    if (!f || !second) return;
    out.push({
      name: id, description: `p1 runs ${f.text} while ${secondProcess} runs ${second.map((c) => c.text).join(', then ')}; ${words}`,
      recipe, threads: [{ process: 'p1', calls: [f] }, { process: secondProcess, calls: second }],
    });
  };
  // A second process starts in the root, where it holds references of its own.
  const held = withProcess(ROOT_WORLDS.held(root), 'p2', root);
  // The process leaves whatever jail it is in by then: A if the attach succeeded, the root if not.
  const attachAndLeave = (target: string): CallSpec[] | undefined => {
    const a = seq(['attach'], { target, process: 'p2' });
    const l = seq(leave, { target: '@p2', process: 'p2' });
    return a && l ? [...a, ...l] : undefined;
  };
  partner('revival-by-attach', `jail A, held, with p1; p2 starts in ${root} (the seed thread's schedule)`, held, 'A', attachAndLeave('A'));
  // Setting persist needs no process: the second thread is the administrator's jail(8) call.
  partner('revival-by-persist', 'jail A, held, with p1; another thread sets and clears its persist flag', ROOT_WORLDS.held(root), 'A',
    seq(['persist-set', 'persist-clear'], { target: 'A', process: 'admin' }), 'admin');
  partner('revival-two-levels', `${root} → A → B, B held, p1 in B; p2 starts in ${root}`, withProcess(ROOT_WORLDS.twoLevels(root), 'p2', root), 'B',
    attachAndLeave('B'));
  partner('removal', 'jail A, held, with p1; another thread removes the jail', ROOT_WORLDS.held(root), 'A',
    seq(['remove'], { target: 'A', process: 'admin' }), 'admin');
  const again = fCall('A', 'p2', main);
  partner('two-callers', 'jail A with two processes, p1 and p2, each making the call', ROOT_WORLDS.twoProcs(root), 'A', again ? [again] : undefined);
  // The holder of A's extra reference takes one more and drops it.
  partner('hold-and-release', 'jail A, held, with p1; the holder of the other reference takes one more and drops it', ROOT_WORLDS.held(root), 'A',
    seq(['hold', 'release'], { target: 'A', process: 'holder' }), 'holder');

  // Other functions that take the same locks, called on the same jail. Functions that change
  // the counters are left to the partners above: called out of sequence they would drop
  // references nobody gave them.
  const counting = new Set(rows.map((r) => r.function));
  const mine = lockNames(program, fnName);
  const used = new Set(out.flatMap((s) => s.threads.flatMap((t) => t.calls.map((c) => c.fn))));
  let added = 0;
  for (const other of program.functions.values()) {
    // Exported functions only: a static one is reached through them (or is a callback, like a task).
    if (added >= 3 || used.has(other.fn.name) || other.fn.name === fnName || other.fn.isStatic || counting.has(other.fn.name)) continue;
    if (![...lockNames(program, other.fn.name)].some((l) => mine.has(l))) continue;
    const otherSummary = summaries?.summaryOf(other.fn.name, []);
    const e: EntryPoint = { fn: other.fn.name, params: other.fn.params, flagParam: otherSummary?.flagParam };
    const c = call(program, e, { target: 'A', process: 'p2' });
    if (!c) continue;
    // Only callers that need no lock held: the others are reached through them.
    if (otherSummary?.outcomes.some((o) => o.requires.length > 0)) continue;
    partner(`with-${other.fn.name}`, `jail A, held, with p1; ${other.fn.name}() takes the same locks`, withProcess(ROOT_WORLDS.held(root), 'p2', root), 'A', [c]);
    added++;
  }
  return out;
}
