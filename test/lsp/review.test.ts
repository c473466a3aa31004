/**
 * Patch review in the editor, over the protocol: a .diff opened in the
 * editor is applied to the kern_jail.c its header names in the workspace,
 * and its verdict is published on the patch's own lines; and while a
 * kern_jail.c in a git checkout is edited, findings HEAD does not have are
 * marked as new. The server is the bundled dist/server.js, over stdio.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { example, readFixture, service } from '../helpers';
import { LineIndex } from '../../server/src/lineIndex';
import { patchAnchor, reviewPatch } from '../../server/src/review';
import { locateOnDisk } from '../../server/src/lsp/patchReview';
import { Diagnostic, LspClient, PublishDiagnosticsParams, ROOT } from './lspClient';

const EXAMPLE = example();
const QUIET = { debounceMs: 0, simulator: { background: false } };
const INFORMATION = 3;
const WARNING = 2;
const ERROR = 1;

/** The patch fixtures without their explanatory preamble (what a reviewer saves from the mail is the same). */
const FIRST = readFixture('test/fixtures/patches/seed-first-patch.diff');
const SECOND = readFixture('test/fixtures/patches/seed-second-patch.diff');
const BROKEN = readFixture('test/fixtures/patches/does-not-apply.diff');
const ALTERNATIVE = readFixture('test/fixtures/patches/alternative-fix.diff');

function show(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `${d.range.start.line + 1} [${d.severity}] ${d.code}: ${d.message}`).join('\n') || '(none)';
}

/** A workspace holding the example where the seed's patches say it is. */
function workspace(): { root: string; base: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-review-'));
  const base = path.join(root, 'sys', 'kern', 'kern_jail.c');
  fs.mkdirSync(path.dirname(base), { recursive: true });
  fs.writeFileSync(base, EXAMPLE);
  return { root, base };
}

/** A git repository in a new temporary folder, holding kern_jail.c with `text`, committed. */
function committedRepo(prefix: string, text: string): { repo: string; file: string; git: (...args: string[]) => Buffer } {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(repo, 'kern_jail.c');
  fs.writeFileSync(file, text);
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { stdio: 'pipe' });
  git('init', '-q');
  git('add', 'kern_jail.c');
  git('commit', '-q', '-m', 'base');
  return { repo, file, git };
}

async function start(root: string): Promise<LspClient> {
  const client = await LspClient.start({ initializationOptions: QUIET, rootUri: pathToFileURL(root).href });
  return client;
}

function openPatch(client: LspClient, uri: string, text: string): Promise<PublishDiagnosticsParams> {
  const published = client.diagnostics(uri, 1, 60_000);
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'diff', version: 1, text } });
  return published;
}

/** The patch line a diagnostic is on, as written in the patch (quoting included). */
function lineText(text: string, d: Diagnostic): string {
  return new LineIndex(text).lineText(d.range.start.line + 1);
}

/** A patch line without its mail quoting: "+ if (tpr != pr)". */
function unquoted(line: string): string {
  return line.replace(/^(?:> ?)+/, '');
}

