/**
 * #if/#ifdef inside function bodies. A group of whole statements is a
 * two-way preprocessor branch (both sides explored unless
 * vocabulary.defines decides); a group inside an expression or holding
 * half a statement is read as its first branch, with its directive lines
 * blanked so that no offset moves (server/src/parsing/preprocess.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FunctionIR } from '../../simulator/src/ir';
import { DEFAULT_CONFIG, resolveConfig } from '../../simulator/src/config';
import { prepareKernelSource } from '../../server/src/parsing/preprocess';
import { regionParser } from '../../server/src/parsing/region';
import { extractFile } from '../../server/src/extract/index';
import { service } from '../helpers';
import { FixtureCase, fixtureCase, loadFixture, mark } from './fixture';
import { blockAt, branchAt, branches, dump, extract, loopBlocks, opAt, ops, reachable, readFunction } from './irQuery';

const cases = loadFixture('preproc.c');

function read(name: string, fnName: string, defines?: Record<string, boolean>): { c: FixtureCase; fn: FunctionIR } {
  const c = fixtureCase(cases, name);
  const vocabulary = defines ? resolveConfig({ vocabulary: { defines } }).vocabulary : DEFAULT_CONFIG.vocabulary;
  return { c, fn: readFunction(extract(c.text, vocabulary), fnName) };
}

/** The preprocessor branch whose directive reads `text`. */
function directive(fn: FunctionIR, text: string): ReturnType<typeof branches>[number] {
  const found = branches(fn).filter((b) => b.term.origin === 'preprocessor' && b.term.condText === text);
  assert.equal(found.length, 1, `one branch for ${text}:\n${dump(fn)}`);
  return found[0]!;
}

function callees(fn: FunctionIR): string[] {
  return ops(fn).flatMap((p) => (p.op.kind === 'call' ? [p.op.callee] : []));
}

test('#ifdef VIMAGE … #else … #endif in a body is a preprocessor branch: one side each, both rejoining', () => {
  const { c, fn } = read('ifdef-else', 'prison_cleanup_vnet');
  const { term } = directive(fn, '#ifdef VIMAGE');
  assert.equal(c.text.slice(term.range.start, term.range.end), '#ifdef');
  assert.equal(term.cond.kind, 'unknown');
  const vimage = blockAt(fn, mark(c, 'vimage'));
  const novimage = blockAt(fn, mark(c, 'novimage'));
  const after = blockAt(fn, mark(c, 'after'));
  assert.ok(reachable(fn, term.whenTrue).has(vimage) && !reachable(fn, term.whenFalse).has(vimage), dump(fn));
  assert.ok(reachable(fn, term.whenFalse).has(novimage) && !reachable(fn, term.whenTrue).has(novimage), dump(fn));
  assert.ok(reachable(fn, term.whenTrue).has(after) && reachable(fn, term.whenFalse).has(after));
});

test('vocabulary.defines decides an #ifdef: VIMAGE defined keeps only the #ifdef side, undefined only the #else side', () => {
  const on = read('ifdef-else', 'prison_cleanup_vnet', { VIMAGE: true }).fn;
  assert.deepEqual(branches(on).filter((b) => b.term.origin === 'preprocessor'), []);
  assert.deepEqual(callees(on), ['vnet_destroy']);
  const off = read('ifdef-else', 'prison_cleanup_vnet', { VIMAGE: false }).fn;
  assert.deepEqual(branches(off).filter((b) => b.term.origin === 'preprocessor'), []);
  assert.deepEqual(callees(off), ['prison_nonet']);
});

test('#ifndef without #else may skip its body; defining the symbol removes the body', () => {
  const { c, fn } = read('ifndef', 'prison_check_nfs');
  const { term } = directive(fn, '#ifndef NFS_ROOT');
  const after = blockAt(fn, mark(c, 'after'));
  assert.ok(reachable(fn, term.whenFalse).has(after), 'the false side goes straight on');
  assert.equal(branches(fn).filter((b) => b.term.origin === 'if').length, 1);
  const defined = read('ifndef', 'prison_check_nfs', { NFS_ROOT: true }).fn;
  assert.equal(branches(defined).length, 0, dump(defined));
});

test('#if defined(A) || defined(B) / #elif / #else gives three exclusive paths', () => {
  const { c, fn } = read('if-defined', 'prison_family');
  const first = directive(fn, '#if defined(INET) || defined(INET6)').term;
  const elif = directive(fn, '#elif defined(NETLINK)');
  const ip = blockAt(fn, mark(c, 'ip'));
  const nl = blockAt(fn, mark(c, 'nl'));
  const none = blockAt(fn, mark(c, 'none'));
  assert.ok(reachable(fn, first.whenTrue).has(ip) && !reachable(fn, first.whenFalse).has(ip));
  assert.ok(reachable(fn, first.whenFalse).has(elif.block));
  assert.ok(reachable(fn, elif.term.whenTrue).has(nl) && !reachable(fn, elif.term.whenTrue).has(none));
  assert.ok(reachable(fn, elif.term.whenFalse).has(none) && !reachable(fn, elif.term.whenFalse).has(nl));
  // A condition that is not one `defined(X)` is not decided by the defines.
  const decided = read('if-defined', 'prison_family', { INET: true, INET6: true }).fn;
  assert.ok(branches(decided).some((b) => b.term.condText.startsWith('#if defined(INET) ||')));
});

