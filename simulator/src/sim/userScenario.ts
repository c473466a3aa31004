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
  // An editor's byte order mark is not part of the JSON.
  const json = text.replace(/^\uFEFF/, '');
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ScenarioError(`the scenario file is not JSON: ${parseProblem(err as Error, json)}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError('the scenario file must hold an object');
  if ('scenarios' in raw) {
    const extra = Object.keys(raw).find((k) => !FILE_KEYS.includes(k));
    if (extra !== undefined) throw new ScenarioError(`the scenario file has an unknown key ${JSON.stringify(extra)} (known: ${FILE_KEYS.join(', ')})`);
  }
  const list = 'scenarios' in raw ? (raw as { scenarios: unknown }).scenarios : [raw];
  if (!Array.isArray(list) || list.length === 0) throw new ScenarioError('"scenarios" must be a non-empty list');
  return list.map((s, i) => {
    if (!isObject(s)) throw new ScenarioError(`scenario ${i + 1} must be an object`);
    return scenario(s as RawScenario, i, program);
  });
}

/**
 * JSON.parse's complaint on one line: V8 quotes the text around the error
 * (newlines, control characters and all), and gives an offset where a line
 * and column help more.
 */
function parseProblem(err: Error, text: string): string {
  let m = err.message.replace(/, ".*"(?:\.\.\.)? is not valid JSON$/s, '');
  const at = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(m);
  if (at) {
    const lines = text.slice(0, Number(at[1])).split('\n');
    m = `${m.slice(0, at.index)} at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}`;
  }
  return oneLine(m);
}

/** Control characters (a line break in a call string) escaped, so a message stays one line. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A name as a message shows it: bare when it is a valid name, quoted (escapes and all) when not. */
function shown(v: unknown): string {
  return typeof v === 'string' && NAME.test(v) ? v : JSON.stringify(v) ?? String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The keys each object of a scenario file may have (schemas/scenario.schema.json); any other is a mistake, not ignored. */
const FILE_KEYS = ['$schema', 'scenarios'];
const SCENARIO_KEYS = ['$schema', 'name', 'description', 'world', 'threads', 'invariants'];
const WORLD_KEYS = ['jails', 'processes', 'counts'];
const JAIL_KEYS = ['name', 'parent', 'persist', 'held'];
const PROCESS_KEYS = ['name', 'jail'];
const THREAD_KEYS = ['process', 'calls'];
/** As the schema says: more threads make more interleavings than a run can explore. */
const MAX_THREADS = 6;

function scenario(s: RawScenario, index: number, program: Program): ScenarioSpec {
  const voc = program.config.vocabulary;
  const name = typeof s.name === 'string' && s.name ? s.name : undefined;
  const where = name ? `scenario ${JSON.stringify(name)}` : `scenario ${index + 1}`;
  const fail = (msg: string): never => { throw new ScenarioError(oneLine(`${where}: ${msg}`)); };
  const onlyKeys = (o: Record<string, unknown>, keys: readonly string[], what: string): void => {
    const extra = Object.keys(o).find((k) => !keys.includes(k));
    if (extra !== undefined) fail(`${what ? `${what} has an ` : ''}unknown key ${JSON.stringify(extra)} (known: ${keys.join(', ')})`);
  };
  const object = (v: unknown, what: string): Record<string, unknown> => (isObject(v) ? v : fail(`${what} must be an object`));
  onlyKeys(s as Record<string, unknown>, SCENARIO_KEYS, '');
  if (!name) fail('it has no "name"');
  if (s.description !== undefined && typeof s.description !== 'string') fail('"description" must be a string');
  const world = s.world === undefined ? {} : object(s.world, '"world"');
  onlyKeys(world, WORLD_KEYS, '"world"');
  const jails: Array<{ name: string; parent: string; persist?: boolean; held?: boolean }> = [];
  const known = new Set<string>([voc.rootObject]);
  for (const [i, j] of asList(world.jails, `${where}: "world.jails"`).entries()) {
    const o = object(j, `jail ${i + 1}`);
    onlyKeys(o, JAIL_KEYS, `jail ${i + 1}`);
    const jn = o.name;
    const parent = o.parent ?? voc.rootObject;
    if (typeof jn !== 'string' || !NAME.test(jn)) fail(`jail ${i + 1} has no valid "name"`);
    if (typeof parent !== 'string' || !known.has(parent)) fail(`jail ${shown(jn)}: its parent ${shown(parent)} is not prison0 or a jail listed before it`);
    if (known.has(jn as string)) fail(`jail ${shown(jn)} is listed twice`);
    for (const flag of ['persist', 'held'] as const) {
      if (o[flag] !== undefined && typeof o[flag] !== 'boolean') fail(`jail ${shown(jn)}: "${flag}" must be true or false`);
    }
    known.add(jn as string);
    jails.push({ name: jn as string, parent: parent as string, persist: o.persist === true, held: o.held === true });
  }
  const processes: Array<{ name: string; jail: string }> = [];
  for (const [i, p] of asList(world.processes, `${where}: "world.processes"`).entries()) {
    const o = object(p, `process ${i + 1}`);
    onlyKeys(o, PROCESS_KEYS, `process ${i + 1}`);
    const jail = o.jail ?? voc.rootObject;
    if (typeof o.name !== 'string' || !NAME.test(o.name)) fail(`process ${i + 1} has no valid "name"`);
    if (typeof jail !== 'string' || !known.has(jail)) fail(`process ${shown(o.name)}: jail ${shown(jail)} is not in the world`);
    if (processes.some((x) => x.name === o.name)) fail(`process ${shown(o.name)} is listed twice`);
    processes.push({ name: o.name as string, jail: jail as string });
  }
  let stated: Record<string, Record<string, number>> | undefined;
  if (world.counts !== undefined) {
    stated = {};
    for (const [jail, counts] of Object.entries(object(world.counts, '"world.counts"'))) {
      if (!known.has(jail)) fail(`"world.counts" names ${shown(jail)}, which is not a jail of the world`);
      const c: Record<string, number> = {};
      for (const [field, v] of Object.entries(object(counts, `"world.counts.${jail}"`))) {
        if (!voc.counterFields.includes(field)) fail(`"world.counts.${jail}" names the field ${shown(field)}, which is not a counter (${voc.counterFields.join(', ')})`);
        if (typeof v !== 'number' || !Number.isInteger(v)) fail(`"world.counts.${jail}.${field}" must be an integer`);
        c[field] = v as number;
      }
      stated[jail] = c;
    }
  }
  const recipe: WorldRecipe = { jails, processes, ...(stated ? { stated } : {}) };
  const threads = asList(s.threads, `${where}: "threads"`);
  if (threads.length === 0) fail('it has no threads');
  if (threads.length > MAX_THREADS) fail(`it has ${threads.length} threads; a scenario has at most ${MAX_THREADS}`);
  const fields = fieldsOf(program);
  const listed = new Set(processes.map((p) => p.name));
  const out = threads.map((t, i) => {
    const o = object(t, `thread ${i + 1}`);
    onlyKeys(o, THREAD_KEYS, `thread ${i + 1}`);
    const process = o.process ?? `thread${i + 1}`;
    if (typeof process !== 'string' || !NAME.test(process)) fail(`thread ${i + 1}: "process" must be a name`);
    const calls = asList(o.calls, `${where}: thread ${i + 1}'s "calls"`);
    if (calls.length === 0) fail(`thread ${i + 1} makes no call`);
    const own = listed.has(process as string) ? process as string : undefined;
    return {
      process: process as string,
      calls: calls.map((c) => {
        if (typeof c !== 'string') return fail(`thread ${i + 1}: each call must be a string such as "prison_deref(A, PD_DEREF)"`);
        return parseCall(c, program, { jails: known, processes: listed, own, process: o.process === undefined ? undefined : process as string },
          fields, (m) => fail(`thread ${i + 1}: ${m}`));
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
  if (!Array.isArray(v)) throw new ScenarioError(oneLine(`${what} must be a list`));
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

/** What a call's arguments can name: the world's jails and processes, and the calling thread's process. */
interface CallContext {
  readonly jails: ReadonlySet<string>;
  readonly processes: ReadonlySet<string>;
  /** The thread's process when the world lists it (its td, p and cred exist). */
  readonly own?: string;
  /** The thread's "process", as written. */
  readonly process?: string;
}

function parseCall(text: string, program: Program, ctx: CallContext, fields: ReadonlySet<string>, fail: (m: string) => never): CallSpec {
  const m = CALL.exec(text);
  if (!m) return fail(`${JSON.stringify(text)} is not a call such as "prison_deref(A, PD_DEREF)"`);
  const fn = m[1]!;
  const info = program.functions.get(fn);
  if (!info) {
    const unreadable = program.file.functions.some((f) => f.name === fn);
    return fail(unreadable ? `${fn}() could not be read (see jailcheck check), so it cannot be simulated` : `the file defines no function ${fn}()`);
  }
  const args = splitArgs(m[2]!).map((a) => parseArg(a, program, ctx, fields, (msg) => fail(`in ${fn}(): ${msg}`)));
  if (args.length !== info.fn.params.length) fail(`${fn}() takes ${info.fn.params.length} argument${info.fn.params.length === 1 ? '' : 's'}, ${JSON.stringify(text.trim())} passes ${args.length}`);
  // Only the world's processes have a thread, a proc and a credential: any other's would be NULL.
  const own = args.find((a) => a.k === 'td' || a.k === 'proc' || a.k === 'cred');
  if (own && ctx.own === undefined) {
    const what = own.k === 'proc' ? 'p' : own.k as 'td' | 'cred';
    fail(`in ${fn}(): ${ctx.process === undefined
      ? `${what} needs the thread's process, and the thread names none (give it a "process" that "world.processes" lists)`
      : `${what} is ${OWN[what]} of process ${ctx.process}, which "world.processes" does not list`}`);
  }
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

const OWN = { td: 'the thread', p: 'the proc', cred: 'the credential' } as const;

function parseArg(a: string, program: Program, ctx: CallContext, fields: ReadonlySet<string>, fail: (m: string) => never): ArgSpec {
  const jails = ctx.jails;
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(a)) return { k: 'int', v: Number(a) };
  if (a === 'NULL') return { k: 'null' };
  if (/^".*"$/.test(a)) return { k: 'str' };
  if (a === 'td' || a === 'p' || a === 'cred') return { k: a === 'p' ? 'proc' : a };
  if (a === '&new') return { k: 'out' };
  const jailOf = /^([A-Za-z_]\w*)'s jail(?:\.([A-Za-z_]\w*))?$/.exec(a);
  if (jailOf) {
    if (!ctx.processes.has(jailOf[1]!)) fail(`${jailOf[1]} is not a process of the world ("world.processes")`);
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
  return fail(`cannot read the argument ${JSON.stringify(a)}`);
}
