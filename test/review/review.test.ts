/**
 * Before and after: what each patch of the seed thread, the maintainer's
 * alternative, and a patch that only moves code fix and introduce, through
 * the one call a language-server feature will make.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTwoFilesPatch } from 'diff';
import type { Finding } from '../../simulator/src/findings';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { LineIndex } from '../../server/src/lineIndex';
import { patchAnchor, reviewPatch, ReviewResult, reviewTexts } from '../../server/src/review/reviewPatch';
import { PatchDoesNotApply } from '../../server/src/review/errors';
import { classify, findingsInScope, functionExtents } from '../../server/src/review/compare';
import { edit, example, lineOf, readFixture, service } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';

const fixture = (name: string): string => readFixture(`test/fixtures/patches/${name}`);
const review = (base: string, patchName: string): ReviewResult =>
  reviewPatch(base, fixture(patchName), { service: service(), baseName: 'kern_jail_2011.c', patchName });

const lineIn = (text: string, f: Finding): number => new LineIndex(text).position(f.range.start).line;
const summary = (r: ReviewResult) => ({
  fixed: r.fixed.map((f) => `${f.rule}@${lineIn(r.baseText, f)}`),
  introduced: r.introduced.map((f) => `${f.rule}@${lineIn(r.patchedText, f)}`),
  unchanged: r.unchanged.map((u) => `${u.base.rule}@${lineIn(r.baseText, u.base)}->${lineIn(r.patchedText, u.patched)}`),
});
const describeResult = (r: ReviewResult): string => JSON.stringify(summary(r), null, 1);

test('the seed\'s first patch introduces the double acquire at the re-lock and the lock held at the PD_DEUREF-only return, and fixes nothing', () => {
  const r = review(example(), 'seed-first-patch.diff');
  assert.deepEqual(r.scope.functions, ['prison_deref']);
  assert.deepEqual(r.fixed, [], describeResult(r));
  assert.equal(r.introduced.length, 2, describeResult(r));
  const [held, double] = r.introduced;

  assert.equal(double!.rule, 'lock-double-acquire');
  assert.equal(double!.function, 'prison_deref');
  assert.equal(lineIn(r.patchedText, double!), lineOf(r.patchedText, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' }));
  assert.match(double!.message, /pr->pr_mtx is acquired while this thread already holds it/);

  assert.equal(held!.rule, 'lock-held-at-return');
  assert.equal(lineIn(r.patchedText, held!), lineOf(r.patchedText, 'return;', { after: 'Done if there were only user references to remove.' }));
  assert.match(held!.message, /pr->pr_mtx is still held when prison_deref\(\) returns \(.*without PD_DEREF/);
});

test('the seed\'s second patch applies and introduces nothing', () => {
  const r = review(example(), 'seed-second-patch.diff');
  assert.deepEqual(r.scope.functions, ['prison_deref']);
  assert.deepEqual(r.introduced, [], describeResult(r));
  assert.equal(r.applied.hunks.length, 2);
});

test('the maintainer\'s alternative fix (revival takes the ancestors\' user references again) introduces nothing', () => {
  const r = review(example(), 'alternative-fix.diff');
  assert.deepEqual(r.scope.functions, ['do_jail_attach', 'prison_create', 'prison_set_persist']);
  assert.deepEqual(r.introduced, [], describeResult(r));
  assert.match(r.patchedText, /revived = \(pr->pr_uref\+\+ == 0\);/);
});

test('a patch that only moves code fixes nothing and introduces nothing', () => {
  const r = review(example(), 'move-only.diff');
  assert.deepEqual(r.scope.functions, ['prison_hold', 'prison_hold_locked']);
  assert.deepEqual({ fixed: r.fixed, introduced: r.introduced }, { fixed: [], introduced: [] });
});

test('findings of code that moves are matched by what they point at, not by line: both stay unchanged, 311 lines up', () => {
  const r = review(firstPatch(example()), 'move-prison-deref.diff');
  const ret = lineOf(r.patchedText, 'return;', { after: 'Done if there were only user references to remove.' });
  const relock = lineOf(r.patchedText, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
  assert.deepEqual([ret, relock], [406 - 311, 410 - 311]);
  assert.deepEqual(summary(r), {
    fixed: [],
    introduced: [],
    unchanged: [`lock-held-at-return@406->${ret}`, `lock-double-acquire@410->${relock}`],
  });
});

test('a patch that does not apply is refused before anything is analysed', () => {
  let analysed = 0;
  const counting = Object.create(service(), { analyse: { value: (...args: Parameters<ReturnType<typeof service>['analyse']>) => { analysed++; return service().analyse(...args); } } });
  assert.throws(() => reviewPatch(example(), fixture('does-not-apply.diff'), { service: counting }), PatchDoesNotApply);
  assert.equal(analysed, 0);
});

test('undoing the first patch fixes both of its findings, each shown at its line in the base', () => {
  const r = reviewTexts(firstPatch(example()), example(), { service: service() });
  const base = firstPatch(example());
  assert.deepEqual(summary(r), {
    fixed: [`lock-held-at-return@${lineOf(base, 'return;', { after: 'Done if there were only' })}`, `lock-double-acquire@${lineOf(base, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' })}`],
    introduced: [],
    unchanged: [],
  });
});

test('findings in functions the patch does not touch are left out', () => {
  // prison_deref() keeps its two findings, but the patch only touches prison_hold().
  const r = review(firstPatch(example()), 'move-only.diff');
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: [] });
});

test('a change outside any function (a #define) compares every function', () => {
  const base = firstPatch(example());
  const patched = edit(base, '#define\tJAIL_MAX\t999999', '#define\tJAIL_MAX\t99999');
  const r = reviewTexts(base, patched, { service: service() });
  assert.equal(r.scope.wholeFile, true);
  assert.ok(r.scope.functions.includes('prison_deref') && r.scope.functions.includes('prison_create'), r.scope.functions.join());
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: ['lock-held-at-return@406->406', 'lock-double-acquire@410->410'] });
});

test('an introduced finding on an added line maps to that + line of the .diff file', () => {
  const base = example();
  const patched = edit(base, '\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);', '\tmtx_lock(&pr->pr_mtx);\n\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);');
  // As a mail would carry it: quoted, tabs gone.
  const mail = createTwoFilesPatch('a/kern_jail.c', 'b/kern_jail.c', base, patched).split('\n')
    .map((l) => `> ${l.replace(/\t/g, ' ')}`).join('\n');
  const r = reviewPatch(base, `Looks fine to me:\n\n${mail}\n`, { service: service() });
  assert.equal(r.introduced.length, 1, describeResult(r));
  const f = r.introduced[0]!;
  assert.equal(f.rule, 'lock-double-acquire');
  const line = lineIn(r.patchedText, f);
  const anchor = patchAnchor(r, 'patched', line);
  assert.equal(anchor?.kind, 'added');
  const patchLines = `Looks fine to me:\n\n${mail}\n`.split('\n');
  assert.equal(patchLines[anchor!.patchLine - 1], '> + mtx_lock(&pr->pr_mtx);');
  // The patched text itself has the base file's tab back.
  assert.equal(r.patchedText.split('\n')[line - 1], '\tmtx_lock(&pr->pr_mtx);');
});

test('a fixed finding on a removed line maps to that - line; a line outside every hunk to the hunk above it', () => {
  const base = edit(example(), '\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);', '\tmtx_lock(&pr->pr_mtx);\n\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);');
  const patch = createTwoFilesPatch('a/kern_jail.c', 'b/kern_jail.c', base, example());
  const r = reviewPatch(base, patch, { service: service() });
  assert.deepEqual(summary(r).fixed, ['lock-double-acquire@310']);
  const anchor = patchAnchor(r, 'base', 310);
  assert.equal(anchor?.kind, 'removed');
  assert.equal(patch.split('\n')[anchor!.patchLine - 1], '-\tmtx_lock(&pr->pr_mtx);');

  const first = review(example(), 'seed-first-patch.diff');
  const relock = lineIn(first.patchedText, first.introduced.find((f) => f.rule === 'lock-double-acquire')!);
  assert.deepEqual(patchAnchor(first, 'patched', relock), { patchLine: first.applied.hunks[0]!.headerLine, kind: 'hunk' });
});

test('findings are compared whatever their rule: a finding outside the touched functions counts when a related site is inside', () => {
  const text = example();
  const extents = functionExtents(text, service().analyse(text, { only: new Set() }).ir.sites);
  const at = (snippet: string) => { const s = text.indexOf(snippet); return { start: s, end: s + snippet.length }; };
  const ledger: Finding = {
    rule: 'uref-parent-asymmetry', severity: 'error', function: 'prison_create', range: at('ppr->pr_uref++;'),
    message: 'ppr->pr_uref is taken once at creation but given back each time the child dies', steps: [],
    related: [{ range: at('pr->pr_uref++;\n\tmtx_unlock(&pr->pr_mtx);\n\tsx_sunlock'), message: 'revival here takes nothing' }],
  };
  const elsewhere: Finding = { ...ledger, related: [] };
  assert.deepEqual(findingsInScope([ledger, elsewhere], new Set(['do_jail_attach']), extents), [ledger]);

  // The same finding at another offset of a patched text is the same finding; another counter is not.
  const shifted = `/* one more line */\n${text}`;
  const moved: Finding = { ...ledger, range: { start: ledger.range.start + 20, end: ledger.range.end + 20 } };
  const other: Finding = { ...moved, message: 'ppr->pr_ref is taken once at creation but given back each time the child dies' };
  const c = classify({ findings: [ledger], text }, { findings: [moved, other], text: shifted }, DEFAULT_CONFIG);
  assert.deepEqual({ fixed: c.fixed.length, introduced: c.introduced, unchanged: c.unchanged.length }, { fixed: 0, introduced: [other], unchanged: 1 });
});

test('comparing two texts ignores a change of line endings: only the first patch\'s findings are introduced', () => {
  const r = reviewTexts(example(), firstPatch(example()).replace(/\n/g, '\r\n'), { service: service() });
  assert.equal(r.applied.hunks.length, 1);
  assert.deepEqual(r.introduced.map((f) => f.rule), ['lock-held-at-return', 'lock-double-acquire']);
});