test('#ifdef inside a while condition: the function is read, the condition keeps the #ifdef side, and offsets do not move', () => {
  const { c, fn } = read('in-condition', 'prison_find_vnet_root');
  const call = opAt(fn, mark(c, 'call'), 'call');
  assert.equal(c.text.slice(call.op.range.start, call.op.range.end), 'prison_is_root(pr1)');
  const step = opAt(fn, mark(c, 'step'), 'assign');
  assert.equal(c.text.slice(step.op.range.start, step.op.range.end), 'pr1 = pr1->pr_parent');
  // Three tests in a row: pr1 != &prison0, the VIMAGE one, then the call.
  const conds = branches(fn).map((b) => b.term.condText);
  assert.deepEqual(conds, ['pr1 != &prison0', 'prison_is_root(pr1)', 'pr1->pr_flags & PR_VNET']);
  const head = branches(fn).find((b) => b.term.origin === 'loop')!;
  assert.ok(loopBlocks(fn, head.block).has(step.block));
});

test('an #ifdef holding only an if\'s head: the if (on refcount_release\'s result) governs the statement after #endif', () => {
  const { c, fn } = read('half-if', 'prison_release_vnet');
  const release = opAt(fn, mark(c, 'release'), 'count');
  assert.equal(release.op.callee, 'refcount_release');
  const ifBranch = branches(fn).find((b) => b.term.origin === 'if')!;
  assert.deepEqual(ifBranch.term.cond, { kind: 'temp', id: release.op.result });
  const free = blockAt(fn, mark(c, 'free'));
  const after = blockAt(fn, mark(c, 'after'));
  assert.ok(reachable(fn, ifBranch.term.whenTrue).has(free));
  assert.ok(!reachable(fn, ifBranch.term.whenFalse).has(free), dump(fn));
  assert.ok(reachable(fn, ifBranch.term.whenFalse).has(after));
});

test('a label followed by #ifdef: the goto lands on the label and runs into the preprocessor branch', () => {
  const { c, fn } = read('label-ifdef', 'prison_attach_label');
  const label = fn.blocks.find((b) => b.label === 'done');
  assert.ok(label, dump(fn));
  const racct = blockAt(fn, mark(c, 'racct'));
  const ret = blockAt(fn, mark(c, 'ret'));
  assert.ok(reachable(fn, label.id).has(racct));
  assert.ok(reachable(fn, label.id).has(ret));
  assert.ok(reachable(fn, blockAt(fn, mark(c, 'hold'))).has(label.id), 'the fall-through reaches the label too');
  const errorTest = branches(fn).find((b) => b.term.condText === 'error != 0')!;
  assert.ok(!reachable(fn, errorTest.term.whenTrue).has(blockAt(fn, mark(c, 'hold'))), 'the goto skips prison_hold');
});

test('#ifdef/#else inside a call\'s arguments reads as the #ifdef side, each argument at its own offset', () => {
  const { c, fn } = read('in-arguments', 'prison_sysctl_flags');
  const call = opAt(fn, mark(c, 'call'), 'call');
  assert.equal(call.op.callee, 'prison_flags_of');
  assert.deepEqual(call.op.argTexts, ['pr', 'PR_IP4_USER', 'PR_PERSIST']);
  assert.ok(c.text.slice(call.op.range.start, call.op.range.end).startsWith('prison_flags_of(pr,\n'));
});

test('#ifdef VIMAGE with a continue inside a _LOCKED loop body: both sides inside the loop', () => {
  const { c, fn } = read('in-loop-body', 'prison_propagate_vnet');
  const head = branchAt(fn, mark(c, 'header'), 'macro-loop');
  const inside = loopBlocks(fn, head.block);
  const pp = branches(fn).find((b) => b.term.origin === 'preprocessor')!;
  assert.ok(inside.has(pp.block) && inside.has(blockAt(fn, mark(c, 'body'))), dump(fn));
  const release = ops(fn).find((p) => p.op.kind === 'scope-lock' && p.op.action === 'release')!;
  const vnet = branches(fn).find((b) => b.term.condText === 'tpr->pr_flags & PR_VNET')!;
  assert.ok(!reachable(fn, vnet.term.whenTrue, release.block).has(head.block), 'the continue passes the release');
});

test('nested #ifdefs: the inner one is reached only through the outer one\'s defined side', () => {
  const { c, fn } = read('nested', 'prison_nested_ifdef');
  const pps = branches(fn).filter((b) => b.term.origin === 'preprocessor');
  assert.deepEqual(pps.map((b) => b.term.condText), ['#ifdef INET', '#ifdef INET6']);
  const [outer, inner] = pps;
  assert.ok(reachable(fn, outer!.term.whenTrue).has(inner!.block));
  assert.ok(!reachable(fn, outer!.term.whenFalse).has(inner!.block));
  assert.ok(reachable(fn, inner!.term.whenTrue).has(blockAt(fn, mark(c, 'inet6'))));
  assert.ok(reachable(fn, outer!.term.whenFalse).has(blockAt(fn, mark(c, 'after'))));
});

