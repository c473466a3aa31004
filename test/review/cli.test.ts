/**
 * `jailcheck review` as a user runs it: exit codes, the three groups, the
 * JSON shape, refusals in one line, and the user's files left as they were.
 */
import { after, describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { edit, example, lineOf, ROOT, service } from '../helpers';
import { reviewTexts } from '../../server/src/review/reviewPatch';
import { toReviewReport, toReviewSarif } from '../../server/src/cli/review';
import { firstPatch } from '../fixtures/seed/patches';

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

// The CLI is bundled once, as `npm run build` does, so that each run starts
// in a fraction of a second instead of compiling TypeScript again. The
// bundle lives under out/ (ignored by git) so that it finds node_modules.
const CLI = path.join(ROOT, 'out', 'test-review', 'cli.js');
const built = esbuild.build({
  entryPoints: [path.join(ROOT, 'server/src/cli/main.ts')], outfile: CLI, bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', logLevel: 'silent', external: ['vscode', 'tree-sitter', 'tree-sitter-c', 'web-tree-sitter'],
});

async function jailcheck(args: readonly string[], cwd = ROOT): Promise<Run> {
  await built;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const patch = (name: string): string => path.join(ROOT, 'test/fixtures/patches', name);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-review-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A copy of the bundled example in a scratch folder, with its mtime, to check that nothing writes it. */
function baseCopy(name: string, text = example()): { file: string; unchanged: () => void } {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, text);
  const past = new Date(Date.now() - 3600_000);
  fs.utimesSync(file, past, past);
  const mtime = fs.statSync(file).mtimeMs;
  return {
    file,
    unchanged: () => {
      assert.equal(fs.readFileSync(file, 'utf8'), text, `${name} was changed`);
      assert.equal(fs.statSync(file).mtimeMs, mtime, `${name} was written`);
    },
  };
}

const KEYS = ['end', 'file', 'function', 'message', 'related', 'rule', 'severity', 'start', 'steps'];

/** The example's parent-reference asymmetry (uref-parent-asymmetry, from the pr_uref ledger): its message, as printed. */
const ASYMMETRY = 'a dying jail revived by attaching a process or setting its persist flag and left again releases a parent reference it does not hold: '
  + 'tpr->pr_uref gives back the parent\'s pr_uref each time a jail loses its last user reference, but the revival takes none; '
  + 'after enough cycles prison0\'s pr_uref reaches zero';
interface JsonFinding { rule: string; message: string; start: { line: number }; related: Array<{ start: { line: number } }>; was?: { file: string; start: { line: number } } }
/** rule, line, related lines and (for unchanged findings) whether it was in the base file, at which line. */
const brief = (f: JsonFinding, base?: string): unknown[] =>
  [f.rule, f.start.line, f.related.map((x) => x.start.line), ...(f.was ? [f.was.file === base, f.was.start.line] : [])];

// The simulator's part of a review is tested in simulated.test.ts; these runs leave it out (--no-simulate).
suite('jailcheck review', { concurrency: true }, () => {
  test('the first patch exits 1, prints its two introduced findings at lines of the patched text, and the asymmetry it leaves unchanged', async () => {
    const base = baseCopy('first.c');
    const r = await jailcheck(['review', '--no-simulate', '--patch', patch('seed-first-patch.diff'), base.file, '--no-steps']);
    assert.equal(r.code, 1, r.stderr);
    const patched = firstPatch(example());
    const ret = lineOf(patched, 'return;', { after: 'Done if there were only' });
    const relock = lineOf(patched, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' });
    const lines = r.stdout.split('\n');
    const group = (title: string): string[] => {
      const start = lines.findIndex((l) => l.startsWith(`${title} (`));
      const end = lines.findIndex((l, i) => i > start && l === '');
      return lines.slice(start, end);
    };
    assert.deepEqual(group('fixed'), ['fixed (0)']);
    assert.deepEqual(group('unchanged'), [
      'unchanged (1)',
      `${base.file} (patched):393:8: error: ${ASYMMETRY} [uref-parent-asymmetry] in prison_deref()`,
    ]);
    const introduced = group('introduced');
    assert.equal(introduced[0], 'introduced (2)');
    assert.match(introduced[1]!, new RegExp(`^${base.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(patched\\):${ret}:4: error: pr->pr_mtx is still held when prison_deref\\(\\) returns .*\\[lock-held-at-return\\] in prison_deref\\(\\)$`));
    assert.match(introduced[2]!, new RegExp(` \\(patched\\):${relock}:4: error: pr->pr_mtx is acquired while this thread already holds it.*\\[lock-double-acquire\\]`));
    assert.match(r.stdout, /hunk 1 \(@@ -2455,7 \+2455,8 @@\) at line 393: offset -2062 lines, whitespace mangled/);
    assert.match(r.stdout, /3 levels of mail quoting removed/);
    assert.match(lines.filter((l) => l !== '').at(-1)!, /^jailcheck review: fixes 0, introduces 2, leaves 1 unchanged$/);
    base.unchanged();
  });

  test('--format json has fixed, introduced and unchanged lists of findings in the shape jailcheck check prints; introduced and unchanged are what check finds on the patched file', async () => {
    const base = baseCopy('json.c');
    const patchedCopy = baseCopy('patched.c', firstPatch(example()));
    const [r, checked] = await Promise.all([
      jailcheck(['review', '--no-simulate', '--patch', patch('seed-first-patch.diff'), base.file, '--format', 'json']),
      jailcheck(['check', '--no-simulate', patchedCopy.file, '--format', 'json']),
    ]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(report).sort(), ['base', 'fixed', 'functions', 'hunks', 'introduced', 'patch', 'patched', 'unchanged', 'version', 'wholeFile']);
    assert.equal(report.patched, `${base.file} (patched)`);
    assert.deepEqual(report.functions, ['prison_deref']);
    assert.deepEqual(report.hunks, [{ number: 1, header: '@@ -2455,7 +2455,8 @@', patchLine: 14, baseLine: 393, patchedLine: 393, offset: -2062, fuzz: 0, reindented: true }]);
    assert.deepEqual(report.fixed, []);
    assert.deepEqual(report.introduced.map((f: JsonFinding) => brief(f)), [['lock-held-at-return', 406, []], ['lock-double-acquire', 410, []]]);
    assert.deepEqual(report.unchanged.map((f: JsonFinding) => brief(f, base.file)), [['uref-parent-asymmetry', 393, [96, 166, 224], true, 393]]);
    assert.equal(report.unchanged[0].message, ASYMMETRY);
    // Introduced and unchanged together are the findings `jailcheck check` reports on the patched file, file name aside.
    const fromCheck = JSON.parse(checked.stdout).findings;
    for (const f of report.introduced) assert.deepEqual(Object.keys(f).sort(), KEYS);
    assert.deepEqual(Object.keys(report.unchanged[0]).sort(), [...KEYS, 'was'].sort());
    const strip = (f: { file: string; steps: Array<{ file: string }>; related: Array<{ file: string }> }) =>
      ({ ...f, file: '', steps: f.steps.map((s) => ({ ...s, file: '' })), related: f.related.map((x) => ({ ...x, file: '' })) });
    const withoutWas = ({ was: _was, ...f }: JsonFinding & { file: string; steps: Array<{ file: string }>; related: Array<{ file: string }> }) => f;
    const patchedFindings = [...report.introduced, ...report.unchanged.map(withoutWas)]
      .sort((a: { start: { line: number } }, b: { start: { line: number } }) => a.start.line - b.start.line);
    assert.deepEqual(patchedFindings.map(strip), fromCheck.map(strip));
    assert.ok(patchedFindings.every((f: { file: string; steps: Array<{ file: string }>; related: Array<{ file: string }> }) =>
      f.file === report.patched && f.steps.every((s) => s.file === report.patched) && f.related.every((x) => x.file === report.patched)));
  });

  test('the second patch and the alternative fix exit 0 fixing the asymmetry at base line 393; move-only exits 0 with nothing; attach alone leaves it', async () => {
    const base = baseCopy('fixes.c');
    const patches = ['seed-second-patch.diff', 'alternative-fix.diff', 'move-only.diff', 'attach-refuses-dying.diff'];
    const runs = await Promise.all(patches.map((p) => jailcheck(['review', '--no-simulate', '--patch', patch(p), base.file, '--format', 'json'])));
    const reports = runs.map((r, i) => {
      assert.equal(r.code, 0, `${patches[i]}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    });
    const groups = reports.map((report) => ({
      fixed: report.fixed.map((f: JsonFinding) => brief(f)),
      introduced: report.introduced.map((f: JsonFinding) => brief(f)),
      unchanged: report.unchanged.map((f: JsonFinding) => brief(f, base.file)),
    }));
    const fixesIt = { fixed: [['uref-parent-asymmetry', 393, [96, 166, 224]]], introduced: [], unchanged: [] };
    assert.deepEqual(groups, [
      fixesIt,
      fixesIt,
      { fixed: [], introduced: [], unchanged: [] },
      // Persist still revives: unchanged, now at line 399 and no longer pointing at do_jail_attach().
      { fixed: [], introduced: [], unchanged: [['uref-parent-asymmetry', 399, [96, 230], true, 393]] },
    ]);
    assert.equal(reports[0].fixed[0].message, ASYMMETRY);
    assert.equal(reports[0].fixed[0].file, base.file);
    base.unchanged();
  });

  test('unchanged findings are shown where they are after the patch, with where they were', async () => {
    const base = baseCopy('moved.c', firstPatch(example()));
    const r = await jailcheck(['review', '--no-simulate', '--patch', patch('move-prison-deref.diff'), base.file, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.unchanged.map((f: JsonFinding) => brief(f, base.file)),
      [['uref-parent-asymmetry', 82, [179, 249, 307], true, 393], ['lock-held-at-return', 95, [], true, 406], ['lock-double-acquire', 99, [], true, 410]]);
    assert.equal(report.unchanged[0].message, ASYMMETRY);
  });

  test('a patch that does not apply exits 2 naming the hunk and the expected line, prints no analysis, and leaves the base file alone', async () => {
    const base = baseCopy('bad.c');
    const r = await jailcheck(['review', '--no-simulate', '--patch', patch('does-not-apply.diff'), base.file]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `jailcheck: hunk 2 (@@ -390,8 +391,8 @@, line 17 of ${patch('does-not-apply.diff')}) does not apply to ${base.file}: expected "if (refcount_release(&tpr->pr_uref) == 0)" at line 393, found "if (--tpr->pr_uref > 0)"\n`);
    base.unchanged();
  });

  test('binary, empty and prose "patches" exit 2 with one line each', async () => {
    const base = baseCopy('garbage.c');
    const inputs: Array<[string, string | Buffer, RegExp]> = [
      ['binary.diff', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]), /binary\.diff: this is a binary file, not a patch/],
      ['empty.diff', '', /empty\.diff: is empty, not a patch/],
      ['prose.diff', 'Looks good to me.\n', /prose\.diff: no unified-diff hunk/],
      ['latin1.diff', Buffer.from(Array.from({ length: 200 }, () => 0xe9)), /latin1\.diff: this is not UTF-8 or ASCII text/],
    ];
    const runs = await Promise.all(inputs.map(([name, content]) => {
      const file = path.join(scratch, name);
      fs.writeFileSync(file, content);
      return jailcheck(['review', '--no-simulate', '--patch', file, base.file]);
    }));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, inputs[i]![0]);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, inputs[i]![2]);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
    base.unchanged();
  });

  test('usage errors exit 2 and say what is missing', async () => {
    const base = baseCopy('usage.c');
    const cases: Array<[string[], RegExp]> = [
      [['review', base.file], /review needs either --patch FILE\.diff BASE\.c or --git REV \[FILE\]/],
      [['review', '--patch', patch('move-only.diff')], /--patch needs the base file/],
      [['review', '--patch', patch('move-only.diff'), '--git', 'HEAD', base.file], /review needs either/],
      [['review', '--patch', patch('move-only.diff'), base.file, '--format', 'xml'], /unknown format "xml"/],
      [['review', '--patch', path.join(scratch, 'nope.diff'), base.file], /nope\.diff: no such file/],
      [['review', '--patch', patch('move-only.diff'), path.join(scratch, 'nope.c')], /nope\.c: no such file/],
    ];
    const runs = await Promise.all(cases.map(([args]) => jailcheck(args)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, cases[i]![0].join(' '));
      assert.match(r.stderr, cases[i]![1]);
      assert.equal(r.stdout, '');
    });
  });

  test('--format sarif marks introduced results new and the asymmetry the first patch leaves unchanged, with URI-safe names', async () => {
    const base = baseCopy('sarif.c');
    const r = await jailcheck(['review', '--no-simulate', '--patch', patch('seed-first-patch.diff'), base.file, '--format', 'sarif']);
    assert.equal(r.code, 1, r.stderr);
    const log = JSON.parse(r.stdout);
    const results = log.runs[0].results;
    assert.deepEqual(results.map((x: { ruleId: string; baselineState: string; locations: Array<{ physicalLocation: { region: { startLine: number } } }> }) =>
      [x.ruleId, x.baselineState, x.locations[0]!.physicalLocation.region.startLine]),
    [['lock-held-at-return', 'new', 406], ['lock-double-acquire', 'new', 410], ['uref-parent-asymmetry', 'unchanged', 393]]);
    for (const x of results) {
      const uri = x.locations[0].physicalLocation.artifactLocation.uri as string;
      assert.ok(uri.endsWith('sarif.c%20(patched)'), uri);
    }
  });
});

test('SARIF says absent for a fixed finding and unchanged for one that stays, naming git\'s version URI-safely', async () => {
  const doubleLock = (text: string, comment = ''): string => edit(text, '\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);',
    `${comment}\tmtx_lock(&pr->pr_mtx);\n\tmtx_lock(&pr->pr_mtx);\n\tprison_hold_locked(pr);`);
  // Undo the first patch in prison_deref(); touch prison_hold() but keep its double lock (an unchanged finding).
  // prison_deref() is touched, so its parent-reference asymmetry, which neither version fixes, is unchanged too.
  const result = reviewTexts(doubleLock(firstPatch(example())), doubleLock(example(), '\t/* Still wrong. */\n'), { service: service() });
  const report = toReviewReport(result, { base: 'HEAD:sys/kern/kern_jail.c', patched: 'sys/kern/kern_jail.c', patch: null, git: { rev: 'HEAD', path: 'sys/kern/kern_jail.c' } });
  const log = await toReviewSarif(report);
  const results = log.runs[0]!.results!;
  const base = doubleLock(firstPatch(example()));
  const patched = doubleLock(example(), '\t/* Still wrong. */\n');
  assert.deepEqual(results.map((r) => [r.ruleId, r.baselineState, r.locations![0]!.physicalLocation!.region!.startLine]),
    [['lock-held-at-return', 'absent', lineOf(base, 'return;', { after: 'Done if there were only' })],
      ['lock-double-acquire', 'absent', lineOf(base, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' })],
      ['lock-double-acquire', 'unchanged', lineOf(patched, 'mtx_lock(&pr->pr_mtx);', { after: 'Still wrong.', occurrence: 2 })],
      ['uref-parent-asymmetry', 'unchanged', lineOf(patched, 'if (--tpr->pr_uref > 0)')]]);
  assert.deepEqual(results.map((r) => r.locations![0]!.physicalLocation!.artifactLocation!.uri),
    ['HEAD%3Asys/kern/kern_jail.c', 'HEAD%3Asys/kern/kern_jail.c', 'sys/kern/kern_jail.c', 'sys/kern/kern_jail.c']);
});

suite('jailcheck review --git', { concurrency: true }, () => {
  const repo = path.join(scratch, 'repo');
  const file = path.join(repo, 'sys/kern/kern_jail.c');
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=jailcheck', '-c', 'user.email=jailcheck@example.invalid', ...args], { cwd: repo }).toString();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  git('init', '-q');
  fs.writeFileSync(file, example());
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  fs.writeFileSync(file, firstPatch(example()));

  test('compares the working tree\'s kern_jail.c with a revision: the first patch\'s findings are introduced, the asymmetry unchanged', async () => {
    const r = await jailcheck(['review', '--no-simulate', '--git', 'HEAD', '--format', 'json'], repo);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.base, 'HEAD:sys/kern/kern_jail.c');
    assert.equal(report.patched, path.join('sys', 'kern', 'kern_jail.c'));
    assert.equal(report.patch, null);
    assert.deepEqual(report.git, { rev: 'HEAD', path: 'sys/kern/kern_jail.c' });
    assert.deepEqual(report.introduced.map((f: { rule: string; file: string }) => [f.rule, f.file]),
      [['lock-held-at-return', report.patched], ['lock-double-acquire', report.patched]]);
    assert.deepEqual(report.fixed, []);
    assert.deepEqual(report.unchanged.map((f: JsonFinding & { file: string }) => [f.rule, f.file, f.start.line, f.was!.file, f.was!.start.line]),
      [['uref-parent-asymmetry', report.patched, 393, report.base, 393]]);
    assert.equal(fs.readFileSync(file, 'utf8'), firstPatch(example()));
  });

  test('takes the file to compare as an argument, from anywhere', async () => {
    const r = await jailcheck(['review', '--no-simulate', '--git', 'HEAD', file], scratch);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`jailcheck review: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} compared with HEAD:sys/kern/kern_jail\\.c`));
    assert.match(r.stdout, /introduced \(2\)/);
  });

  test('an unknown revision, a directory outside git, and a file not in the revision exit 2 with one line', async () => {
    const outside = baseCopy('outside.c');
    fs.writeFileSync(path.join(repo, 'new.c'), 'int x;\n');
    const [unknown, notGit, notInRev] = await Promise.all([
      jailcheck(['review', '--no-simulate', '--git', 'no-such-rev'], repo),
      jailcheck(['review', '--no-simulate', '--git', 'HEAD', outside.file], scratch),
      jailcheck(['review', '--no-simulate', '--git', 'HEAD', 'new.c'], repo),
    ]);
    assert.deepEqual([unknown.code, notGit.code, notInRev.code], [2, 2, 2]);
    assert.match(unknown.stderr, /^jailcheck: no-such-rev: unknown revision in .*\n$/);
    assert.match(notGit.stderr, /^jailcheck: .* is not in a git checkout; --git compares with a revision of one/);
    assert.match(notInRev.stderr, /^jailcheck: new\.c is not in revision HEAD\n$/);
  });
});
