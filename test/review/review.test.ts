/**
 * Before and after: what each patch of the seed thread, the maintainer's
 * alternative, and a patch that only moves code fix and introduce, through
 * the one call a language-server feature will make.
 *
 * The real bug of the seed thread is the parent-reference asymmetry
 * (rule uref-parent-asymmetry, from the pr_uref ledger): prison_deref()'s
 * cascade gives back the parent's user reference each time a jail loses its
 * last one (line 393 of the example), while do_jail_attach() (line 166) and
 * prison_set_persist() (line 224) revive a dying jail without taking it
 * again; it is taken once, at creation, in prison_create() (line 96).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTwoFilesPatch } from 'diff';
import type { Finding } from '../../simulator/src/findings';
import { DEFAULT_CONFIG } from '../../simulator/src/config';
import { LineIndex } from '../../server/src/lineIndex';
import { patchAnchor, reviewPatch, ReviewResult, reviewTexts } from '../../server/src/review/reviewPatch';
import { PatchDoesNotApply } from '../../server/src/review/errors';
import { classify, classifyInScope, findingsInScope, functionExtents } from '../../server/src/review/compare';
import { check, describe as list, edit, example, lineOf, readFixture, service } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';

const fixture = (name: string): string => readFixture(`test/fixtures/patches/${name}`);
// These tests are about the static checks and the comparison itself; the simulator's interleaving
// findings in a review are the subject of simulated.test.ts.
const review = (base: string, patchName: string): ReviewResult =>
  reviewPatch(base, fixture(patchName), { service: service(), baseName: 'kern_jail_2011.c', patchName, simulate: false });

const lineIn = (text: string, f: { readonly range: { readonly start: number } }): number => new LineIndex(text).position(f.range.start).line;
const summary = (r: ReviewResult) => ({
  fixed: r.fixed.map((f) => `${f.rule}@${lineIn(r.baseText, f)}`),
  introduced: r.introduced.map((f) => `${f.rule}@${lineIn(r.patchedText, f)}`),
  unchanged: r.unchanged.map((u) => `${u.base.rule}@${lineIn(r.baseText, u.base)}->${lineIn(r.patchedText, u.patched)}`),
});
const describeResult = (r: ReviewResult): string => JSON.stringify(summary(r), null, 1);

/** The line of the cascade release, `if (--tpr->pr_uref > 0)`, in a version of the example. */
const cascadeLine = (text: string): number => lineOf(text, 'if (--tpr->pr_uref > 0)');
const REVIVED_BY_BOTH = /^a dying jail revived by attaching a process or setting its persist flag and left again releases a parent reference it does not hold: tpr->pr_uref gives back the parent's pr_uref each time a jail loses its last user reference, but the revival takes none; after enough cycles prison0's pr_uref reaches zero$/;
const relatedOf = (text: string, f: Finding): Array<[number, string]> => f.related.map((r) => [lineIn(text, r), r.message]);
/** The related sites of the example's asymmetry: its creation increment, and the two revivals. */
const asymmetrySites = (text: string): Array<[number, string]> => [
  [lineOf(text, 'ppr->pr_uref++;'), 'the parent\'s pr_uref is taken here, once, when the jail is created (prison_create())'],
  [lineOf(text, 'pr->pr_uref++;', { after: 'do_jail_attach(struct thread *td' }), 'do_jail_attach() brings a dying jail back (pr_uref 0 → 1) without taking a reference on its parent'],
  [lineOf(text, 'pr->pr_uref++;', { after: 'prison_set_persist(int jid' }), 'prison_set_persist() brings a dying jail back (pr_uref 0 → 1) without taking a reference on its parent'],
];

/** The example's parent-reference asymmetry, as found in `text`: at the cascade release, revived by attach and persist. */
function assertAsymmetry(text: string, f: Finding | undefined): void {
  assert.ok(f, 'no uref-parent-asymmetry finding');
  assert.equal(f.rule, 'uref-parent-asymmetry');
  assert.equal(f.function, 'prison_deref');
  assert.equal(lineIn(text, f), cascadeLine(text));
  assert.match(f.message, REVIVED_BY_BOTH);
  assert.deepEqual(relatedOf(text, f), asymmetrySites(text));
}

