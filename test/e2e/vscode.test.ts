/**
 * jailcheck in a real VS Code (code-server + chromium), used as a reviewer
 * uses it: the packaged .vsix installed into a fresh profile, a workspace
 * with the bundled example and the seed's first patch applied to it. Each
 * state is kept as a screenshot in test-artifacts/e2e/.
 *
 * Run with `npm run test:e2e` (it packages the extension first); the machine
 * needs scripts/e2e-setup.sh once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { example, lineOf, readFixture } from '../helpers';
import { firstPatch } from '../fixtures/seed/patches';
import { clearArtifacts, EditorSession, missingPrerequisites, openEditor, watchFor } from './codeServer';

const EXAMPLE = example();
const PATCH1 = firstPatch(EXAMPLE);
const EXAMPLE_FILE = 'kern_jail.c';
const PATCH_FILE = 'kern_jail_first_patch.c';
/** The seed's first patch as the mail quoted it; it names sys/kern/kern_jail.c, which is EXAMPLE_FILE with -p2. */
const MAIL_PATCH = readFixture('test/fixtures/patches/seed-first-patch.diff');
const MAIL_PATCH_FILE = 'first-patch-from-the-thread.diff';

/** Opens a workspace file through Quick Open, as a person would, and waits for its tab. */
async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor();
  await page.locator('.editor-instance .monaco-editor.focused').waitFor();
}

