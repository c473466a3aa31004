/**
 * Scenarios the user writes (schemas/scenario.schema.json): read, checked
 * against the file, and turned into the simulator's own scenario form.
 * Every mistake is reported by name (a function the file lacks, an unknown
 * flag, field, jail or invariant), never as a crash.
 */
import type { InvariantId } from './machine';
import { INVARIANTS } from './machine';
import type { ArgSpec, CallSpec } from './plan';
import type { Program } from './program';
import type { ScenarioSpec } from './scenarios';
import type { WorldRecipe } from './worlds';

export class ScenarioError extends Error {}

interface RawScenario {
  name?: unknown;
  description?: unknown;
  world?: { jails?: unknown; processes?: unknown; counts?: unknown };
  threads?: unknown;
  invariants?: unknown;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses the text of a scenario file (one scenario, or `{ "scenarios": [...] }`). */
export function readScenarios(text: string, program: Program): ScenarioSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`the scenario file is not JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError('the scenario file must hold an object');
  const list = 'scenarios' in raw ? (raw as { scenarios: unknown }).scenarios : [raw];
  if (!Array.isArray(list) || list.length === 0) throw new ScenarioError('"scenarios" must be a non-empty list');
  return list.map((s, i) => scenario(s as RawScenario, i, program));
}

function scenario(s: RawScenario, index: number, program: Program): ScenarioSpec {
  const voc = program.config.vocabulary;
  const name = typeof s.name === 'string' && s.name ? s.name : undefined;
  const where = name ? `scenario "${name}"` : `scenario ${index + 1}`;
  const fail = (msg: string): never => { throw new ScenarioError(`${where}: ${msg}`); };
  if (!name) fail('it has no "name"');
  const jails: Array<{ name: string; parent: string; persist?: boolean; held?: boolean }> = [];
  const known = new Set<string>([voc.rootObject]);
  for (const [i, j] of asList(s.world?.jails, `${where}: "world.jails"`).entries()) {
    const o = j as Record<string, unknown>;
    const jn = o.name;
    const parent = o.parent ?? voc.rootObject;
    if (typeof jn !== 'string' || !NAME.test(jn)) fail(`jail ${i + 1} has no valid "name"`);
    if (typeof parent !== 'string' || !known.has(parent)) fail(`jail ${String(jn)}: its parent ${String(parent)} is not prison0 or a jail listed before it`);
    if (known.has(jn as string)) fail(`jail ${String(jn)} is listed twice`);
    known.add(jn as string);
    jails.push({ name: jn as string, parent: parent as string, persist: o.persist === true, held: o.held === true });
  }
  const processes: Array<{ name: string; jail: string }> = [];
  for (const [i, p] of asList(s.world?.processes, `${where}: "world.processes"`).entries()) {
    const o = p as Record<string, unknown>;
    const jail = o.jail ?? voc.rootObject;
    if (typeof o.name !== 'string' || !NAME.test(o.name)) fail(`process ${i + 1} has no valid "name"`);
    if (typeof jail !== 'string' || !known.has(jail)) fail(`process ${String(o.name)}: jail ${String(jail)} is not in the world`);
    processes.push({ name: o.name as string, jail: jail as string });
  }
  let stated: Record<string, Record<string, number>> | undefined;
  if (s.world?.counts !== undefined) {
    stated = {};
    if (typeof s.world.counts !== 'object' || s.world.counts === null) fail('"world.counts" must be an object');
    for (const [jail, counts] of Object.entries(s.world.counts as Record<string, unknown>)) {
      if (!known.has(jail)) fail(`"world.counts" names ${jail}, which is not a jail of the world`);
      const c: Record<string, number> = {};
      for (const [field, v] of Object.entries(counts as Record<string, unknown>)) {
        if (!voc.counterFields.includes(field)) fail(`"world.counts.${jail}" names the field ${field}, which is not a counter (${voc.counterFields.join(', ')})`);
        if (typeof v !== 'number' || !Number.isInteger(v)) fail(`"world.counts.${jail}.${field}" must be an integer`);
        c[field] = v as number;
      }
      stated[jail] = c;
    }
  }
  const recipe: WorldRecipe = { jails, processes, ...(stated ? { stated } : {}) };
  const threads = asList(s.threads, `${where}: "threads"`);
  if (threads.length === 0) fail('it has no threads');
  const fields = fieldsOf(program);
  const out = threads.map((t, i) => {
    const o = t as Record<string, unknown>;
    const process = o.process ?? `thread${i + 1}`;
    if (typeof process !== 'string' || !NAME.test(process)) fail(`thread ${i + 1}: "process" must be a name`);
    const calls = asList(o.calls, `${where}: thread ${i + 1}'s "calls"`);
    if (calls.length === 0) fail(`thread ${i + 1} makes no call`);
    return {
      process: process as string,
      calls: calls.map((c) => {
        if (typeof c !== 'string') return fail(`thread ${i + 1}: each call must be a string such as "prison_deref(A, PD_DEREF)"`);
        return parseCall(c, program, known, fields, (m) => fail(`thread ${i + 1}: ${m}`));
      }),
    };
  });
  let invariants: InvariantId[] | undefined;
  if (s.invariants !== undefined) {
    invariants = asList(s.invariants, `${where}: "invariants"`).map((v) => {
      if (typeof v !== 'string' || !(v in INVARIANTS)) return fail(`unknown invariant ${JSON.stringify(v)} (known: ${Object.keys(INVARIANTS).join(', ')})`);
      return v as InvariantId;
    });
  }
  return {
    name: name!, description: typeof s.description === 'string' ? s.description : `the user's scenario ${name}`,
    recipe, threads: out, ...(invariants ? { invariants } : {}),
  };
}