/** Extraction with the defines applied to expression-level groups too (prepareKernelSource's second argument). */
function readWithDefines(name: string, fnName: string, defines: Record<string, boolean>): FunctionIR {
  const c = fixtureCase(cases, name);
  const text = prepareKernelSource(c.text, defines);
  const parser = service().parser;
  const vocabulary = resolveConfig({ vocabulary: { defines } }).vocabulary;
  return readFunction(extractFile(parser.parse(text).rootNode, text, { vocabulary, reparse: regionParser(parser) }), fnName);
}

test('vocabulary.defines also chooses the side of an #ifdef inside an expression; undecided, it is the #ifdef side', () => {
  const conds = (fn: FunctionIR) => branches(fn).map((b) => b.term.condText);
  assert.deepEqual(conds(readWithDefines('in-condition', 'prison_find_vnet_root', { VIMAGE: false })),
    ['pr1 != &prison0', 'prison_is_root(pr1)']);
  assert.deepEqual(conds(readWithDefines('in-condition', 'prison_find_vnet_root', { VIMAGE: true })),
    ['pr1 != &prison0', 'prison_is_root(pr1)', 'pr1->pr_flags & PR_VNET']);
  assert.deepEqual(conds(readWithDefines('in-condition', 'prison_find_vnet_root', {})),
    ['pr1 != &prison0', 'prison_is_root(pr1)', 'pr1->pr_flags & PR_VNET']);
  const args = (defines: Record<string, boolean>) => {
    const fn = readWithDefines('in-arguments', 'prison_sysctl_flags', defines);
    return ops(fn).flatMap((p) => (p.op.kind === 'call' ? [p.op.argTexts] : []));
  };
  assert.deepEqual(args({ INET: false }), [['pr', '0', 'PR_PERSIST']]);
  assert.deepEqual(args({ INET: true }), [['pr', 'PR_IP4_USER', 'PR_PERSIST']]);
  // #ifdef VIMAGE holding an if's head: without VIMAGE the free is unconditional.
  const half = readWithDefines('half-if', 'prison_release_vnet', { VIMAGE: false });
  assert.deepEqual(branches(half), []);
  assert.deepEqual(ops(half).flatMap((p) => (p.op.kind === 'call' ? [p.op.callee] : [])), ['free']);
});

test('#if 0 around case labels (a half-statement group) leaves those labels out of the switch', () => {
  const { fn } = read('if-zero-cases', 'prison_priv_allowed');
  assert.deepEqual(branches(fn).map((b) => b.term.condText), ['(priv) == PRIV_KTRACE', '(priv) == PRIV_CRED_SETUID']);
});

test('every preprocessor fixture case is read without a problem', () => {
  for (const c of cases) {
    const ir = extract(c.text);
    assert.ok(ir.functions.length > 0, c.name);
    for (const f of ir.functions) assert.deepEqual(f.problems, [], `${c.name}: ${f.name}`);
    assert.deepEqual(ir.problems, [], c.name);
  }
});

// Lines a kern_jail.c body is made of, directives included, for the property below.
const LINE = fc.constantFrom(
  '#ifdef VIMAGE', '#ifndef INET', '#if defined(INET) || defined(INET6)', '#elif defined(X)', '#else', '#endif',
  '\tif (pr->pr_ref > 0 &&', '\t    !(pr->pr_flags & PR_VNET))', '\t\tmtx_lock(&pr->pr_mtx);', '\t}', '\t} else {',
  ' done:', '\tf(a,', '\t    b);', '\t/* a (comment */', '\tx = "str ( ing";', 'static SYSCTL_NODE(_a, OID_AUTO, b, 0, 0, "c");',
  'SYSCTL_JAIL_PARAM(, jid, CTLTYPE_INT, "I", "Jail ID");', 'prison_task(void *arg __unused, int p __unused)', '{', '}', '',
);

const DEFINES = fc.dictionary(fc.constantFrom('VIMAGE', 'INET', 'INET6', 'X'), fc.boolean());

test('prepareKernelSource never moves an offset: same length, same line breaks, only blanks or same-length spellings change', () => {
  fc.assert(fc.property(fc.array(LINE, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'), DEFINES, (lines, eol, defines) => {
    const text = lines.join(eol);
    const out = prepareKernelSource(text, defines);
    assert.equal(out.length, text.length);
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '\n' || text[i] === '\r') assert.equal(out[i], text[i], `line break at ${i}`);
      else if (out[i] !== text[i]) assert.ok(out[i] === ' ' || (text.slice(i - 1, i + 1) === '(,' && out[i] === '0') || (text[i - 1] === ',' && out[i] === ','),
        `offset ${i}: ${JSON.stringify(text[i])} became ${JSON.stringify(out[i])}`);
    }
  }), { numRuns: 300 });
});