describe('a patch opened in the editor is reviewed against the workspace\'s kern_jail.c', () => {
  let client: LspClient;
  let ws: { root: string; base: string };
  before(async () => {
    ws = workspace();
    client = await start(ws.root);
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    fs.rmSync(ws.root, { recursive: true, force: true });
  });

  test('the seed\'s first patch: a warning summary on line 1, and the double acquire and the lock held at return on + lines', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'first.diff')).href;
    const published = await openPatch(client, uri, FIRST);
    const [summary, ...rest] = published.diagnostics;
    assert.equal(summary?.range.start.line, 0, show(published.diagnostics));
    assert.equal(summary?.severity, WARNING);
    assert.match(summary!.message, /^this patch fixes 0, introduces 2, leaves \d+ unchanged \(against sys\/kern\/kern_jail\.c\)$/);
    const introduced = rest.filter((d) => d.message.startsWith('introduces: '));
    assert.deepEqual(introduced.map((d) => d.code).sort(), ['lock-double-acquire', 'lock-held-at-return'], show(published.diagnostics));
    for (const d of introduced) {
      assert.equal(d.severity, ERROR);
      const line = unquoted(lineText(FIRST, d));
      assert.ok(line.startsWith('+'), `${d.code} is on a + line of the patch, not "${line}"`);
    }
    // Both are reported outside the hunk (the re-lock after the loop, the return): each is shown on
    // the + line that stopped releasing the lock, and says where it is reported, as review does.
    const result = reviewPatch(EXAMPLE, FIRST, { service: service(), baseName: 'kern_jail.c', simulate: false });
    const twice = introduced.find((d) => d.code === 'lock-double-acquire')!;
    assert.match(unquoted(lineText(FIRST, twice)), /^\+\s*mtx_unlock\(&tpr->pr_mtx\);/);
    const at = new LineIndex(result.patchedText).position(result.introduced.find((f) => f.rule === 'lock-double-acquire')!.range.start).line;
    assert.ok(twice.message.endsWith(`(reported at line ${at} of the patched file, outside the patch)`), twice.message);
    assert.ok((twice.relatedInformation ?? []).length > 0, 'the path of the double acquire is related information');
    assert.equal(rest.filter((d) => d.message.startsWith('fixes: ')).length, 0, 'the first patch fixes nothing');
  });

  test('the seed\'s second patch: an information summary, the asymmetry fixed, and on the line the jailcheck review anchors it to', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'second.patch')).href;
    const published = await openPatch(client, uri, SECOND);
    const [summary, ...rest] = published.diagnostics;
    assert.equal(summary?.severity, INFORMATION, show(published.diagnostics));
    assert.match(summary!.message, /^this patch fixes 1, introduces 0, /);
    const fixed = rest.filter((d) => d.message.startsWith('fixes: '));
    assert.deepEqual(fixed.map((d) => d.code), ['uref-parent-asymmetry'], show(published.diagnostics));
    assert.equal(fixed[0]!.severity, INFORMATION);
    // Where the command line's review puts the same finding.
    const result = reviewPatch(EXAMPLE, SECOND, { service: service(), baseName: 'kern_jail.c', simulate: false });
    const f = result.fixed.find((x) => x.rule === 'uref-parent-asymmetry')!;
    const anchor = patchAnchor(result, 'base', new LineIndex(result.baseText).position(f.range.start).line)!;
    assert.equal(fixed[0]!.range.start.line + 1, anchor.patchLine);
    assert.equal(rest.filter((d) => d.message.startsWith('introduces: ')).length, 0);
  });

  test('the verdict is also a code lens above the first line', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'second.patch')).href;
    const lenses = await client.request<Array<{ range: { start: { line: number } }; command: { title: string } }>>('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0]!.range.start.line, 0);
    assert.match(lenses[0]!.command.title, /^jailcheck: fixes 1, introduces 0, leaves \d+ unchanged \(against sys\/kern\/kern_jail\.c\)$/);
  });

  test('a patch that does not apply: one error on the failing hunk\'s header, naming the expected line; the base file is untouched', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'broken.diff')).href;
    const published = await openPatch(client, uri, BROKEN);
    assert.equal(published.diagnostics.length, 1, show(published.diagnostics));
    const d = published.diagnostics[0]!;
    assert.equal(d.severity, ERROR);
    assert.match(d.message, /^hunk \d+ \(@@ [^)]*, line \d+ of broken\.diff\) does not apply to sys\/kern\/kern_jail\.c: /);
    assert.match(unquoted(lineText(BROKEN, d)), /^@@ /, 'the error is on the hunk header');
    assert.equal(fs.readFileSync(ws.base, 'utf8'), EXAMPLE);
  });

  test('an edit of the open base file reviews the open patch again, against the unsaved text', async () => {
    const patchUri = pathToFileURL(path.join(ws.root, 'second.patch')).href;
    const baseUri = pathToFileURL(ws.base).href;
    await client.open(baseUri, EXAMPLE);
    // A line the patch removes, changed in the editor and not saved: the patch no longer applies.
    const edited = EXAMPLE.replace('if (--tpr->pr_uref > 0)', 'if (--tpr->pr_uref > 1)');
    assert.notEqual(edited, EXAMPLE);
    const again = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === patchUri, 60_000);
    client.notify('textDocument/didChange', { textDocument: { uri: baseUri, version: 2 }, contentChanges: [{ text: edited }] });
    const published = await again;
    assert.equal(published.diagnostics.length, 1, show(published.diagnostics));
    assert.match(published.diagnostics[0]!.message, /does not apply to sys\/kern\/kern_jail\.c: expected "if \(--tpr->pr_uref > 0\)"/);
    assert.equal(fs.readFileSync(ws.base, 'utf8'), EXAMPLE, 'the file on disk is not written');
    // Back as it was: the verdict is back too.
    const restored = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === patchUri, 60_000);
    client.notify('textDocument/didChange', { textDocument: { uri: baseUri, version: 3 }, contentChanges: [{ text: EXAMPLE }] });
    assert.match((await restored).diagnostics[0]!.message, /^this patch fixes 1, introduces 0, /);
    client.notify('textDocument/didClose', { textDocument: { uri: baseUri } });
  });

  test('jailcheck.reviewPatch reviews a patch file against the C file given and returns the verdict', async () => {
    const file = path.join(ws.root, 'mail.txt');
    fs.writeFileSync(file, FIRST);
    const verdict = await client.request<{ fixed: number; introduced: number; summary: string; baseUri: string }>('workspace/executeCommand', {
      command: 'jailcheck.reviewPatch', arguments: [{ patchUri: pathToFileURL(file).href, baseUri: pathToFileURL(ws.base).href }],
    }, 60_000);
    assert.equal(verdict.fixed, 0);
    assert.equal(verdict.introduced, 2);
    assert.equal(verdict.baseUri, pathToFileURL(ws.base).href);
  });

  test('a patch that also changes a header is reviewed against kern_jail.c, not the header', async () => {
    fs.mkdirSync(path.join(ws.root, 'sys', 'sys'), { recursive: true });
    fs.writeFileSync(path.join(ws.root, 'sys', 'sys', 'jail.h'), '#define\tPR_PERSIST\t0x00000001\n');
    const header = '--- a/sys/sys/jail.h\n+++ b/sys/sys/jail.h\n@@ -1 +1,2 @@\n #define\tPR_PERSIST\t0x00000001\n+#define\tPR_REVIVED\t0x00000002\n';
    const both = header + ALTERNATIVE.slice(ALTERNATIVE.indexOf('--- ')).replace(/examples\/kern_jail_2011\.c/g, 'sys/kern/kern_jail.c');
    const uri = pathToFileURL(path.join(ws.root, 'two-files.diff')).href;
    const published = await openPatch(client, uri, both);
    assert.match(published.diagnostics[0]!.message, /^this patch fixes 1, introduces 0, leaves \d+ unchanged \(against sys\/kern\/kern_jail\.c\)$/, show(published.diagnostics));
    assert.deepEqual(published.diagnostics.filter((d) => d.message.startsWith('fixes: ')).map((d) => d.code), ['uref-parent-asymmetry']);
  });

  test('a .diff that is not a patch gets one error saying so', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'notes.diff')).href;
    const published = await openPatch(client, uri, 'These are my notes on prison_deref(), not a patch.\n');
    assert.equal(published.diagnostics.length, 1, show(published.diagnostics));
    assert.equal(published.diagnostics[0]!.severity, ERROR);
    assert.match(published.diagnostics[0]!.message, /^notes\.diff: no unified-diff hunk \(a line like "@@ -390,8 \+391,8 @@"\) found; is this a patch\?$/);
  });

  test('a patch whose file is nowhere in the workspace gets one note saying what it looked for', async () => {
    const uri = pathToFileURL(path.join(ws.root, 'other.diff')).href;
    const other = FIRST.replace(/sys\/kern\/kern_jail\.c/g, 'sys/kern/kern_prison.c');
    const published = await openPatch(client, uri, other);
    assert.equal(published.diagnostics.length, 1, show(published.diagnostics));
    assert.equal(published.diagnostics[0]!.severity, INFORMATION);
    assert.match(published.diagnostics[0]!.message, /^no base file for this patch: it names sys\/kern\/kern_prison\.c(\.orig)?/);
  });
});

