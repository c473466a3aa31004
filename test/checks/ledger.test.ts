/**
 * The parent-reference ledger (issue 3): the bug behind the seed thread is an
 * asymmetry between how a jail takes its parent's user reference and how it
 * gives it back; every correct discipline must be left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byRule, check, describe, example, lineOf, readFixture, service } from '../helpers';
import { secondPatch } from '../fixtures/seed/patches';
import { alternativeFix, everyAncestorAtCreation, revivalImpossible } from '../fixtures/ledger/variants';
import { LineIndex } from '../../server/src/lineIndex';
import { ledgerRows } from '../../server/src/cli/ledger';

const asymmetries = (text: string) => byRule(check(text), 'uref-parent-asymmetry');

test('the bundled example has exactly one asymmetry: the cascade gives back a parent reference that revivals never took', () => {
  const text = example();
  const found = asymmetries(text);
  assert.equal(found.length, 1, describe(check(text)));
  const f = found[0]!;
  assert.equal(f.function, 'prison_deref');
  assert.equal(f.line, lineOf(text, 'if (--tpr->pr_uref > 0)'));
  assert.match(f.message, /a dying jail revived by attaching a process or setting its persist flag and left again releases a parent reference it does not hold/);
  assert.match(f.message, /after enough cycles prison0's pr_uref reaches zero/);
  const index = new LineIndex(text);
  const related = f.related.map((r) => ({ line: index.position(r.range.start).line, message: r.message }));
  assert.deepEqual(related.map((r) => r.line), [
    lineOf(text, 'ppr->pr_uref++;'),
    lineOf(text, 'pr->pr_uref++;', { after: 'do_jail_attach(struct thread *td' }),
    lineOf(text, 'pr->pr_uref++;', { after: 'prison_set_persist(int jid' }),
  ]);
  assert.match(related[0]!.message, /taken here, once, when the jail is created \(prison_create\(\)\)/);
  assert.match(related[1]!.message, /do_jail_attach\(\) brings a dying jail back \(pr_uref 0 → 1\) without taking a reference on its parent/);
  assert.match(related[2]!.message, /prison_set_persist\(\) brings a dying jail back/);
});

test('with revival made impossible (attach and persist refuse a dying jail) the cascade alone is correct and not reported', () => {
  const found = asymmetries(revivalImpossible(example()));
  assert.deepEqual(found, [], describe(found));
});

test("the seed's second patch (the parent is released only when the child is freed) has no asymmetry", () => {
  const found = asymmetries(secondPatch(example()));
  assert.deepEqual(found, [], describe(found));
});

test("the maintainer's alternative fix (revival takes the parent's reference again) has no asymmetry", () => {
  const found = asymmetries(alternativeFix(example()));
  assert.deepEqual(found, [], describe(found));
});

test('creation taking a reference on every ancestor while death gives back only the parent is an asymmetry the other way', () => {
  const text = everyAncestorAtCreation(revivalImpossible(example()));
  const found = asymmetries(text);
  assert.equal(found.length, 1, describe(check(text)));
  const f = found[0]!;
  assert.equal(f.line, lineOf(text, 'if (--tpr->pr_uref > 0)'));
  assert.match(f.message, /creating a jail takes a reference on every ancestor's pr_uref, but tpr->pr_uref gives back only the parent's/);
  const index = new LineIndex(text);
  assert.deepEqual(f.related.map((r) => index.position(r.range.start).line), [lineOf(text, 'tpr->pr_uref++;')]);
});

test('the modern-style fixture (refcount(9), PD_KILL, parents released when freed) has no asymmetry', () => {
  const found = asymmetries(readFixture('test/fixtures/modern/kern_jail_modern.c'));
  assert.deepEqual(found, [], describe(found));
});

test('the ledger of the example lists each site with its line, whose counter it is, its transition and its event', () => {
  const text = example();
  const rows = ledgerRows(text, service().analyse(text).ledger.rows).filter((r) => r.counter === 'pr_uref');
  const has = (line: number, whose: string, transition: string, event: string, cause?: string): void => {
    assert.ok(rows.some((r) => r.line === line && r.whose === whose && r.transition === transition && r.event === event && (!cause || r.cause === cause)),
      `no row ${line} ${whose} ${transition} ${event} in\n${rows.map((r) => `${r.line} ${r.whose} ${r.transition} ${r.event} ${r.cause}`).join('\n')}`);
  };
  has(lineOf(text, 'ppr->pr_uref++;'), 'parent', 'rise', 'create', 'created');
  has(lineOf(text, 'pr->pr_uref++;', { after: 'do_jail_attach(struct thread *td' }), 'self', 'rise', 'attach');
  has(lineOf(text, 'pr->pr_uref++;', { after: 'prison_set_persist(int jid' }), 'self', 'rise', 'persist-set');
  // prison_proc_hold() asserts pr_uref > 0: a fork never revives a jail.
  has(lineOf(text, 'pr->pr_uref++;', { after: 'prison_proc_hold(struct prison *pr)' }), 'self', 'none', 'fork');
  const cascade = lineOf(text, 'if (--tpr->pr_uref > 0)');
  has(cascade, 'self', 'fall', 'dying');
  has(cascade, 'parent', 'fall', 'dying', 'fell');
  assert.ok(rows.filter((r) => r.line === cascade).every((r) => r.condition === 'flags & PD_DEUREF'));
});
