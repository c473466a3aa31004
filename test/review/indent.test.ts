/**
 * Indentation for the lines a whitespace-mangled patch adds, from the
 * lines before them, the way style(9) indents kernel C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indentFor, indentUnit } from '../../server/src/review/indent';

const fn = [
  'static void',
  'prison_deref(struct prison *pr, int flags)',
  '{',
  '\tstruct prison *ppr, *tpr;',
  '',
  '\tif (flags & PD_DEUREF) {',
];

test('a line after an opening brace goes one tab deeper', () => {
  assert.equal(indentFor(fn, ' pr->pr_uref--;'), '\t\t');
});

test('the body of a brace-less if goes one tab deeper, and the statement after it comes back out', () => {
  const lines = [...fn, '\t\tif (tpr != pr)'];
  assert.equal(indentFor(lines, 'mtx_unlock(&tpr->pr_mtx);'), '\t\t\t');
  assert.equal(indentFor([...lines, '\t\t\tmtx_unlock(&tpr->pr_mtx);'], 'break;'), '\t\t');
  assert.equal(indentFor([...fn, '\t\telse'], 'x = 1;'), '\t\t\t');
});

test('a closing brace comes out one level, or stays level after an empty block', () => {
  assert.equal(indentFor([...fn, '\t\tpr->pr_uref--;'], '}'), '\t');
  assert.equal(indentFor(fn, '}'), '\t');
});

test('an unfinished parenthesis continues four spaces in, and the statement after it returns to its first line', () => {
  const call = [...fn, '\t\tprison_deref(pr, PD_DEREF | PD_DEUREF | PD_LOCKED |'];
  assert.equal(indentFor(call, 'PD_LIST_XLOCKED);'), '\t\t    ');
  assert.equal(indentFor([...call, '\t\t    PD_LIST_XLOCKED);'], 'return (0);'), '\t\t');
  const cond = [...fn, '\t\tif (p->p_state != PRS_NEW &&'];
  assert.equal(indentFor([...cond, '\t\t    p->p_ucred->cr_prison == pr)'], 'kern_psignal(p, SIGKILL);'), '\t\t\t');
});

test('comments, labels and preprocessor lines', () => {
  assert.equal(indentFor([...fn, '\t\t/*'], '* Drop the reference.'), '\t\t ');
  assert.equal(indentFor([...fn, '\t\t/*', '\t\t * Drop the reference.'], '*/'), '\t\t ');
  assert.equal(indentFor([...fn, '\t\t/* One line. */'], 'x--;'), '\t\t');
  assert.equal(indentFor(fn, 'e_revert:'), ' ');
  assert.equal(indentFor([...fn, ' e_revert:'], 'prison_deref(pr, PD_DEREF);'), '\t');
  assert.equal(indentFor(fn, '#ifdef INET'), '');
  assert.equal(indentFor([...fn, '#ifdef INET'], 'x++;'), '\t\t');
});

test('the unit is a tab for kernel C, and the file\'s own step where it indents with spaces', () => {
  assert.equal(indentUnit(fn), '\t');
  assert.equal(indentUnit(['int', 'f(void)', '{', '    if (x) {', '        y();', '    }', '}']), '    ');
});