test('the bundled example has one parent-reference asymmetry: the cascade release at line 393, revived by attach (166) and persist (224), taken at creation (96)', () => {
  const found = check(example()).filter((f) => f.rule === 'uref-parent-asymmetry');
  assert.equal(found.length, 1, list(check(example())));
  assert.equal(found[0]!.line, 393);
  assertAsymmetry(example(), found[0]);
  assert.deepEqual(relatedOf(example(), found[0]!).map(([line]) => line), [96, 166, 224]);
});

test('the seed\'s first patch introduces the double acquire at the re-lock and the lock held at the PD_DEUREF-only return, fixes nothing, and leaves the parent-reference asymmetry unchanged', () => {
  const r = review(example(), 'seed-first-patch.diff');
  assert.deepEqual(r.scope.functions, ['prison_deref']);
  assert.deepEqual(r.fixed, [], describeResult(r));
  // It does not fix the real bug: the cascade release is where it was (the patch adds its lines after it).
  assert.equal(r.unchanged.length, 1, describeResult(r));
  const { base, patched } = r.unchanged[0]!;
  assert.deepEqual([lineIn(r.baseText, base), lineIn(r.patchedText, patched)], [393, 393]);
  assertAsymmetry(r.baseText, base);
  assertAsymmetry(r.patchedText, patched);

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

test('the seed\'s second patch applies, fixes the parent-reference asymmetry (shown at its base line 393), and introduces nothing', () => {
  const r = review(example(), 'seed-second-patch.diff');
  assert.deepEqual(r.scope.functions, ['prison_deref']);
  assert.equal(r.applied.hunks.length, 2);
  assert.deepEqual(summary(r), { fixed: ['uref-parent-asymmetry@393'], introduced: [], unchanged: [] });
  assertAsymmetry(r.baseText, r.fixed[0]);
});

test('the maintainer\'s alternative fix (revival takes the ancestors\' user references again) fixes the asymmetry in prison_deref() it does not touch, and introduces nothing', () => {
  const r = review(example(), 'alternative-fix.diff');
  assert.deepEqual(r.scope.functions, ['do_jail_attach', 'prison_create', 'prison_set_persist']);
  assert.match(r.patchedText, /revived = \(pr->pr_uref\+\+ == 0\);/);
  // In scope through its related sites, which are in the three functions the fix changes.
  assert.deepEqual(summary(r), { fixed: ['uref-parent-asymmetry@393'], introduced: [], unchanged: [] });
  assertAsymmetry(r.baseText, r.fixed[0]);
});

test('a patch that makes do_jail_attach() refuse a dying jail leaves the asymmetry unchanged: prison_set_persist() still revives one', () => {
  const r = review(example(), 'attach-refuses-dying.diff');
  assert.deepEqual(r.scope.functions, ['do_jail_attach']);
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: [`uref-parent-asymmetry@393->${cascadeLine(r.patchedText)}`] });
  assert.equal(cascadeLine(r.patchedText), 393 + 6);
  const { base, patched } = r.unchanged[0]!;
  assertAsymmetry(r.baseText, base);
  // After the patch the finding no longer points at do_jail_attach(): attach is not among its revivals.
  assert.equal(patched.function, 'prison_deref');
  assert.match(patched.message, /^a dying jail revived by setting its persist flag and left again releases a parent reference it does not hold: tpr->pr_uref gives back the parent's pr_uref/);
  assert.deepEqual(relatedOf(r.patchedText, patched), [asymmetrySites(r.patchedText)[0]!, asymmetrySites(r.patchedText)[2]!]);
  assert.deepEqual(relatedOf(r.patchedText, patched).map(([line]) => line), [96, 230]);
});

test('a patch that makes both do_jail_attach() and prison_set_persist() refuse a dying jail fixes the asymmetry, and introduces nothing', () => {
  const r = review(example(), 'attach-and-persist-refuse-dying.diff');
  assert.deepEqual(r.scope.functions, ['do_jail_attach', 'prison_set_persist']);
  assert.deepEqual(summary(r), { fixed: ['uref-parent-asymmetry@393'], introduced: [], unchanged: [] });
  assertAsymmetry(r.baseText, r.fixed[0]);
});

test('a patch that only moves code fixes nothing, introduces nothing, and leaves prison_deref()\'s asymmetry out of the comparison', () => {
  const r = review(example(), 'move-only.diff');
  assert.deepEqual(r.scope.functions, ['prison_hold', 'prison_hold_locked']);
  // The asymmetry is in prison_deref() and points at prison_create(), do_jail_attach() and prison_set_persist(): none is touched.
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: [] });
});