describe('findings new since HEAD', () => {
  let client: LspClient;
  let repo: string;
  before(async () => {
    repo = committedRepo('jailcheck-head-', EXAMPLE).repo;
    client = await start(repo);
  });
  after(async () => {
    assert.equal(await client.shutdown(), 0);
    fs.rmSync(repo, { recursive: true, force: true });
  });

  test('a double unlock typed into a committed kern_jail.c is marked new; the asymmetry HEAD already has is not', async () => {
    const uri = pathToFileURL(path.join(repo, 'kern_jail.c')).href;
    // Version 1 is published at once; once git has answered, the same version is published again, compared.
    const compared = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.some((d) => (d as { data?: { sinceHead?: string } }).data?.sinceHead !== undefined), 60_000);
    await client.open(uri, EXAMPLE);
    const first = await compared;
    assert.ok(first.diagnostics.every((d) => !d.message.endsWith('(new since HEAD)')), show(first.diagnostics));

    const edited = EXAMPLE.replace('\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n', '\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n\t\t\tmtx_unlock(&pr->pr_mtx);\n');
    assert.notEqual(edited, EXAMPLE);
    const published = await client.change(uri, 2, { text: edited });
    const marked = published.diagnostics as Array<Diagnostic & { data?: { sinceHead?: string } }>;
    const fresh = marked.filter((d) => d.data?.sinceHead === 'new');
    assert.ok(fresh.some((d) => d.code === 'lock-release-not-held' && d.range.start.line + 1 === edited.slice(0, edited.indexOf('\t\t\tmtx_unlock(&pr->pr_mtx);\n\t\t\tmtx_unlock')).split('\n').length + 1), show(marked));
    // New means: not among HEAD's findings (here, version 1's, which is HEAD's text), matched by rule and message.
    const inHead = new Set(first.diagnostics.map((d) => `${d.code} ${d.message}`));
    for (const d of marked) {
      const isNew = !inHead.has(`${d.code} ${d.message.replace(/ \(new since HEAD\)$/, '')}`);
      assert.equal(d.data?.sinceHead, isNew ? 'new' : 'head', `${d.code} at line ${d.range.start.line + 1}`);
      assert.equal(d.message.endsWith(' (new since HEAD)'), isNew);
    }
    const asymmetry = marked.find((d) => d.code === 'uref-parent-asymmetry');
    assert.equal(asymmetry?.data?.sinceHead, 'head');
    assert.ok(!asymmetry!.message.includes('new since HEAD'));
  });
});

