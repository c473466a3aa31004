/**
 * `--format json` prints the shape docs/json-output.md describes: the
 * tables there are read by this test, so the documentation and the output
 * cannot drift apart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { example, lineOf, readFixture } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { RULES } from '../../simulator/src/findings';
import { fieldTables } from './docPages';
import { runCli } from './runCli';
import { makeWorkspace, removeWorkspace } from './workspace';

/** The field tables of docs/json-output.md, by section title. */
const SHAPES = fieldTables(readFixture('docs/json-output.md'), 2);

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Checks an object against one documented table, and the objects inside it against theirs. */
function assertShape(value: unknown, section: string, where: string): void {
  const fields = SHAPES.get(section);
  assert.ok(fields, `docs/json-output.md has no table "## ${section}"`);
  assert.equal(typeOf(value), 'object', where);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) assert.ok(fields.has(key), `${where}: field "${key}" is not documented under "${section}"`);
  for (const [key, field] of fields) {
    if (!(key in obj)) {
      assert.ok(!field.always, `${where}: documented field "${key}" is missing`);
      continue;
    }
    const v = obj[key];
    const nested: Record<string, string> = { Position: 'A position', Step: 'A step', Related: 'A related site', Finding: 'A finding' };
    const isArray = field.type.endsWith('[]');
    const base = isArray ? field.type.slice(0, -2) : field.type;
    if (isArray) {
      assert.equal(typeOf(v), 'array', `${where}.${key}`);
      (v as unknown[]).forEach((item, i) => {
        if (nested[base]) assertShape(item, nested[base]!, `${where}.${key}[${i}]`);
        else assert.equal(typeOf(item), base, `${where}.${key}[${i}]`);
      });
    } else if (nested[base]) assertShape(v, nested[base]!, `${where}.${key}`);
    else assert.equal(typeOf(v), base, `${where}.${key}`);
  }
}

let dir: string;
let patched: string;
before(() => {
  patched = firstPatch(example());
  dir = makeWorkspace({ 'example.c': example(), 'first-patch.c': patched, 'examples/kern_jail_2011.c': example() });
});
after(() => removeWorkspace(dir));

test('docs/json-output.md documents the document, findings, steps, related sites and positions', () => {
  assert.deepEqual([...SHAPES.keys()], ['The document', 'A finding', 'A step', 'A related site', 'A position']);
});

