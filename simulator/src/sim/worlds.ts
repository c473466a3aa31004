/**
 * Building the world a scenario starts from. A violation found from counts
 * no sequence of the file's own operations can produce would be a false
 * alarm, so a world is *built*: from the boot state (the root prison as the
 * file initializes it, the processes born in it) by running the file's own
 * functions, one call at a time, on a single thread: fork and hold the
 * processes into the root, create each jail, attach processes, set persist,
 * let the creator drop its reference. Only when the file has no function
 * that can do a step is the world *stated*, with the counts the reference
 * discipline implies, and the setup says so.
 */
import type { CallEnv } from '../analysis/summaries';
import type { LedgerEvent } from '../config';
import type { Expr, Variable } from '../ir';
import type { LedgerRow } from '../ledger/records';
import { callText, planCall } from './harness';
import { Machine } from './machine';
import type { ArgSpec, CallSpec } from './plan';
import type { Program } from './program';
import { int, SVal, UNKNOWN, ZERO } from './values';
import { World } from './world';

/** FreeBSD's process structures, as far as kern_jail.c follows them: td → proc → ucred → prison. */
const PROCESS = { tdProc: 'td_proc', tdCred: 'td_ucred', procCred: 'p_ucred', credPrison: 'cr_prison' } as const;
/** The field holding a jail's ID (what jail_attach() and friends take). */
export const ID_FIELD = 'pr_id';

export interface JailRecipe {
  readonly name: string;
  readonly parent: string;
  readonly persist?: boolean;
  /** Whether something besides its processes holds a structure reference (the creator keeps its own). */
  readonly held?: boolean;
}