function asList(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ScenarioError(`${what} must be a list`);
  return v;
}

/** Every field name the file's code uses, plus the configured counters. */
function fieldsOf(program: Program): Set<string> {
  const out = new Set<string>(program.config.vocabulary.counterFields);
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) { for (const y of x) visit(y); return; }
    if (x === null || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (o.kind === 'field' && typeof o.field === 'string') out.add(o.field);
    for (const v of Object.values(o)) if (v !== null && typeof v === 'object') visit(v);
  };
  for (const info of program.functions.values()) visit(info.fn.blocks);
  return out;
}

const CALL = /^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*;?\s*$/s;

function parseCall(text: string, program: Program, jails: ReadonlySet<string>, fields: ReadonlySet<string>, fail: (m: string) => never): CallSpec {
  const m = CALL.exec(text);
  if (!m) return fail(`"${text}" is not a call such as "prison_deref(A, PD_DEREF)"`);
  const fn = m[1]!;
  const info = program.functions.get(fn);
  if (!info) {
    const unreadable = program.file.functions.some((f) => f.name === fn);
    return fail(unreadable ? `${fn}() could not be read (see jailcheck check), so it cannot be simulated` : `the file defines no function ${fn}()`);
  }
  const args = splitArgs(m[2]!).map((a) => parseArg(a, program, jails, fields, (msg) => fail(`in ${fn}(): ${msg}`)));
  if (args.length !== info.fn.params.length) fail(`${fn}() takes ${info.fn.params.length} argument${info.fn.params.length === 1 ? '' : 's'}, "${text.trim()}" passes ${args.length}`);
  return { fn, args, text: text.trim().replace(/;$/, '') };
}

function splitArgs(s: string): string[] {
  if (!s.trim()) return [];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function parseArg(a: string, program: Program, jails: ReadonlySet<string>, fields: ReadonlySet<string>, fail: (m: string) => never): ArgSpec {
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(a)) return { k: 'int', v: Number(a) };
  if (a === 'NULL') return { k: 'null' };
  if (/^".*"$/.test(a)) return { k: 'str' };
  if (a === 'td' || a === 'p' || a === 'cred') return { k: a === 'p' ? 'proc' : a };
  if (a === '&new') return { k: 'out' };
  const jailOf = /^([A-Za-z_]\w*)'s jail(?:\.([A-Za-z_]\w*))?$/.exec(a);
  if (jailOf) {
    if (jailOf[2] && !fields.has(jailOf[2])) fail(`unknown field ${jailOf[2]} (the file never uses it)`);
    return jailOf[2] ? { k: 'field', name: `@${jailOf[1]}`, field: jailOf[2] } : { k: 'obj', name: `@${jailOf[1]}` };
  }
  const field = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)$/.exec(a);
  if (field) {
    if (!jails.has(field[1]!)) fail(`${field[1]} is not a jail of the world`);
    if (!fields.has(field[2]!)) fail(`unknown field ${field[2]} (the file never uses it)`);
    return { k: 'field', name: field[1]!, field: field[2]! };
  }
  if (jails.has(a)) return { k: 'obj', name: a };
  // Flags: names joined by |.
  const parts = a.split('|').map((x) => x.trim());
  if (parts.every((p) => /^[A-Za-z_]\w*$|^(0x[0-9a-f]+|\d+)$/i.test(p))) {
    let v = 0;
    for (const p of parts) {
      if (/^\d|^0x/i.test(p)) { v |= Number(p); continue; }
      const c = program.constants.get(p);
      if (c === undefined) {
        return fail(parts.length > 1 || /^[A-Z]+_/.test(p) ? `unknown flag ${p} (the file neither defines nor uses it)` : `${p} is not a jail of the world, a flag, td, p or cred`);
      }
      v |= c;
    }
    return { k: 'int', v, text: a };
  }
  return fail(`cannot read the argument "${a}"`);
}
