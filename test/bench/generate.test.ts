/**
 * The benchmark's generated input: the same file for the same seed, the
 * size and the constructs of kern_jail.c, and every function readable by
 * the front end (so the benchmark times the checks on all of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKernJail, GeneratedFile } from '../../bench/generate';
import { createNativeParser } from '../../server/src/parsing/parser';
import { prepareKernelSource } from '../../server/src/parsing/preprocess';
import { regionParser } from '../../server/src/parsing/region';
import { extractFile } from '../../server/src/extract/index';
import { FREEBSD_VOCABULARY } from '../../simulator/src/config';

const file = generateKernJail();

function body(f: GeneratedFile, name: string): string {
  const fn = f.functions.find((x) => x.name === name);
  assert.ok(fn, `no function ${name}`);
  return f.text.split('\n').slice(fn.startLine - 1, fn.endLine).join('\n');
}

test('the same seed gives the same file, and another seed a different one', () => {
  assert.equal(generateKernJail({ seed: 2011 }).text, file.text);
  assert.notEqual(generateKernJail({ seed: 7 }).text, file.text);
});

test('the generated file is kern_jail.c-sized: about 5,000 lines and about a hundred functions', () => {
  assert.ok(file.lines >= 4_800 && file.lines <= 5_400, `${file.lines} lines`);
  assert.ok(file.functions.length >= 90 && file.functions.length <= 125, `${file.functions.length} functions`);
  assert.equal(file.text.split('\n').length - 1, file.lines);
});

test('the front end reads every generated function, with no parse problem', () => {
  const parser = createNativeParser();
  const text = prepareKernelSource(file.text);
  const ir = extractFile(parser.parse(text).rootNode, text, { vocabulary: FREEBSD_VOCABULARY, reparse: regionParser(parser) });
  assert.deepEqual(ir.problems, []);
  assert.deepEqual(ir.functions.filter((f) => f.problems.length > 0).map((f) => `${f.name}: ${f.problems[0]!.message}`), []);
  assert.deepEqual(ir.functions.map((f) => f.name).sort(), file.functions.map((f) => f.name).sort());
});

test('the line numbers the generator reports are where each definition is', () => {
  const lines = file.text.split('\n');
  for (const f of file.functions) {
    assert.match(lines[f.startLine]!, new RegExp(`^${f.name}\\(`), `${f.name} at line ${f.startLine + 1}`);
    assert.equal(lines[f.endLine - 1], '}', `${f.name} ends at line ${f.endLine}`);
  }
});

test('kern_jail_set has a long goto ladder, as the real one does', () => {
  const set = body(file, 'kern_jail_set');
  const gotos = set.match(/\bgoto\b/g)?.length ?? 0;
  assert.ok(gotos >= 40, `${gotos} gotos`);
  for (const label of ['done_deref_locked', 'done_unlock_list', 'done_releroot', 'done_errmsg', 'done_free']) {
    assert.match(set, new RegExp(`^ ${label}:$`, 'm'));
  }
});

test('the file has the constructs the checks must get through', () => {
  const constructs: Array<[string, RegExp]> = [
    ['a lock taken under !(flags & PD_LOCKED)', /if \(!\(flags & PD_LOCKED\)\)\n\t+mtx_lock\(&pr->pr_mtx\);/],
    ['allprison_lock shared', /sx_slock\(&allprison_lock\)/],
    ['allprison_lock exclusive', /sx_xlock\(&allprison_lock\)/],
    ['an sx downgrade', /sx_downgrade\(&allprison_lock\)/],
    ['a pre-decrement tested against zero', /if \(--\w+->pr_(u)?ref > 0\)/],
    ['pr_uref incremented', /->pr_uref\+\+;/],
    ['refcount(9) acquire', /refcount_acquire\(&pr->pr_ref\)/],
    ['refcount(9) release', /refcount_release\(&pr->pr_ref\)/],
    ['a PD_* call to prison_deref()', /prison_deref\(\w+, PD_DEREF \| PD_DEUREF/],
    ['TAILQ_FOREACH', /TAILQ_FOREACH\(/],
    ['FOREACH_PRISON_DESCENDANT', /FOREACH_PRISON_DESCENDANT\(/],
    ['FOREACH_PRISON_DESCENDANT_LOCKED', /FOREACH_PRISON_DESCENDANT_LOCKED\(/],
    ['#ifdef INET inside a body', /\n\t+\S.*\n#ifdef INET\n\t/],
    ['#ifdef VIMAGE inside a body', /\n\t+\S.*\n#ifdef VIMAGE\n\t/],
    ['KASSERT', /KASSERT\(/],
    ['switch', /switch \(/],
    ['vfs_getopt checks', /error = vfs_getopt\(opts, "[\w.]+", \(void \*\*\)&\w+, &len\);\n\tif \(error == ENOENT\)/],
  ];
  const missing = constructs.filter(([, re]) => !re.test(file.text)).map(([what]) => what);
  assert.deepEqual(missing, []);
});

test('prison_deref can be generated in the pre-fix shape of the 2011 thread, with the hand-over-hand uref loop', () => {
  const old = generateKernJail({ derefStyle: 'hand-over-hand' });
  assert.match(body(old, 'prison_deref'), /for \(tpr = pr;; tpr = tpr->pr_parent\) \{\n\t+if \(tpr != pr\)\n\t+mtx_lock\(&tpr->pr_mtx\);\n\t+if \(--tpr->pr_uref > 0\)/);
  assert.doesNotMatch(body(file, 'prison_deref'), /--tpr->pr_uref/);
});