test('findings of code that moves are matched by what they point at, not by line: all three stay unchanged, 311 lines up', () => {
  const r = review(firstPatch(example()), 'move-prison-deref.diff');
  const ret = lineOf(r.patchedText, 'return;', { after: 'Done if there were only user references to remove.' });
  const relock = lineOf(r.patchedText, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
  const cascade = cascadeLine(r.patchedText);
  assert.deepEqual([cascade, ret, relock], [393 - 311, 406 - 311, 410 - 311]);
  assert.deepEqual(summary(r), {
    fixed: [],
    introduced: [],
    unchanged: [`uref-parent-asymmetry@393->${cascade}`, `lock-held-at-return@406->${ret}`, `lock-double-acquire@410->${relock}`],
  });
  // The functions its related sites are in moved down, under the 83 lines of prison_deref().
  const asymmetry = r.unchanged[0]!;
  assertAsymmetry(r.baseText, asymmetry.base);
  assertAsymmetry(r.patchedText, asymmetry.patched);
  assert.deepEqual(relatedOf(r.patchedText, asymmetry.patched).map(([line]) => line), [96 + 83, 166 + 83, 224 + 83]);
});

test('a patch that does not apply is refused before anything is analysed', () => {
  let analysed = 0;
  const counting = Object.create(service(), { analyse: { value: (...args: Parameters<ReturnType<typeof service>['analyse']>) => { analysed++; return service().analyse(...args); } } });
  assert.throws(() => reviewPatch(example(), fixture('does-not-apply.diff'), { service: counting }), PatchDoesNotApply);
  assert.equal(analysed, 0);
});

test('undoing the first patch fixes both of its findings, each shown at its line in the base, and leaves the asymmetry unchanged', () => {
  const r = reviewTexts(firstPatch(example()), example(), { service: service(), simulate: false });
  const base = firstPatch(example());
  assert.deepEqual(summary(r), {
    fixed: [`lock-held-at-return@${lineOf(base, 'return;', { after: 'Done if there were only' })}`, `lock-double-acquire@${lineOf(base, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' })}`],
    introduced: [],
    unchanged: ['uref-parent-asymmetry@393->393'],
  });
  assertAsymmetry(r.patchedText, r.unchanged[0]!.patched);
});

test('findings in functions the patch does not touch are left out', () => {
  // prison_deref() keeps its three findings, but the patch only touches prison_hold() and prison_hold_locked().
  const r = review(firstPatch(example()), 'move-only.diff');
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: [] });
});

test('a change outside any function (a #define) compares every function', () => {
  const base = firstPatch(example());
  const patched = edit(base, '#define\tJAIL_MAX\t999999', '#define\tJAIL_MAX\t99999');
  const r = reviewTexts(base, patched, { service: service(), simulate: false });
  assert.equal(r.scope.wholeFile, true);
  assert.ok(r.scope.functions.includes('prison_deref') && r.scope.functions.includes('prison_create'), r.scope.functions.join());
  assert.deepEqual(summary(r), { fixed: [], introduced: [], unchanged: ['uref-parent-asymmetry@393->393', 'lock-held-at-return@406->406', 'lock-double-acquire@410->410'] });
  assertAsymmetry(r.patchedText, r.unchanged[0]!.patched);
});

