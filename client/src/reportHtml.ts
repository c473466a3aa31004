/**
 * The simulation report as one HTML page, for the webview. Pure: no vscode
 * import, so it is unit-tested like any function. Every string that comes
 * from the analysed file or the report is escaped; the page loads nothing
 * (a strict content security policy allows only its own nonce'd style and
 * script), and its script only posts "reveal this step" messages back.
 */
import type { Counterexample, ScenarioResult, ScheduleStep, SimulationReport } from '../../server/src/lsp/protocol';

export interface LineRange {
  readonly start: { readonly line: number; readonly character: number };
  readonly end: { readonly line: number; readonly character: number };
}

export interface ReportView {
  /** The file's name, for the heading. */
  readonly fileName: string;
  readonly report: SimulationReport;
  /** 0-based line of the function's first line. */
  readonly functionLine: number;
  /** Per scenario, the editor range of each counterexample step. */
  readonly stepRanges: ReadonlyArray<readonly LineRange[]>;
}

/** A message the page posts to the extension. */
export type ReportMessage =
  | { readonly type: 'reveal'; readonly scenario: number; readonly step: number }
  | { readonly type: 'revealFunction' };

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** One row of the schedule picture: the step, and the lane (column) of its thread. */
export interface LaneRow {
  readonly index: number;
  readonly step: ScheduleStep;
  readonly lane: number;
  /** The scheduler switched threads before this step. */
  readonly switched: boolean;
  /** This step's thread took over from one that could have gone on. */
  readonly preemption: boolean;
  /** The invariants this step broke (the first violation, and those the same schedule broke later). */
  readonly violations: ReadonlyArray<{ readonly invariant: string; readonly message: string; readonly first: boolean }>;
  /** Counters whose value differs from the previous step's. */
  readonly changed: ReadonlySet<string>;
}

/** The threads of a counterexample in lane order (ascending), and one row per step. */
export function lanes(cx: Counterexample, planned: readonly number[] = []): { threads: number[]; rows: LaneRow[] } {
  const threads = [...new Set([...planned, ...cx.steps.map((s) => s.thread)])].sort((a, b) => a - b);
  let previous: ScheduleStep | undefined;
  const rows = cx.steps.map((step, index): LaneRow => {
    const changed = new Set(Object.keys(step.counters).filter((k) => previous?.counters[k] !== step.counters[k]));
    const violations = [{ v: cx.at, first: true }, ...cx.also.map((v) => ({ v, first: false }))]
      .filter((x) => x.v.step === index).map((x) => ({ invariant: x.v.invariant, message: x.v.message, first: x.first }));
    const row: LaneRow = {
      index, step, lane: threads.indexOf(step.thread), switched: previous !== undefined && previous.thread !== step.thread,
      preemption: step.preemption === true, violations, changed,
    };
    previous = step;
    return row;
  });
  return { threads, rows };
}

const VERDICT_ORDER: Record<ScenarioResult['verdict'], number> = { violation: 0, incomplete: 1, ok: 2 };

const VERDICT: Record<ScenarioResult['verdict'], string> = {
  violation: 'violation',
  ok: 'no violation',
  incomplete: 'incomplete',
};

function lockCell(step: ScheduleStep): string {
  if (step.locks.length === 0) return '<span class="none">none</span>';
  return step.locks.map((l) => `<span class="lock t${l.thread % 6}">${escapeHtml(l.lock)}${l.mode === 'shared' ? ' <em>shared</em>' : ''} <small>T${escapeHtml(l.thread)}</small></span>`).join(' ');
}

function counterCell(step: ScheduleStep, changed: ReadonlySet<string>): string {
  const entries = Object.entries(step.counters);
  if (entries.length === 0) return '';
  return entries.map(([k, v]) => `<span class="counter${changed.has(k) ? ' changed' : ''}${v < 0 ? ' negative' : ''}">${escapeHtml(k)}=${escapeHtml(v)}</span>`).join(' ');
}