test('--format json on the first patch prints exactly the documented shape, every field the documented type', async () => {
  const r = await runCli(['check', '--format', 'json', 'first-patch.c'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as { version: number; files: string[]; findings: unknown[] };
  assertShape(out, 'The document', 'output');
  assert.equal(out.version, 1);
  assert.deepEqual(out.files, ['first-patch.c']);
  assert.ok(out.findings.length >= 2);
});

test('each JSON finding carries rule, severity, message, file, function, its range and the path ending at it', async () => {
  const r = await runCli(['check', '--format', 'json', 'first-patch.c'], { cwd: dir });
  const out = JSON.parse(r.stdout) as { findings: Array<Record<string, any>> };
  const double = out.findings.find((f) => f.rule === 'lock-double-acquire');
  assert.ok(double, r.stdout.slice(0, 2000));
  const relock = lineOf(patched, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
  assert.equal(double.severity, 'error');
  assert.equal(double.function, 'prison_deref');
  assert.equal(double.file, 'first-patch.c');
  assert.match(double.message, /pr->pr_mtx is acquired while this thread already holds it/);
  assert.deepEqual(double.start, { line: relock, column: patched.split('\n')[relock - 1]!.indexOf('mtx_lock') + 1 });
  assert.deepEqual(double.end, { line: relock, column: double.start.column + 'mtx_lock(&pr->pr_mtx)'.length });
  const steps = double.steps as Array<Record<string, any>>;
  assert.ok(steps.length >= 3);
  assert.deepEqual([steps.at(-1)!.start, steps.at(-1)!.end], [double.start, double.end], 'the path ends at the finding');
  assert.match(steps.at(-1)!.message, /^here/);
  for (const s of steps) {
    assert.equal(s.file, 'first-patch.c');
    assert.ok(s.start.line >= 1 && s.start.column >= 1 && (s.end.line > s.start.line || s.end.column >= s.start.column), JSON.stringify(s));
    assert.ok(Array.isArray(s.locks));
  }
  assert.ok(steps.some((s) => /--tpr->pr_uref > 0 is false/.test(s.message)));
  const held = out.findings.find((f) => f.rule === 'lock-held-at-return')!;
  assert.equal(held.start.line, lineOf(patched, 'return;', { after: 'Done if there were only user references to remove.' }));
});

test('several files: "files" lists them in order and the findings come file by file, each naming its own', async () => {
  const r = await runCli(['check', '--format', 'json', 'first-patch.c', 'example.c'], { cwd: dir });
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { files: string[]; findings: Array<{ file: string; rule: string }> };
  assert.deepEqual(out.files, ['first-patch.c', 'example.c']);
  const order = out.findings.map((f) => out.files.indexOf(f.file));
  assert.ok(order.every((i) => i >= 0), 'every finding names one of the files');
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'file by file, in the order given');
  const patchedRules = out.findings.filter((f) => f.file === 'first-patch.c').map((f) => f.rule);
  assert.ok(patchedRules.includes('lock-double-acquire') && patchedRules.includes('lock-held-at-return'), patchedRules.join(', '));
  assert.ok(!out.findings.some((f) => f.file === 'example.c' && f.rule.startsWith('lock-')), 'the example has no lock finding');
});

test('--function limits the findings to one function; a function without findings gives an empty list and exit 0', async () => {
  const r = await runCli(['check', '--format', 'json', '--function', 'prison_hold', 'first-patch.c'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { version: 1, files: ['first-patch.c'], findings: [] });
  const d = await runCli(['check', '--format', 'json', '--function', 'prison_deref', 'first-patch.c'], { cwd: dir });
  assert.equal(d.code, 1);
  const out = JSON.parse(d.stdout) as { findings: Array<{ function: string; rule: string }> };
  assert.deepEqual([...new Set(out.findings.map((f) => f.function))], ['prison_deref']);
  assert.deepEqual(out.findings.map((f) => f.rule).filter((r) => r.startsWith('lock-')).sort(), ['lock-double-acquire', 'lock-held-at-return']);
});

test('the rules table of docs/json-output.md lists every rule with its severity', () => {
  const doc = readFixture('docs/json-output.md');
  const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| (error|warning|information) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, Object.values(RULES).map((r) => [r.id, r.severity]));
});

test('interleaving findings carry preemptions and a schedule whose steps name their thread; no other finding has either; --no-simulate drops them', async () => {
  const [all, without] = await Promise.all([
    runCli(['check', '--format', 'json', 'first-patch.c', 'example.c'], { cwd: dir }),
    runCli(['check', '--format', 'json', '--no-simulate', 'first-patch.c', 'example.c'], { cwd: dir }),
  ]);
  assert.equal(all.code, 1, all.stderr);
  const findings = (JSON.parse(all.stdout) as { findings: Array<Record<string, any>> }).findings;
  const schedules = findings.filter((f) => f.rule === 'interleaving-violation');
  assert.ok(schedules.length >= 4, `${schedules.length} interleaving findings`);
  for (const f of schedules) {
    assert.equal(typeof f.preemptions, 'number', f.message);
    assert.equal(f.severity, 'error');
    assert.match(f.message, /^(logic error \(no preemption needed\)|race \(\d+ preemptions?\)): .*, when thread 1 runs .*\(scenario [^)]+\)$/);
    assert.ok(f.steps.length >= 1 && f.steps.length <= 60, `${f.steps.length} steps`);
    for (const s of f.steps) {
      assert.equal(typeof s.thread, 'number');
      assert.ok(s.message.startsWith(`thread ${s.thread}: `), s.message);
      for (const l of s.locks) assert.match(l, /^\S+( \(shared\))? by thread \d+$/);
    }
  }
  for (const f of findings.filter((x) => x.rule !== 'interleaving-violation')) {
    assert.ok(!('preemptions' in f), `${f.rule} has preemptions`);
    assert.ok(f.steps.every((s: Record<string, unknown>) => !('thread' in s)), `${f.rule} has threads`);
    assert.ok(f.steps.length <= 40);
  }
  assert.equal(without.code, 1, without.stderr);
  const rest = (JSON.parse(without.stdout) as { findings: Array<{ rule: string }> }).findings;
  assert.deepEqual(rest.map((f) => f.rule), findings.filter((f) => f.rule !== 'interleaving-violation').map((f) => f.rule));
});

test('the interleaving example of docs/json-output.md is what check prints for the bundled example, steps shortened', async () => {
  const blocks = [...readFixture('docs/json-output.md').matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => JSON.parse(m[1]!));
  const shown = blocks.find((b) => b.rule === 'interleaving-violation');
  assert.ok(shown, 'docs/json-output.md shows an interleaving finding');
  const r = await runCli(['check', '--format', 'json', 'examples/kern_jail_2011.c'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const real = (JSON.parse(r.stdout) as { findings: Array<Record<string, any>> }).findings.find((f) => f.rule === 'interleaving-violation')!;
  assertShape(real, 'A finding', 'the interleaving finding');
  assert.equal(real.steps.length, 29);
  assert.deepEqual(shown, { ...real, steps: [real.steps[0], real.steps.at(-1)] });
});
