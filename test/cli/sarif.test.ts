/**
 * `--format sarif` is SARIF 2.1.0 that code-scanning services and SARIF
 * viewers accept: every log is validated against the official 2.1.0 JSON
 * schema (the rtm.5 schema that @microsoft/jest-sarif ships, with formats
 * checked by ajv-formats), and the parts reviewers use are there — the
 * rule, the region, the function as a logical location, the path as a code
 * flow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Log, Result } from 'sarif';
import type AjvCore from 'ajv';
import { example, lineOf } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { RULES } from '../../simulator/src/findings';
import { runCli } from './runCli';
import { BALANCED } from './sources';
import { makeWorkspace, removeWorkspace } from './workspace';

/**
 * The validator. The schema is draft-04 (ajv-draft-04); one of its patterns
 * is only valid as a non-Unicode regular expression, hence unicodeRegExp.
 */
function sarifValidator(): ReturnType<AjvCore['compile']> {
  let Ajv: typeof AjvCore;
  let addFormats: (ajv: AjvCore) => AjvCore;
  let schema: object;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    Ajv = (require('ajv-draft-04') as { default: typeof AjvCore }).default;
    addFormats = (require('ajv-formats') as { default: (ajv: AjvCore) => AjvCore }).default;
    schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (err) {
    throw new Error('SARIF validation needs the devDependencies ajv@8.20.0, ajv-draft-04@1.0.0, ajv-formats@3.0.1 and '
      + `@microsoft/jest-sarif@1.0.0-beta.0 (for the schema file): ${(err as Error).message.split('\n')[0]}`);
  }
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const validate = sarifValidator();

function assertValidSarif(log: unknown): asserts log is Log {
  const ok = validate(log);
  assert.ok(ok, `not valid SARIF 2.1.0:\n${JSON.stringify(validate.errors?.slice(0, 5), null, 2)}`);
}

let dir: string;
let patched: string;
before(() => {
  patched = firstPatch(example());
  dir = makeWorkspace({ 'balanced.c': BALANCED, 'first-patch.c': patched, 'patches/first patch #1.c': patched });
});
after(() => removeWorkspace(dir));

async function sarifOf(...files: string[]): Promise<{ code: number | null; log: Log }> {
  const r = await runCli(['check', '--format', 'sarif', ...files], { cwd: dir });
  assert.equal(r.stderr, '');
  const log = JSON.parse(r.stdout) as unknown;
  assertValidSarif(log);
  return { code: r.code, log };
}

test('the schema check itself rejects a log that is not SARIF', () => {
  assert.equal(validate({ version: '2.1.0', runs: [{ results: [] }] }), false, 'a run without a tool');
  assert.equal(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'a b.c' } } }] }] }] }), false,
    'a uri with a space');
});

test('the SARIF for the first patch is valid SARIF 2.1.0, exit 1', async () => {
  const { code, log } = await sarifOf('first-patch.c');
  assert.equal(code, 1);
  assert.equal(log.version, '2.1.0');
  assert.equal(log.runs.length, 1);
  assert.equal(log.runs[0]!.tool.driver.name, 'jailcheck');
});

test('a file without findings gives a valid SARIF log with an empty result list, exit 0', async () => {
  const { code, log } = await sarifOf('balanced.c');
  assert.equal(code, 0);
  assert.deepEqual(log.runs[0]!.results, []);
});

test('each result has its ruleId (described in the driver\'s rules), the region, the function as a logical location and the path as a code flow', async () => {
  const { log } = await sarifOf('first-patch.c');
  const run = log.runs[0]!;
  const rules = run.tool.driver.rules!;
  assert.deepEqual(rules.map((r) => r.id), Object.keys(RULES));
  const double = run.results!.find((r) => r.ruleId === 'lock-double-acquire') as Result;
  assert.ok(double);
  assert.equal(rules[double.ruleIndex!]!.id, 'lock-double-acquire');
  assert.equal(double.level, 'error');
  assert.match(double.message.text!, /pr->pr_mtx is acquired while this thread already holds it/);
  const loc = double.locations![0]!;
  assert.equal(loc.physicalLocation!.artifactLocation!.uri, 'first-patch.c');
  const relock = lineOf(patched, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
  assert.equal(loc.physicalLocation!.region!.startLine, relock);
  assert.equal(loc.physicalLocation!.region!.endLine, relock);
  assert.ok(loc.physicalLocation!.region!.endColumn! > loc.physicalLocation!.region!.startColumn!);
  assert.deepEqual(loc.logicalLocations, [{ name: 'prison_deref', kind: 'function' }]);
  const flow = double.codeFlows![0]!.threadFlows[0]!.locations;
  assert.ok(flow.length >= 3);
  assert.equal(flow.at(-1)!.location!.physicalLocation!.region!.startLine, relock, 'the flow ends at the finding');
  assert.ok(flow.some((l) => /--tpr->pr_uref > 0 is false/.test(l.location!.message!.text!)));
  for (const l of flow) assert.equal(typeof l.state?.locks?.text, 'string', 'each step says which locks are held');
});

test('a path with a space and a # becomes a valid URI reference that still names the file', async () => {
  const { log } = await sarifOf('patches/first patch #1.c');
  const uris = new Set<string>();
  for (const r of log.runs[0]!.results!) {
    uris.add(r.locations![0]!.physicalLocation!.artifactLocation!.uri!);
    for (const l of r.codeFlows?.[0]?.threadFlows[0]?.locations ?? []) uris.add(l.location!.physicalLocation!.artifactLocation!.uri!);
    for (const l of r.relatedLocations ?? []) uris.add(l.physicalLocation!.artifactLocation!.uri!);
  }
  assert.deepEqual([...uris], ['patches/first%20patch%20%231.c']);
  assert.equal(decodeURIComponent([...uris][0]!), 'patches/first patch #1.c');
});

test('an absolute path becomes a file: URI', async () => {
  const abs = `${dir}/first-patch.c`;
  const { log } = await sarifOf(abs);
  const uri = log.runs[0]!.results![0]!.locations![0]!.physicalLocation!.artifactLocation!.uri!;
  assert.equal(uri, new URL(`file://${abs}`).href);
});
