/**
 * A minimal LSP client for tests and measurements: spawns the bundled
 * server (dist/server.js) over stdio and talks to it as an editor would —
 * Content-Length framing, requests with ids, notifications, and answers to
 * the server's own requests (workspace/configuration, progress creation).
 * Waiting is on messages, with a timeout, never on sleeps.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SERVER = path.join(ROOT, 'dist', 'server.js');

export interface Message {
  readonly jsonrpc: '2.0';
  readonly id?: number | string;
  readonly method?: string;
  readonly params?: unknown;
  readonly result?: unknown;
  readonly error?: { code: number; message: string };
}

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface Diagnostic {
  range: Range;
  severity?: number;
  code?: string | number;
  source?: string;
  message: string;
  relatedInformation?: Array<{ location: { uri: string; range: Range }; message: string }>;
}
export interface PublishDiagnosticsParams { uri: string; version?: number; diagnostics: Diagnostic[] }

export interface ClientOptions {
  /** Defaults to `node dist/server.js --stdio`. */
  readonly command?: readonly string[];
  readonly initializationOptions?: unknown;
  /** Answers workspace/configuration; when absent the client does not offer it. */
  readonly configuration?: (items: Array<{ scopeUri?: string; section?: string }>) => unknown[];
  /** Advertise window.workDoneProgress. */
  readonly workDoneProgress?: boolean;
  /** The workspace root (file URI); none by default. */
  readonly rootUri?: string;
  /** Advertise workspace.workspaceFolders (the client then tells of folders added and removed). */
  readonly workspaceFolders?: boolean;
  /** Extra environment for the server process. */
  readonly env?: Readonly<Record<string, string>>;
}

interface Waiter {
  readonly method: string;
  readonly predicate: (params: never) => boolean;
  readonly resolve: (params: unknown) => void;
}

export class LspError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export class LspClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private waiters: Waiter[] = [];
  /** Every notification received, in order. */
  readonly notifications: Array<{ method: string; params: unknown; at: number }> = [];
  readonly serverRequests: Array<{ method: string; params: unknown }> = [];
  stderr = '';
  private exited?: Promise<number | null>;

  private constructor(private readonly options: ClientOptions) {
    const [cmd, ...args] = options.command ?? [process.execPath, SERVER, '--stdio'];
    this.child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`server exited (${code}) before answering; stderr:\n${this.stderr}`));
      this.pending.clear();
      resolve(code);
    }));
  }

  /** Starts the server and completes the initialize handshake. */
  static async start(options: ClientOptions = {}): Promise<LspClient> {
    const client = new LspClient(options);
    await client.request('initialize', {
      processId: process.pid,
      rootUri: options.rootUri ?? null,
      initializationOptions: options.initializationOptions,
      capabilities: {
        workspace: { configuration: options.configuration !== undefined, workspaceFolders: options.workspaceFolders === true },
        window: { workDoneProgress: options.workDoneProgress === true },
        textDocument: {
          publishDiagnostics: { relatedInformation: true, versionSupport: true },
          hover: { contentFormat: ['markdown', 'plaintext'] },
        },
      },
    });
    client.notify('initialized', {});
    return client;
  }

  request<R = unknown>(method: string, params: unknown, timeoutMs = 30_000): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => { clearTimeout(timer); resolve(r as R); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** The next notification of `method` whose params satisfy `predicate`, from now on. */
  next<P>(method: string, predicate: (params: P) => boolean = () => true, timeoutMs = 30_000): Promise<P> {
    return new Promise<P>((resolve, reject) => {
      const waiter: Waiter = { method, predicate: predicate as (p: never) => boolean, resolve: resolve as (p: unknown) => void };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${method} within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push({ ...waiter, resolve: (p) => { clearTimeout(timer); resolve(p as P); } });
    });
  }

  /** The diagnostics published for `uri` at `version`, from now on. */
  diagnostics(uri: string, version: number, timeoutMs = 30_000): Promise<PublishDiagnosticsParams> {
    return this.next<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && p.version === version, timeoutMs);
  }

  /** Opens a document and resolves with its first diagnostics. */
  async open(uri: string, text: string, version = 1): Promise<PublishDiagnosticsParams> {
    const published = this.diagnostics(uri, version);
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
    return published;
  }

  /** Sends one change (incremental when `range` is given, else the full text) and resolves with that version's diagnostics. */
  async change(uri: string, version: number, change: { range?: Range; text: string }): Promise<PublishDiagnosticsParams> {
    const published = this.diagnostics(uri, version);
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
    return published;
  }

  logs(): string[] {
    return this.notifications.filter((n) => n.method === 'window/logMessage').map((n) => (n.params as { message: string }).message);
  }

  async shutdown(): Promise<number | null> {
    if (this.child.exitCode === null) {
      await this.request('shutdown', null, 10_000);
      this.notify('exit', null);
    }
    return this.exited!;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }

  private write(message: Message): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString('ascii');
      const length = Number(/Content-Length: (\d+)/i.exec(header)?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.dispatch(JSON.parse(body) as Message);
    }
  }

  private dispatch(m: Message): void {
    if (m.method !== undefined && m.id !== undefined) {
      this.serverRequests.push({ method: m.method, params: m.params });
      let result: unknown = null;
      if (m.method === 'workspace/configuration') {
        const items = (m.params as { items: Array<{ scopeUri?: string; section?: string }> }).items;
        result = this.options.configuration?.(items) ?? items.map(() => null);
      }
      this.write({ jsonrpc: '2.0', id: m.id, result });
      return;
    }
    if (m.method !== undefined) {
      this.notifications.push({ method: m.method, params: m.params, at: performance.now() });
      const ready = this.waiters.filter((w) => w.method === m.method && w.predicate(m.params as never));
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(m.params);
      return;
    }
    const p = this.pending.get(m.id as number);
    if (!p) return;
    this.pending.delete(m.id as number);
    if (m.error) p.reject(new LspError(m.error.code, m.error.message));
    else p.resolve(m.result);
  }
}

export function fileUri(name: string): string {
  return pathToFileURL(path.join(ROOT, name)).href;
}

/** The LSP position (0-based) of the `occurrence`-th `snippet` in `text`, plus `offset` characters. */
export function positionOf(text: string, snippet: string, opts: { after?: string; occurrence?: number; offset?: number } = {}): Position {
  let from = opts.after ? text.indexOf(opts.after) : 0;
  if (from < 0) throw new Error(`positionOf: anchor not found: ${opts.after}`);
  let at = -1;
  for (let i = 0; i < (opts.occurrence ?? 1); i++) {
    at = text.indexOf(snippet, from);
    if (at < 0) throw new Error(`positionOf: not found: ${snippet}`);
    from = at + 1;
  }
  const offset = at + (opts.offset ?? 0);
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}
