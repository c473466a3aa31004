/**
 * The simulation report page, rendered from a hand-made report: what a
 * reviewer sees (verdicts, lanes, state along the way) and what keeps the
 * webview safe (escaping, a strict content security policy, checked
 * messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { escapeHtml, lanes, parseMessage, renderReport, ReportView } from '../../client/src/reportHtml';
import { example, lineOf } from '../helpers';
import { handmadeReport } from '../lsp/handmadeReport';

const EXAMPLE = example();
const REPORT = handmadeReport(EXAMPLE);
const DOC = TextDocument.create('file:///w/kern_jail.c', 'c', 1, EXAMPLE);
const VIEW: ReportView = {
  fileName: 'kern_jail.c',
  report: REPORT,
  functionLine: 380,
  stepRanges: REPORT.scenarios.map((s) => (s.counterexample?.steps ?? []).map((st) => ({ start: DOC.positionAt(st.range.start), end: DOC.positionAt(st.range.end) }))),
};
const NONCE = '0123456789abcdef0123456789abcdef';
const HTML = renderReport(VIEW, NONCE);

/** The page's text with tags removed, entities decoded: what a person reads. */
function visibleText(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

test('escapeHtml escapes the five characters that matter in text and attributes', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  assert.equal(escapeHtml(42), '42');
});

