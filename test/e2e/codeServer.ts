/**
 * A real VS Code for the end-to-end tests: code-server (installed by
 * scripts/e2e-setup.sh into a cache folder outside the repository) with a
 * fresh profile, the packaged .vsix installed into it, and Debian's chromium
 * driven by playwright-core. Everything it writes goes to one scratch
 * folder (HOME and XDG_* included); the server runs in its own process group
 * and is stopped by group. Facts behind each choice: ../shared/E2E-NOTES.md.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE = process.env.JAILCHECK_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'jailcheck-e2e');
export const CODE_SERVER = path.join(CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.JAILCHECK_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const VSIX = path.join(ROOT, 'jailcheck.vsix');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');

/** What is missing for the end-to-end tests, in one sentence each (empty when ready). */
export function missingPrerequisites(): string[] {
  const out: string[] = [];
  if (!fs.existsSync(CODE_SERVER)) out.push(`code-server ${CODE_SERVER_VERSION} is not in ${CACHE}: run scripts/e2e-setup.sh`);
  if (!fs.existsSync(CHROMIUM)) out.push(`${CHROMIUM} is missing: run scripts/e2e-setup.sh (Debian package chromium)`);
  if (!fs.existsSync(VSIX)) out.push('jailcheck.vsix is missing: run npm run package');
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

export interface EditorSession {
  readonly page: Page;
  /** Milliseconds spent in each phase of the start, for the log. */
  readonly timings: Readonly<Record<string, number>>;
  readonly workspace: string;
  /** Saves a screenshot as test-artifacts/e2e/<name>.png. */
  screenshot(name: string): Promise<void>;
  /** Keeps code-server's logs (the extension host's and the Jailcheck output) next to the screenshots. */
  keepLogs(): void;
  /** Writes a text file next to the screenshots. */
  note(name: string, text: string): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Files of the workspace: name → content. */
  readonly files: Readonly<Record<string, string>>;
  readonly settings?: Readonly<Record<string, unknown>>;
  /** More code-server arguments (`--log trace` when chasing a problem). */
  readonly args?: readonly string[];
}

/** Empties test-artifacts/e2e/, so what is there after a run is that run's. */
export function clearArtifacts(): void {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}

export async function openEditor(options: SessionOptions): Promise<EditorSession> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jailcheck-e2e-'));
  const dir = (name: string) => {
    const d = path.join(scratch, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const home = dir('home');
  const userData = dir('user-data');
  const extensions = dir('extensions');
  const workspace = dir('workspace');
  const browserProfile = dir('chromium');
  for (const [name, text] of Object.entries(options.files)) fs.writeFileSync(path.join(workspace, name), text);
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'editor.hover.delay': 100,
    // Typing in the test goes through Chromium's input one character at a
    // time; word suggestions popping up on each would only measure VS Code.
    'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
    'editor.suggestOnTriggerCharacters': false,
    'editor.wordBasedSuggestions': 'off',
    'editor.minimap.enabled': false,
    ...options.settings,
  }, null, 2));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: dir('runtime'),
  };
  const common = ['--config', '/dev/null', '--user-data-dir', userData, '--extensions-dir', extensions];
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    timings[name] = now - mark;
    mark = now;
  };
  execFileSync(CODE_SERVER, [...common, '--install-extension', VSIX], { env, stdio: 'pipe', timeout: 60_000 });
  phase('installExtension');

  const port = await freePort();
  const server: ChildProcess = spawn(CODE_SERVER, [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ...(options.args ?? []), workspace],
  { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let serverLog = '';
  server.stdout!.on('data', (c: Buffer) => { serverLog += c.toString(); });
  server.stderr!.on('data', (c: Buffer) => { serverLog += c.toString(); });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));

  let context: BrowserContext | undefined;
  const stopServer = async () => {
    if (server.exitCode === null && server.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => { try { process.kill(-server.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    // code-server answers /healthz within a second or two of starting.
    const deadline = Date.now() + 60_000;
    while (!(await healthy(port))) {
      if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}):\n${serverLog}`);
      if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz within 60 s:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    phase('codeServerStart');
    context = await chromium.launchPersistentContext(browserProfile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    // No action may wait forever: a test fails with a timeout instead of hanging.
    context.setDefaultTimeout(30_000);
    const page = context.pages()[0] ?? await context.newPage();
    phase('browserStart');
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    phase('workbenchLoad');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    return {
      page,
      timings,
      workspace,
      screenshot: async (name) => { await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }); },
      note: (name, text) => fs.writeFileSync(path.join(ARTIFACTS, name), text),
      keepLogs: () => {
        const logs = path.join(userData, 'logs');
        if (fs.existsSync(logs)) fs.cpSync(logs, path.join(ARTIFACTS, 'logs'), { recursive: true });
        fs.writeFileSync(path.join(ARTIFACTS, 'code-server.log'), serverLog);
      },
      close: async () => {
        // A page left open keeps an extension host (and our language server) alive.
        await page.goto('about:blank').catch(() => undefined);
        await context!.close();
        await stopServer();
        fs.rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await context?.close().catch(() => undefined);
    await stopServer();
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts watching the page for `condition` (a JavaScript expression over
 * `document`) to become true; the returned function resolves with the page's
 * clock (performance.now()) at that moment, so that two watches started
 * together can be subtracted. A MutationObserver sees the change as it
 * happens: no polling, no polling delay in the figure.
 */
export async function watchFor(page: Page, condition: string, timeoutMs: number): Promise<() => Promise<number>> {
  const key = `__jailcheckWatch${Math.random().toString(36).slice(2)}`;
  // A string, not a function: the test runner's transpiler adds helpers a page does not have.
  await page.evaluate(`void (window.${key} = new Promise((resolve, reject) => {
    const holds = () => { try { return Boolean(${condition}); } catch { return false; } };
    if (holds()) { resolve(performance.now()); return; }
    const observer = new MutationObserver(() => {
      if (holds()) { observer.disconnect(); clearTimeout(timer); resolve(performance.now()); }
    });
    const timer = setTimeout(() => { observer.disconnect(); reject(new Error('not within ${timeoutMs} ms: ' + ${JSON.stringify(condition)})); }, ${timeoutMs});
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }))`);
  return () => page.evaluate(`window.${key}`) as Promise<number>;
}