export interface WorldRecipe {
  readonly jails: readonly JailRecipe[];
  /** Processes and the jail each lives in (the root for none). */
  readonly processes: ReadonlyArray<{ readonly name: string; readonly jail: string }>;
  /** For user scenarios: counts stated outright instead of built. */
  readonly stated?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface BuiltWorld {
  readonly world: World;
  /** How it was built, one line per operation. */
  readonly setup: readonly string[];
  readonly how: 'built' | 'stated';
}

export interface EntryPoint {
  readonly fn: string;
  readonly params: readonly Variable[];
  readonly flagParam?: string;
}

export type Entries = Partial<Record<LedgerEvent, EntryPoint>>;

export interface Role {
  /** The jail the call is about (for a creation: the parent). */
  readonly target: string;
  readonly process?: string;
  readonly event?: LedgerEvent;
  readonly flags?: number;
  readonly flagText?: string;
  /** For a creation: whether the new jail persists. */
  readonly persist?: boolean;
}

/** The arguments for a call of `fn` in a role; undefined when a parameter cannot be made up (a `struct uio *`). */
export function synthesizeArgs(program: Program, entry: EntryPoint, role: Role): ArgSpec[] | undefined {
  const voc = program.config.vocabulary;
  const out: ArgSpec[] = [];
  for (const p of entry.params) {
    const t = p.type;
    const named = (re: RegExp): boolean => re.test(p.name);
    let a: ArgSpec | undefined;
    if (t.struct === voc.objectStruct && t.pointer === 2) a = { k: 'out' };
    else if (t.struct === voc.objectStruct && t.pointer === 1) a = { k: 'obj', name: role.target };
    else if (t.struct === 'thread' && t.pointer === 1) a = { k: 'td', process: role.process };
    else if (t.struct === 'proc' && t.pointer === 1) a = { k: 'proc', process: role.process };
    else if (t.struct === 'ucred' && t.pointer === 1) a = { k: 'cred', process: role.process };
    else if (t.pointer === 1 && /\bvoid\b/.test(t.text)) a = { k: 'obj', name: role.target };
    else if (t.pointer >= 1 && /\bchar\b/.test(t.text)) a = { k: 'str' };
    else if (t.pointer === 0 && !t.struct) {
      if (p.name === entry.flagParam) {
        // Unless the role says, the flags the file's own callers pass (the first one met).
        const combo = role.flags === undefined ? program.flagCombos(entry.fn, entry.params.indexOf(p))[0] : undefined;
        a = { k: 'int', v: role.flags ?? combo?.value ?? 0, text: role.flags !== undefined ? role.flagText : combo?.text };
      }
      else if (named(/^(jid|prid|id)$|jid$/)) a = { k: 'field', name: role.target, field: ID_FIELD };
      else if (named(/persist/)) a = { k: 'int', v: role.event === 'persist-set' || (role.event === 'create' && role.persist) ? 1 : 0 };
      else a = { k: 'int', v: 0 };
    }
    if (!a) return undefined;
    out.push(a);
  }
  return out;
}

/**
 * For each event of the ledger, the function a scenario calls to make it
 * happen: among the functions whose ledger rows have that event, one whose
 * parameters can be made up, preferring the one that needs no lock held
 * (a system call such as jail_attach() over do_jail_attach()).
 */
export function findEntries(program: Program, rows: readonly LedgerRow[], summaries: CallEnv | undefined): Entries {
  const byEvent = new Map<LedgerEvent, Set<string>>();
  for (const r of rows) {
    if (r.event === 'create' && r.whose.kind !== 'ancestor' && !rows.some((x) => x.function === r.function && x.event === 'create' && x.whose.kind === 'ancestor')) continue;
    const set = byEvent.get(r.event) ?? new Set<string>();
    set.add(r.function);
    byEvent.set(r.event, set);
  }
  const out: Entries = {};
  for (const [event, fns] of byEvent) {
    let best: { entry: EntryPoint; score: number[] } | undefined;
    for (const name of fns) {
      const info = program.functions.get(name);
      if (!info) continue;
      const summary = summaries?.summaryOf(name, []);
      const entry: EntryPoint = { fn: name, params: info.fn.params, flagParam: summary?.flagParam };
      const args = synthesizeArgs(program, entry, { target: 'X', event });
      if (!args) continue;
      // Functions with a flags word take part in many events; prefer the ones made for this one.
      const needs = planCall(program, summaries, { fn: name, args, text: name }).needs.length;
      const score = [entry.flagParam ? 1 : 0, needs, info.fn.isStatic ? 1 : 0, info.fn.params.length];
      if (!best || compare(score, best.score) < 0) best = { entry, score };
    }
    if (best) out[event] = best.entry;
  }
  return out;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function constantValue(e: Expr | undefined, program: Program, world: World): SVal {
  if (!e) return ZERO;
  switch (e.kind) {
    case 'num': return int(e.value);
    case 'str': return { k: 'gref', g: '"string"' };
    case 'name': {
      const c = program.constants.get(e.name);
      if (c !== undefined) return int(c);
      const id = world.names.get(e.name);
      return id !== undefined ? { k: 'ptr', o: id } : ZERO;
    }
    case 'unary': {
      const v = constantValue(e.operand, program, world);
      return v.k !== 'int' ? UNKNOWN : int(e.op === '-' ? -v.v : e.op === '~' ? ~v.v : v.v === 0 ? 1 : 0);
    }
    case 'binary': {
      const l = constantValue(e.left, program, world);
      const r = constantValue(e.right, program, world);
      if (l.k !== 'int' || r.k !== 'int') return ZERO;
      switch (e.op) {
        case '|': return int(l.v | r.v);
        case '&': return int(l.v & r.v);
        case '+': return int(l.v + r.v);
        case '-': return int(l.v - r.v);
        case '<<': return int(l.v << r.v);
        default: return ZERO;
      }
    }
    default:
      // Anything the initializer says that is not a constant (a list head initializer): zero, as static storage.
      return ZERO;
  }
}

/** The boot state: the file's initialized globals, and the processes with their thread and credential. */
export function bootWorld(program: Program, processes: readonly string[]): World {
  const w = new World();
  const voc = program.config.vocabulary;
  let id = 1;
  const globals = program.file.globals ?? {};
  for (const [name, g] of Object.entries(globals)) {
    if (!g.fields) continue;
    const isPrison = name === voc.rootObject || voc.counterFields.some((c) => c in g.fields!);
    w.addObject(id++, isPrison ? 'prison' : 'object', name);
  }
  if (!w.names.has(voc.rootObject)) w.addObject(id++, 'prison', voc.rootObject, { [voc.counterFields[0] ?? 'pr_ref']: int(1), [voc.liveCounter]: int(1) });
  for (const [name, g] of Object.entries(globals)) {
    const o = w.named(name);
    if (g.fields && o) for (const [f, e] of Object.entries(g.fields)) o.fields.set(f, constantValue(e, program, w));
    else if (g.value) w.globals.set(name, constantValue(g.value, program, w));
  }
  const root = w.names.get(voc.rootObject)!;
  for (const p of processes) {
    const cred = w.addObject(id++, 'ucred', `${p}'s cred`, { [PROCESS.credPrison]: { k: 'ptr', o: root } });
    const proc = w.addObject(id++, 'proc', p, { [PROCESS.procCred]: { k: 'ptr', o: cred.id } });
    const td = w.addObject(id++, 'thread', `${p}'s thread`, { [PROCESS.tdProc]: { k: 'ptr', o: proc.id }, [PROCESS.tdCred]: { k: 'ptr', o: cred.id } });
    w.names.set(`${p}.td`, td.id);
    w.names.set(`${p}.proc`, proc.id);
    w.names.set(`${p}.cred`, cred.id);
  }
  return w;
}

function entryCall(program: Program, entry: EntryPoint, role: Role): CallSpec | undefined {
  const args = synthesizeArgs(program, entry, role);
  return args ? { fn: entry.fn, args, text: callText(entry.fn, args, program) } : undefined;
}

/** Builds the recipe's world by running the file's own operations; states it when they are missing. */
export function buildWorld(program: Program, entries: Entries, summaries: CallEnv | undefined, recipe: WorldRecipe): BuiltWorld | { error: string } {
  if (recipe.stated) return statedWorld(program, recipe, 'the scenario states its counts');
  const voc = program.config.vocabulary;
  const root = voc.rootObject;
  const w = bootWorld(program, recipe.processes.map((p) => p.name));
  const missing = (['create', 'attach'] as const).filter((e) => !entries[e]);
  if (recipe.jails.some((j) => j.persist) && !entries['persist-set']) missing.push('persist-set' as never);
  if (missing.length > 0) {
    return statedWorld(program, recipe, `no function of the file can ${missing.map((m) => m === 'create' ? 'create a jail' : m === 'attach' ? 'attach a process' : 'set persist').join(' or ')} on its own`);
  }
  const calls: CallSpec[] = [];
  const lines: string[] = [];
  const push = (event: LedgerEvent, role: Role, creates?: { name: string; parent: string }): boolean => {
    const e = entries[event];
    if (!e) return false;
    const c = entryCall(program, e, { ...role, event });
    if (!c) return false;
    calls.push(creates ? { ...c, creates } : c);
    return true;
  };
  // Processes are born in the root: each holds a user and a structure reference there.
  for (const p of recipe.processes) {
    push('fork', { target: root, process: p.name });
    push('hold', { target: root, process: p.name });
  }
  // As jail(8) does: create persistent, attach the processes, then clear persist where the
  // recipe says so (a file whose attach refuses a jail without user references still gets its world).
  const canPersist = Boolean(entries['persist-set'] && entries['persist-clear']) || Boolean(entries.create?.params.some((p) => /persist/.test(p.name)));
  const persistFirst = (j: JailRecipe): boolean => Boolean(j.persist) || (canPersist && Boolean(entries['persist-clear']));
  const createPersists = Boolean(entries.create?.params.some((p) => /persist/.test(p.name)));
  for (const j of recipe.jails) {
    push('create', { target: j.parent, persist: persistFirst(j) && createPersists }, { name: j.name, parent: j.parent });
    if (persistFirst(j) && !createPersists) push('persist-set', { target: j.name });
  }
  for (const p of recipe.processes) if (p.jail !== root) push('attach', { target: p.jail, process: p.name });
  for (const j of recipe.jails) if (persistFirst(j) && !j.persist) push('persist-clear', { target: j.name });
  for (const j of recipe.jails) if (!j.held) push('release', { target: j.name });
  const planned = calls.map((c) => planCall(program, summaries, c));
  const m = new Machine(program, w, [{ process: '', calls: planned }], { setup: true, maxSteps: 200_000 });
  for (const t of m.threads) {
    while (!m.stopped() && !m.done(t)) m.step(t);
  }
  const problem = m.violations()[0];
  if (problem || m.cut) return statedWorld(program, recipe, `building it with the file's functions failed: ${problem ? problem.message : m.cut}`);
  for (const j of recipe.jails) {
    if (!m.world.names.has(j.name) || m.world.named(j.name)!.freed) {
      const how = calls.find((c) => c.creates?.name === j.name)?.text ?? 'the creation';
      return statedWorld(program, recipe, `${how.replace(/"…"/, `"${j.name}"`)} did not create ${j.name} (it refuses for a reason the file sets elsewhere)`);
    }
  }
  for (const p of recipe.processes) {
    const cred = m.world.named(`${p.name}.cred`);
    const at = cred?.fields.get(PROCESS.credPrison);
    if (at?.k !== 'ptr' || at.o !== m.world.names.get(p.jail)) {
      return statedWorld(program, recipe, `${entries.attach?.fn ?? 'the attach'}() did not put ${p.name} in ${p.jail}`);
    }
  }
  for (const c of calls) {
    const who = c.args.find((a) => a.k === 'td' || a.k === 'proc' || a.k === 'cred') as { process?: string } | undefined;
    lines.push(`${c.text.replace(/\(td\b/, `(${who?.process ? `${who.process}'s td` : 'td'}`).replace(/"…"/, c.creates ? `"${c.creates.name}"` : '"…"')}${c.creates ? ` → ${c.creates.name}` : ''}`);
  }
  lines.push(`then: ${countsLine(m.world, program)}`);
  return { world: m.world, setup: lines, how: 'built' };
}

function countsLine(w: World, program: Program): string {
  const parts: string[] = [];
  for (const o of w.objects.values()) {
    if (o.kind !== 'prison' || !o.name || o.freed) continue;
    parts.push(`${o.name} ${program.config.vocabulary.counterFields.map((c) => `${c}=${(o.fields.get(c) as { v?: number } | undefined)?.v ?? 0}`).join(' ')}`);
  }
  return parts.join('; ');
}

/**
 * A world stated outright: each jail holds one reference of each kind on its
 * parent, each process one of each on its jail, the persist flag one of each
 * on the jail itself, and a held jail one more structure reference.
 */
function statedWorld(program: Program, recipe: WorldRecipe, why: string): BuiltWorld | { error: string } {
  const voc = program.config.vocabulary;
  const [refField, ...rest] = voc.counterFields;
  const live = voc.liveCounter;
  const structural = refField === live ? rest[0] : refField;
  const w = bootWorld(program, recipe.processes.map((p) => p.name));
  const root = w.named(voc.rootObject)!;
  let id = 1000;
  for (const j of recipe.jails) {
    const parent = w.named(j.parent);
    if (!parent) return { error: `jail ${j.name}: its parent ${j.parent} is not in the world` };
    const o = w.addObject(id++, 'prison', j.name, { [ID_FIELD]: int(id - 1000), [voc.parentField]: { k: 'ptr', o: parent.id } });
    const kids = w.lists.get(`${parent.id}.pr_children`) ?? [];
    kids.push(o.id);
    w.lists.set(`${parent.id}.pr_children`, kids);
    o.links.set('pr_sibling', `${parent.id}.pr_children`);
    const all = w.lists.get('g:allprison') ?? [];
    all.push(o.id);
    w.lists.set('g:allprison', all);
    o.links.set('pr_list', 'g:allprison');
  }
  const add = (name: string, field: string | undefined, n: number): void => {
    const o = w.named(name);
    if (!o || !field) return;
    const v = o.fields.get(field);
    o.fields.set(field, int((v?.k === 'int' ? v.v : 0) + n));
  };
  for (const j of recipe.jails) {
    add(j.parent, structural, 1);
    add(j.parent, live, 1);
    if (j.held) add(j.name, structural, 1);
    if (j.persist) {
      add(j.name, structural, 1);
      add(j.name, live, 1);
      const o = w.named(j.name)!;
      o.fields.set('pr_flags', int(program.constants.get(voc.persistFlag) ?? 0));
    }
  }
  for (const p of recipe.processes) {
    add(p.jail, structural, 1);
    add(p.jail, live, 1);
    const cred = w.named(`${p.name}.cred`);
    const jail = w.names.get(p.jail);
    if (cred && jail !== undefined) cred.fields.set('cr_prison', { k: 'ptr', o: jail });
  }
  for (const [name, counts] of Object.entries(recipe.stated ?? {})) {
    const o = w.named(name);
    if (!o) return { error: `the stated counts name ${name}, which is not a jail of the world` };
    for (const [f, v] of Object.entries(counts)) o.fields.set(f, int(v));
  }
  void root;
  return { world: w, setup: [`${countsLine(w, program)} (stated: ${why})`], how: 'stated' };
}