function schedule(cx: Counterexample, scenarioIndex: number, planned: readonly number[], ranges: readonly LineRange[]): string {
  const { threads, rows } = lanes(cx, planned);
  const head = `<tr><th class="num">#</th>${threads.map((t) => `<th class="lane-head t${t % 6}">T${escapeHtml(t)}</th>`).join('')}<th>locks held after</th><th>counters after</th></tr>`;
  const body = rows.map((r) => {
    const line = ranges[r.index] ? ranges[r.index]!.start.line + 1 : undefined;
    const cells = threads.map((_, lane) => {
      if (lane !== r.lane) return '<td class="lane"></td>';
      const where = line !== undefined ? `<span class="where">${escapeHtml(r.step.function)}:${line}</span>` : '';
      const choice = r.step.choice ? `<span class="choice">${escapeHtml(r.step.choice)}</span>` : '';
      const preempts = r.preemption ? '<span class="preempts">preempts</span>' : '';
      const broke = r.violations.map((v) => `<span class="broke${v.first ? ' first' : ''}">${escapeHtml(v.message)} <small>[${escapeHtml(v.invariant)}]</small></span>`).join('');
      return `<td class="lane active"><button class="step t${r.step.thread % 6}" data-scenario="${scenarioIndex}" data-step="${r.index}" title="Show this step in the editor">`
        + `${preempts}<code>${escapeHtml(r.step.operation)}</code>${choice}${where}${broke}</button></td>`;
    }).join('');
    const cls = [r.switched ? 'switch' : '', r.violations.some((v) => v.first) ? 'violating' : r.violations.length > 0 ? 'also' : ''].filter(Boolean).join(' ');
    return `<tr${cls ? ` class="${cls}"` : ''}><td class="num">${r.index + 1}</td>${cells}<td class="locks">${lockCell(r.step)}</td><td class="counters">${counterCell(r.step, r.changed)}</td></tr>`;
  }).join('\n');
  return `<table class="schedule">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function scenario(s: ScenarioResult, index: number, view: ReportView): string {
  const plans = s.threads.map((t) => `<li><span class="thread t${t.thread % 6}">T${escapeHtml(t.thread)}</span> ${t.calls.map((c) => `<code>${escapeHtml(c)}</code>`).join(' → ')}</li>`).join('');
  const bounds = s.boundsReached.length > 0
    ? `<p class="bounds">Bounds reached: ${s.boundsReached.map(escapeHtml).join('; ')}</p>` : '';
  const world = s.world === 'built' ? 'built by the file\'s own functions' : 'stated (the file\'s functions could not build it)';
  const setup = `<details class="setup"><summary>Starting world: ${world}</summary><ol>${s.setup.map((l) => `<li><code>${escapeHtml(l)}</code></li>`).join('')}</ol></details>`;
  const cx = s.counterexample;
  const counterexample = cx ? `
<div class="counterexample">
<p class="cx-message"><strong>${escapeHtml(cx.message)}</strong> — <span class="label">${escapeHtml(cx.label)}</span> <small>(${escapeHtml(cx.invariant)}, ${cx.steps.length} step${cx.steps.length === 1 ? '' : 's'})</small></p>
${schedule(cx, index, s.threads.map((t) => t.thread), view.stepRanges[index] ?? [])}
</div>` : '';
  const explored = s.exhaustive ? 'every interleaving' : `every interleaving with up to ${s.preemptionBound} preemption${s.preemptionBound === 1 ? '' : 's'}`;
  return `<section class="scenario ${s.verdict}">
<h2><span class="verdict ${s.verdict}">${VERDICT[s.verdict]}</span> ${escapeHtml(s.name)}</h2>
<p class="description">${escapeHtml(s.description)}</p>
<ul class="plans">${plans}</ul>
<p class="stats">${escapeHtml(s.executions)} executions · ${escapeHtml(s.states)} states · ${explored}</p>
${bounds}${setup}${counterexample}
</section>`;
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 1.5em 2em; }
h1 { font-size: 1.4em; font-weight: 600; }
h1 button { font: inherit; background: none; border: none; color: var(--vscode-textLink-foreground); cursor: pointer; padding: 0; }
h2 { font-size: 1.1em; margin-bottom: .3em; }
code { font-family: var(--vscode-editor-font-family); }
.meta, .stats, .description, .bounds { color: var(--vscode-descriptionForeground); margin: .2em 0; }
.empty { padding: 1em; border: 1px dashed var(--vscode-panel-border); }
.scenario { border-top: 1px solid var(--vscode-panel-border); padding: .5em 0 1em; }
.verdict { font-size: .8em; text-transform: uppercase; padding: .1em .5em; border-radius: 3px; margin-right: .4em; }
.verdict.violation { background: var(--vscode-inputValidation-errorBackground, #5a1d1d); border: 1px solid var(--vscode-inputValidation-errorBorder, #be1100); }
.verdict.ok { background: var(--vscode-inputValidation-infoBackground, #063b49); border: 1px solid var(--vscode-inputValidation-infoBorder, #007acc); }
.verdict.incomplete { background: var(--vscode-inputValidation-warningBackground, #352a05); border: 1px solid var(--vscode-inputValidation-warningBorder, #b89500); }
.plans { list-style: none; padding: 0; margin: .3em 0; }
.schedule { border-collapse: collapse; margin-top: .6em; }
.schedule th, .schedule td { padding: .15em .5em; vertical-align: top; text-align: left; }
.schedule td.lane { border-left: 2px solid var(--vscode-panel-border); border-right: 2px solid var(--vscode-panel-border); min-width: 14em; }
.schedule tr.switch td { border-top: 1px dashed var(--vscode-descriptionForeground); }
.schedule tr.violating td.active .step { outline: 2px solid var(--vscode-errorForeground); }
.schedule tr.also td.active .step { outline: 1px dashed var(--vscode-errorForeground); }
.broke { display: block; color: var(--vscode-errorForeground); margin-top: .2em; }
.broke.first { font-weight: bold; }
.preempts { float: right; font-size: .8em; padding: 0 .3em; border-radius: 3px; background: var(--vscode-inputValidation-warningBackground, #352a05); }
.num { color: var(--vscode-descriptionForeground); text-align: right; }
.step { display: block; width: 100%; text-align: left; cursor: pointer; font: inherit; color: inherit; padding: .2em .4em; border-radius: 3px;
  background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-editorWidget-border, transparent); }
.step:hover, .step:focus { background: var(--vscode-list-hoverBackground); }
.where, .choice { display: block; font-size: .85em; color: var(--vscode-descriptionForeground); }
.choice::before { content: 'choice: '; }
.lock, .counter { display: inline-block; margin: 0 .3em .1em 0; padding: 0 .3em; border-radius: 3px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.counter { background: transparent; color: inherit; border: 1px solid var(--vscode-panel-border); }
.counter.changed { font-weight: bold; border-color: var(--vscode-focusBorder); }
.counter.negative { border-color: var(--vscode-errorForeground); color: var(--vscode-errorForeground); }
.none { color: var(--vscode-descriptionForeground); }
.t0 { border-left: 4px solid #888; } .t1 { border-left: 4px solid #3794ff; } .t2 { border-left: 4px solid #d18616; }
.t3 { border-left: 4px solid #89d185; } .t4 { border-left: 4px solid #c586c0; } .t5 { border-left: 4px solid #f14c4c; }
`;

const SCRIPT = `
const vscode = acquireVsCodeApi();
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const step = target && target.closest('[data-step]');
  if (step) {
    vscode.postMessage({ type: 'reveal', scenario: Number(step.dataset.scenario), step: Number(step.dataset.step) });
    return;
  }
  if (target && target.closest('[data-function]')) vscode.postMessage({ type: 'revealFunction' });
});
`;

/** The whole page. `nonce` must be fresh for every rendering. */
export function renderReport(view: ReportView, nonce: string): string {
  const r = view.report;
  const scenarios = r.scenarios.length === 0
    ? `<p class="empty">No scenario ran for <code>${escapeHtml(r.function)}()</code>: the simulator has no scenario for this function yet.</p>`
    // Violations first: they are what the reader came for. Each keeps its index in the report.
    : r.scenarios.map((s, i) => ({ s, i })).sort((a, b) => VERDICT_ORDER[a.s.verdict] - VERDICT_ORDER[b.s.verdict] || a.i - b.i)
      .map(({ s, i }) => scenario(s, i, view)).join('\n');
  const violations = r.scenarios.filter((s) => s.verdict === 'violation').length;
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simulation of ${escapeHtml(r.function)}()</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<h1>Simulation of <button data-function title="Show the function in the editor"><code>${escapeHtml(r.function)}()</code></button></h1>
<p class="meta">${escapeHtml(view.fileName)}:${view.functionLine + 1} · ${r.scenarios.length} scenario${r.scenarios.length === 1 ? '' : 's'} · ${violations} violation${violations === 1 ? '' : 's'} · ${escapeHtml(Math.round(r.elapsedMs))} ms</p>
${r.configuration && r.configuration.length > 0 ? `<details class="configuration"><summary>Kernel configuration simulated (#if groups)</summary><ul>${r.configuration.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('')}</ul></details>` : ''}
${scenarios}
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

/** Checks a message from the page: the page is not trusted to send valid indexes. */
export function parseMessage(m: unknown, view: ReportView): ReportMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const msg = m as Record<string, unknown>;
  if (msg.type === 'revealFunction') return { type: 'revealFunction' };
  if (msg.type !== 'reveal' || !Number.isInteger(msg.scenario) || !Number.isInteger(msg.step)) return undefined;
  const scenario = msg.scenario as number;
  const step = msg.step as number;
  if (!view.stepRanges[scenario]?.[step]) return undefined;
  return { type: 'reveal', scenario, step };
}