/** Ctrl+G to a 1-based line and column. */
async function goTo(page: Page, line: number, column: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await page.locator('.editor-instance .monaco-editor.focused').waitFor();
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

function problem(page: Page, text: string | RegExp) {
  return page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
}

describe('jailcheck in VS Code (code-server)', () => {
  let session: EditorSession;
  let page: Page;
  let failed = false;

  before(async () => {
    const missing = missingPrerequisites();
    assert.deepEqual(missing, [], missing.join('\n'));
    clearArtifacts();
    session = await openEditor({ files: { [EXAMPLE_FILE]: EXAMPLE, [PATCH_FILE]: PATCH1, [MAIL_PATCH_FILE]: MAIL_PATCH } });
    page = session.page;
    console.log(`# start: ${JSON.stringify(session.timings)}`);
  });

  after(async () => {
    if (failed) session?.keepLogs();
    await session?.close();
  });

  let steps = 0;
  const step = (name: string, fn: () => Promise<void>) => test(name, async () => {
    const n = ++steps;
    try {
      await fn();
    } catch (err) {
      failed = true;
      await session.screenshot(`failure-${n}`).catch(() => undefined);
      // What a person would have seen, in words, for the log.
      const seen = await page.evaluate(`[...document.querySelectorAll('.statusbar-item, .markers-panel .monaco-list-row, .tab, .notification-list-item-message, .quick-input-widget')]
        .map((e) => e.className.split(' ')[0] + ': ' + e.textContent).join('\\n')`).catch(() => '(page gone)');
      session.note(`failure-${n}.txt`, `${err instanceof Error ? err.stack : String(err)}\n\n${String(seen)}\n`);
      throw err;
    }
  });

  step('the problems list shows the first patch\'s double acquire and lock held at return', async () => {
    await openFile(page, PATCH_FILE);
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel').waitFor();
    // The list is long (each finding with its path): filter it, as a person would.
    const filter = page.getByPlaceholder(/^Filter \(e\.g\. text/);
    await filter.fill('already holds it');
    const double = problem(page, 'pr->pr_mtx is acquired while this thread already holds it');
    await double.waitFor({ timeout: 30_000 });
    assert.match(await double.innerText(), new RegExp(`lock-double-acquire.*\\[Ln ${lineOf(PATCH1, 'mtx_lock(&pr->pr_mtx);', { after: 'if (tpr != pr) {' })},`, 's'));
    await session.screenshot('01-problems');
    await filter.fill('still held when');
    const held = problem(page, 'pr->pr_mtx is still held when prison_deref() returns');
    await held.waitFor();
    assert.match(await held.innerText(), new RegExp(`lock-held-at-return.*\\[Ln ${lineOf(PATCH1, 'return;', { after: 'Done if there were only user references to remove.' })},`, 's'));
    await filter.fill('');
    // The status item names the last analysis's time.
    await page.locator('.statusbar-item', { hasText: /jailcheck \d+ ms/ }).first().waitFor();
  });

  step('a hover inside prison_deref shows that pr->pr_mtx is held on all paths', async () => {
    await openFile(page, EXAMPLE_FILE);
    // Analysed once the lenses are there (they shift the text down: a hover shown before would close).
    await page.locator('.codelens-decoration', { hasText: /Simulate/ }).first().waitFor({ state: 'attached', timeout: 30_000 });
    await goTo(page, lineOf(EXAMPLE, 'if (flags & PD_DEUREF) {', { after: 'Remove a prison reference.' }), 7);
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content', { hasText: 'jailcheck' }).first();
    await hover.waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
      const hovers = await page.locator('.monaco-hover').evaluateAll((els) => els.map((e) => `${e.className}: ${e.textContent ?? ""}`));
      throw new Error(`${err.message}\nhovers: ${JSON.stringify(hovers)}`);
    });
    const text = await hover.innerText();
    assert.match(text, /prison_deref\(\)/);
    assert.match(text, /pr->pr_mtx held on all \d+ paths/);
    await session.screenshot('02-hover');
    await page.keyboard.press('Escape');
  });

  step('"Simulate This Function" opens the report for prison_deref with the revival counterexample; a step shows its line', async () => {
    await runCommand(page, 'Jailcheck: Simulate This Function');
    await page.locator('.tab', { hasText: 'Simulation: prison_deref()' }).waitFor({ timeout: 60_000 });
    const report = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await report.locator('h1', { hasText: 'Simulation of prison_deref()' }).waitFor({ timeout: 15_000 });
    // The seed thread's schedule: a process attaches while the jail's last user leaves.
    const revival = report.locator('section.scenario.violation', { hasText: 'revival-by-attach' });
    await revival.waitFor();
    assert.match(await revival.locator('.cx-message').innerText(), /prison0\.pr_uref reached 0 .*logic error \(no preemption needed\)/s);
    await session.screenshot('03-report');
    // The step that broke the invariant, clicked, shows its line in the editor.
    await revival.locator('tr.violating button.step').click();
    const line = lineOf(EXAMPLE, '--tpr->pr_uref > 0');
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line}, Col`) }).first().waitFor();
  });

  step('an edit that adds a double unlock produces a new diagnostic within a second', async () => {
    // Back to the source from the report, which has the focus.
    await page.keyboard.press('Control+1');
    await page.locator('.editor-instance .monaco-editor.focused').waitFor();
    await openFile(page, EXAMPLE_FILE);
    // The problems list, filtered as a person would, shows only what concerns an unlock.
    await page.getByPlaceholder(/^Filter \(e\.g\. text/).fill('is released on a path where it is not held');
    const released = problem(page, /pr->pr_mtx is released on a path where it is not held/);
    assert.equal(await released.count(), 0, 'no such problem before the edit');
    // prison_proc_hold takes pr's lock, bumps pr_uref and unlocks: unlock once more.
    const unlock = lineOf(EXAMPLE, 'mtx_unlock(&pr->pr_mtx);', { after: 'prison_proc_hold(struct prison *pr)' });
    await goTo(page, unlock, 1);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    // The edit is made when its text shows in the editor (the test's typing goes one character
    // at a time); from then on the clock runs until the problem shows in the list.
    const unlocksShown = `[...document.querySelectorAll('.view-line')]
      .filter((line) => line.textContent.replace(/\\u00a0/g, ' ').includes('mtx_unlock(&pr->pr_mtx);')).length`;
    const before = await page.evaluate(unlocksShown) as number;
    const typed = await watchFor(page, `${unlocksShown} > ${before}`, 5_000);
    const listed = await watchFor(page, `[...document.querySelectorAll('.markers-panel .monaco-list-row')]
      .some((row) => /pr->pr_mtx is released on a path where it is not held/.test(row.textContent))`, 5_000);
    await page.keyboard.insertText('mtx_unlock(&pr->pr_mtx);');
    const elapsed = (await listed()) - (await typed());
    await session.screenshot('04-edit');
    assert.ok(elapsed < 1000, `the diagnostic took ${Math.round(elapsed)} ms`);
    console.log(`# edit to problem row: ${Math.round(elapsed)} ms`);
    assert.match(await released.innerText(), new RegExp(`lock-release-not-held.*\\[Ln ${unlock + 1},`, 's'));
  });

  step('Restart Server brings the server back with the diagnostics of the open files', async () => {
    // The status item loses its "N ms" while the server restarts, and gets it back from a new analysis.
    const restarting = await watchFor(page, `[...document.querySelectorAll('.statusbar-item')]
      .some((item) => /jailcheck/.test(item.textContent) && !/\\d+ ms/.test(item.textContent))`, 30_000);
    await runCommand(page, 'Jailcheck: Restart Server');
    await restarting();
    await page.locator('.statusbar-item', { hasText: /jailcheck \d+ ms/ }).first().waitFor({ timeout: 30_000 });
    await page.getByPlaceholder(/^Filter \(e\.g\. text/).fill('already holds it');
    await problem(page, 'pr->pr_mtx is acquired while this thread already holds it').waitFor({ timeout: 30_000 });
    await session.screenshot('05-restarted');
  });

  step('a patch from the mailing list, opened as a .diff, shows its verdict: the summary on line 1, the double acquire on its + line', async () => {
    await page.keyboard.press('Control+1');
    await openFile(page, MAIL_PATCH_FILE);
    const filter = page.getByPlaceholder(/^Filter \(e\.g\. text/);
    await filter.fill('this patch');
    const summary = problem(page, /this patch fixes 0, introduces \d+, leaves \d+ unchanged \(against kern_jail\.c\)/);
    await summary.waitFor({ timeout: 60_000 });
    assert.match(await summary.innerText(), /\[Ln 1,/);
    await filter.fill('introduces: pr->pr_mtx is acquired');
    const double = problem(page, 'introduces: pr->pr_mtx is acquired while this thread already holds it');
    await double.waitFor();
    // Shown on the + line that stopped releasing the lock (the acquire itself is outside the hunk).
    const plus = lineOf(MAIL_PATCH, 'mtx_unlock(&tpr->pr_mtx);', { after: 'if (tpr != pr)' });
    assert.match(await double.innerText(), new RegExp(`lock-double-acquire.*\\[Ln ${plus},`, 's'));
    await session.screenshot('06-patch-review');
    await filter.fill('');
  });
});