test('strings from the report are escaped: a scenario cannot inject markup or script', () => {
  assert.ok(!HTML.includes('<img'), 'no image tag from the message');
  assert.ok(!HTML.includes('<b>two</b>'));
  assert.ok(!HTML.includes('persist-race <script>'));
  assert.ok(HTML.includes('persist-race &lt;script&gt;'));
  assert.ok(HTML.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  // Exactly one script element: the page's own, with the nonce.
  assert.equal(HTML.match(/<script/g)?.length, 1);
  assert.match(HTML, new RegExp(`<script nonce="${NONCE}">`));
});

test('the content security policy allows nothing but the nonce\'d style and script', () => {
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(HTML)?.[1];
  assert.equal(csp, `default-src 'none'; style-src 'nonce-${NONCE}'; script-src 'nonce-${NONCE}';`);
  assert.doesNotMatch(HTML, /https?:\/\//, 'no remote resource');
  assert.doesNotMatch(HTML, / style="/, 'no inline style attribute (the policy would block it)');
  assert.doesNotMatch(HTML, / on[a-z]+="/, 'no inline event handler');
});

test('each scenario shows its verdict, description and thread plans', () => {
  const text = visibleText(HTML);
  assert.match(text, /Simulation of prison_deref\(\)/);
  assert.match(text, /kern_jail\.c:381 · 3 scenarios · 1 violation · 42 ms/);
  assert.match(text, /violation sibling-last-users the last processes of two sibling jails exit at once/);
  assert.match(text, /no violation attach-while-dying/);
  assert.match(text, /incomplete persist-race <script>/);
  assert.match(text, /Bounds reached: time budget of 2000 ms/);
  assert.match(text, /T1 prison_deref\(A, PD_DEUREF\)/);
  assert.match(text, /P\.pr_uref drops to 0 while its child B is still alive — logic error \(no preemption needed\)/);
  assert.match(text, /17 executions · 230 states · every interleaving Starting world: built by the file's own functions prison_create\(&prison0, "P", 1\)/);
  assert.match(text, /every interleaving with up to 1 preemption Bounds reached: time budget of 2000 ms Starting world: stated/);
});

test('the counterexample is drawn with one lane per thread, steps in order', () => {
  const cx = REPORT.scenarios[0]!.counterexample!;
  const { threads, rows } = lanes(cx, [1, 2]);
  assert.deepEqual(threads, [1, 2]);
  assert.deepEqual(rows.map((r) => r.lane), [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(rows.map((r) => r.switched), [false, false, false, false, false, true, false, false]);
  assert.deepEqual([...rows[1]!.changed], ['A.pr_uref'], 'the counter that changed at step 2');

  const table = HTML.slice(HTML.indexOf('<table class="schedule">'), HTML.indexOf('</table>'));
  assert.match(table, /<th class="lane-head t1">T1<\/th><th class="lane-head t2">T2<\/th>/);
  const bodyRows = table.split('\n').filter((l) => l.startsWith('<tr') && l.includes('<td'));
  assert.equal(bodyRows.length, 8);
  // Step 6 runs on T2: its button sits in the second lane, the first lane is empty.
  assert.match(bodyRows[5]!, /<td class="num">6<\/td><td class="lane"><\/td><td class="lane active"><button class="step t2" data-scenario="0" data-step="5"/);
  assert.match(bodyRows[5]!, /class="switch"/);
  assert.match(bodyRows[6]!, /^<tr class="violating">/, 'step 7 broke the invariant');
  assert.match(bodyRows[6]!, /<span class="broke first">P\.pr_uref drops to 0 while its child B is still alive <small>\[counter-negative\]<\/small><\/span>/);
  assert.match(bodyRows[7]!, /^<tr class="also">/, 'and the same schedule broke a KASSERT next');
  assert.match(bodyRows[7]!, /KASSERT\(tpr != &amp;prison0\) fails/);
});

test('a step where a thread took over from one that could have gone on is marked as a preemption', () => {
  const race = HTML.slice(HTML.lastIndexOf('<table class="schedule">'), HTML.lastIndexOf('</table>'));
  const rows = race.split('\n').filter((l) => l.startsWith('<tr') && l.includes('<td'));
  assert.doesNotMatch(rows[0]!, /preempts/);
  assert.match(rows[1]!, /<span class="preempts">preempts<\/span>/);
});

test('each step shows where it ran, the locks held and the counters after it', () => {
  const table = HTML.slice(HTML.indexOf('<table class="schedule">'), HTML.indexOf('</table>'));
  const rows = table.split('\n').filter((l) => l.startsWith('<tr') && l.includes('<td'));
  const decLine = lineOf(EXAMPLE, '--tpr->pr_uref > 0');
  assert.ok(rows[1]!.includes(`prison_deref:${decLine}`), rows[1]);
  assert.match(visibleText(rows[0]!), /A\.pr_mtx T1/);
  assert.match(visibleText(rows[2]!), /none/, 'no lock after the unlock');
  assert.match(rows[7]!, /<span class="counter changed">P\.pr_uref=0<\/span>/);
  assert.match(rows[3]!, /<span class="choice">tpr = P<\/span>/);
});

test('violations come first, then incomplete scenarios, then those with no violation', () => {
  const order = [...HTML.matchAll(/<section class="scenario (\w+)">/g)].map((m) => m[1]);
  assert.deepEqual(order, ['violation', 'incomplete', 'ok']);
  // Each keeps its index in the report, which is what a click sends back.
  assert.match(HTML.slice(HTML.indexOf('<section class="scenario incomplete">')), /^[\s\S]*?data-scenario="2"/);
});

test('a report with no scenario says so and names the function', () => {
  const html = renderReport({ fileName: 'x.c', report: { function: 'prison_find', scenarios: [], elapsedMs: 0 }, functionLine: 9, stepRanges: [] }, NONCE);
  assert.match(visibleText(html), /No scenario ran for prison_find\(\)/);
});

test('messages from the page are checked: only a step that exists can be revealed', () => {
  assert.deepEqual(parseMessage({ type: 'reveal', scenario: 0, step: 7 }, VIEW), { type: 'reveal', scenario: 0, step: 7 });
  assert.deepEqual(parseMessage({ type: 'revealFunction' }, VIEW), { type: 'revealFunction' });
  assert.equal(parseMessage({ type: 'reveal', scenario: 0, step: 8 }, VIEW), undefined);
  assert.equal(parseMessage({ type: 'reveal', scenario: 1, step: 0 }, VIEW), undefined, 'an ok scenario has no steps');
  assert.equal(parseMessage({ type: 'reveal', scenario: '0', step: 0 }, VIEW), undefined);
  assert.equal(parseMessage({ type: 'openFile', path: '/etc/passwd' }, VIEW), undefined);
  assert.equal(parseMessage(null, VIEW), undefined);
});