describe('a commit made while the file is open', () => {
  test('is noticed without an edit: what was new since HEAD is HEAD\'s once committed', async () => {
    const { repo, file, git } = committedRepo('jailcheck-commit-', EXAMPLE);
    const client = await start(repo);
    try {
      type Marked = Diagnostic & { data?: { sinceHead?: string } };
      const uri = pathToFileURL(file).href;
      const edited = EXAMPLE.replace('\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n', '\t\tif (pr->pr_ref > 0) {\n\t\t\tmtx_unlock(&pr->pr_mtx);\n\t\t\tmtx_unlock(&pr->pr_mtx);\n');
      const release = (p: PublishDiagnosticsParams) => (p.diagnostics as Marked[]).find((d) => d.code === 'lock-release-not-held');
      const marked = (state: string) => client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && release(p)?.data?.sinceHead === state, 30_000);
      const asNew = marked('new');
      await client.open(uri, edited);
      await asNew;
      // Saved and committed from a terminal; the editor sends nothing.
      const asHead = marked('head');
      fs.writeFileSync(file, edited);
      git('commit', '-q', '-am', 'the double unlock');
      const published = await asHead;
      assert.ok(!release(published)!.message.includes('new since HEAD'));
    } finally {
      assert.equal(await client.shutdown(), 0);
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('a patch review with the simulator on (the editor\'s default)', () => {
  test('the seed\'s second patch fixes the asymmetry and the revival counterexample, and introduces nothing', async () => {
    const ws = workspace();
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 }, rootUri: pathToFileURL(ws.root).href });
    try {
      const uri = pathToFileURL(path.join(ws.root, 'second.patch')).href;
      const published = await openPatch(client, uri, SECOND);
      assert.match(published.diagnostics[0]!.message, /^this patch fixes 2, introduces 0, /, show(published.diagnostics));
      const fixed = published.diagnostics.filter((d) => d.message.startsWith('fixes: '));
      assert.deepEqual(fixed.map((d) => d.code).sort(), ['interleaving-violation', 'uref-parent-asymmetry'], show(published.diagnostics));
      assert.match(fixed.find((d) => d.code === 'interleaving-violation')!.message, /prison0\.pr_uref reached 0/);
    } finally {
      assert.equal(await client.shutdown(), 0);
      fs.rmSync(ws.root, { recursive: true, force: true });
    }
  });
});

describe('interleaving findings new since HEAD', () => {
  test('with the seed\'s first patch typed over a committed example, its lock recursion is new and the revival counterexample is HEAD\'s', async () => {
    const { repo } = committedRepo('jailcheck-head-sim-', EXAMPLE);
    const client = await LspClient.start({ initializationOptions: { debounceMs: 0 }, rootUri: pathToFileURL(repo).href });
    try {
      const uri = pathToFileURL(path.join(repo, 'kern_jail.c')).href;
      const patched = reviewPatch(EXAMPLE, FIRST, { service: service(), baseName: 'kern_jail.c', simulate: false }).patchedText;
      type Marked = Diagnostic & { data?: { sinceHead?: string } };
      const interleavings = (p: PublishDiagnosticsParams) => (p.diagnostics as Marked[]).filter((d) => d.code === 'interleaving-violation');
      // Published once the working text's simulation and HEAD's are both done, and compared.
      const compared = client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics',
        (p) => p.uri === uri && interleavings(p).length > 0 && interleavings(p).every((d) => d.data?.sinceHead !== undefined), 90_000);
      client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: patched } });
      const published = interleavings(await compared);
      const recursion = published.find((d) => /A\.pr_mtx is already held by this thread/.test(d.message));
      assert.ok(recursion, show(published));
      assert.equal(recursion.data?.sinceHead, 'new');
      assert.ok(recursion.message.endsWith(' (new since HEAD)'));
      const revival = published.find((d) => /prison0\.pr_uref reached 0/.test(d.message));
      assert.ok(revival, show(published));
      assert.equal(revival.data?.sinceHead, 'head');
      assert.ok(!revival.message.includes('new since HEAD'));
    } finally {
      assert.equal(await client.shutdown(), 0);
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('workspace folders', () => {
  test('a folder added after the server started is searched for a patch\'s base file', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-empty-'));
    const ws = workspace();
    const client = await LspClient.start({ initializationOptions: QUIET, rootUri: pathToFileURL(empty).href, workspaceFolders: true });
    try {
      client.notify('workspace/didChangeWorkspaceFolders', { event: { added: [{ uri: pathToFileURL(ws.root).href, name: 'src' }], removed: [] } });
      const published = await openPatch(client, pathToFileURL(path.join(empty, 'second.patch')).href, SECOND);
      assert.match(published.diagnostics[0]!.message, /^this patch fixes 1, introduces 0, .*\(against sys\/kern\/kern_jail\.c\)$/, show(published.diagnostics));
    } finally {
      assert.equal(await client.shutdown(), 0);
      fs.rmSync(ws.root, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('finding a patch\'s base on disk', () => {
  test('a name is tried with leading parts stripped, like patch -p, and never climbs out of the workspace, whatever its separators', () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-locate-'));
    try {
      const root = path.join(top, 'src');
      fs.mkdirSync(path.join(root, 'sys', 'kern'), { recursive: true });
      fs.mkdirSync(path.join(top, 'secret'), { recursive: true });
      fs.writeFileSync(path.join(root, 'sys', 'kern', 'kern_jail.c'), EXAMPLE);
      fs.writeFileSync(path.join(top, 'secret', 'keys.c'), 'int key;\n');
      assert.equal(locateOnDisk(['a/usr/src/sys/kern/kern_jail.c'], [root]), path.join(root, 'sys', 'kern', 'kern_jail.c'));
      assert.equal(locateOnDisk(['sys\\kern\\kern_jail.c'], [root]), path.join(root, 'sys', 'kern', 'kern_jail.c'));
      assert.equal(locateOnDisk(['../secret/keys.c'], [root]), undefined);
      assert.equal(locateOnDisk(['..\\secret\\keys.c'], [root]), undefined);
    } finally {
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
});

describe('an untrusted workspace', () => {
  test('runs no git: findings are not compared with HEAD', async () => {
    const { repo } = committedRepo('jailcheck-untrusted-', EXAMPLE);
    const uri = pathToFileURL(path.join(repo, 'kern_jail.c')).href;
    const run = async (trusted: boolean): Promise<{ logs: string[]; marked: boolean }> => {
      const client = await LspClient.start({ initializationOptions: { ...QUIET, trusted }, rootUri: pathToFileURL(repo).href });
      try {
        await client.open(uri, EXAMPLE);
        // What the trusted server does within this time, the untrusted one must not do at all.
        const compared = await client.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics',
          (p) => p.uri === uri && p.diagnostics.some((d) => (d as { data?: { sinceHead?: string } }).data?.sinceHead !== undefined), 10_000)
          .then(() => true, () => false);
        return { logs: client.logs(), marked: compared };
      } finally {
        assert.equal(await client.shutdown(), 0);
      }
    };
    try {
      const trusted = await run(true);
      assert.ok(trusted.marked, 'the trusted server compares with HEAD');
      assert.ok(trusted.logs.some((l) => l.includes('HEAD\'s kern_jail.c')));
      const untrusted = await run(false);
      assert.equal(untrusted.marked, false);
      assert.ok(!untrusted.logs.some((l) => l.includes('HEAD\'s kern_jail.c')), untrusted.logs.join('\n'));
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('while a patch is being reviewed', () => {
  test('the server keeps answering: a hover in the C file is answered before the slow simulation of the review ends', async () => {
    const ws = workspace();
    const client = await LspClient.start({
      command: [process.execPath, '--import', 'tsx', path.join(ROOT, 'test/lsp/fakeSimulatorServer.ts')],
      env: { JAILCHECK_FAKE_REPORT: 'slow' },
      initializationOptions: { debounceMs: 0, simulator: { background: false } },
      rootUri: pathToFileURL(ws.root).href,
      configuration: (items) => items.map(() => ({ debounceMs: 0, simulator: { background: true } })),
    });
    try {
      const base = pathToFileURL(ws.base).href;
      await client.open(base, EXAMPLE);
      const patchUri = pathToFileURL(path.join(ws.root, 'second.patch')).href;
      const reviewed = openPatch(client, patchUri, SECOND).then(() => performance.now());
      // The review's simulation (of the base, then of the patched text) takes 3 s per function.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const position = { line: new LineIndex(EXAMPLE).position(EXAMPLE.indexOf('mtx_unlock(&pr->pr_mtx);', EXAMPLE.indexOf('prison_proc_hold('))).line - 1, character: 2 };
      const hover = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri: base }, position }, 10_000);
      const hovered = performance.now();
      assert.ok(hover && /pr->pr_mtx held/.test(hover.contents.value), JSON.stringify(hover));
      assert.ok(hovered < await reviewed, 'the hover was answered while the review was still simulating');
    } finally {
      assert.equal(await client.shutdown(), 0);
      fs.rmSync(ws.root, { recursive: true, force: true });
    }
  });
});