test('an introduced finding on an added line maps to that + line of the .diff file', () => {
  const base = example();
  const patched = edit(base, '\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);', '\tmtx_lock(&pr->pr_mtx);\n\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);');
  // As a mail would carry it: quoted, tabs gone.
  const mail = createTwoFilesPatch('a/kern_jail.c', 'b/kern_jail.c', base, patched).split('\n')
    .map((l) => `> ${l.replace(/\t/g, ' ')}`).join('\n');
  const r = reviewPatch(base, `Looks fine to me:\n\n${mail}\n`, { service: service(), simulate: false });
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
  const r = reviewPatch(base, patch, { service: service(), simulate: false });
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

test('a finding that points at a touched function in one version only is compared: unchanged when it is in both, left out when it is in scope in neither', () => {
  const text = example();
  const extents = functionExtents(text, service().analyse(text, { only: new Set() }).ir.sites);
  const at = (snippet: string, after?: string) => {
    const s = text.indexOf(snippet, after ? text.indexOf(after) : 0);
    return { start: s, end: s + snippet.length };
  };
  const revival = (fn: string) => ({ range: at('pr->pr_uref++;', `${fn}(`), message: `${fn}() brings a dying jail back` });
  const cascade: Finding = {
    rule: 'uref-parent-asymmetry', severity: 'error', function: 'prison_deref', range: at('--tpr->pr_uref > 0'),
    message: 'tpr->pr_uref gives back the parent\'s pr_uref each time', steps: [],
    related: [revival('do_jail_attach'), revival('prison_set_persist')],
  };
  const persistOnly: Finding = { ...cascade, related: [revival('prison_set_persist')] };
  const version = (findings: Finding[]) => ({ findings, text, extents });
  const attach = new Set(['do_jail_attach']);
  // Before: it points at do_jail_attach(); after: only at prison_set_persist(). The same finding, still there.
  assert.deepEqual(classifyInScope(version([cascade]), version([persistOnly]), attach, DEFAULT_CONFIG),
    { fixed: [], introduced: [], unchanged: [{ base: cascade, patched: persistOnly }] });
  // The other way round (a patch that lets attach revive again): unchanged too, not introduced.
  assert.deepEqual(classifyInScope(version([persistOnly]), version([cascade]), attach, DEFAULT_CONFIG),
    { fixed: [], introduced: [], unchanged: [{ base: persistOnly, patched: cascade }] });
  // Gone after the patch: fixed; new after it: introduced; pointing at no touched function in either: left out.
  assert.deepEqual(classifyInScope(version([cascade]), version([]), attach, DEFAULT_CONFIG), { fixed: [cascade], introduced: [], unchanged: [] });
  assert.deepEqual(classifyInScope(version([]), version([cascade]), attach, DEFAULT_CONFIG), { fixed: [], introduced: [cascade], unchanged: [] });
  assert.deepEqual(classifyInScope(version([persistOnly]), version([persistOnly]), attach, DEFAULT_CONFIG), { fixed: [], introduced: [], unchanged: [] });
  assert.deepEqual(classifyInScope(version([persistOnly]), version([]), attach, DEFAULT_CONFIG), { fixed: [], introduced: [], unchanged: [] });
});

test('comparing two texts ignores a change of line endings: only the first patch\'s findings are introduced', () => {
  const r = reviewTexts(example(), firstPatch(example()).replace(/\n/g, '\r\n'), { service: service(), simulate: false });
  assert.equal(r.applied.hunks.length, 1);
  assert.deepEqual(summary(r), {
    fixed: [],
    introduced: ['lock-held-at-return@406', 'lock-double-acquire@410'],
    unchanged: ['uref-parent-asymmetry@393->393'],
  });
});
