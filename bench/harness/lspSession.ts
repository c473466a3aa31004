/**
 * A language client for measurements: starts `node dist/server.js --stdio`
 * and speaks LSP to it through vscode-languageserver-protocol, the way an
 * editor would. Waiting is on the server's messages (with a time limit so a
 * stuck server fails the measurement instead of hanging it), never on sleeps.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import {
  createProtocolConnection, DidChangeTextDocumentNotification, DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification, ExitNotification, HoverRequest, InitializedNotification, InitializeRequest,
  ProtocolConnection, PublishDiagnosticsNotification, PublishDiagnosticsParams, ShutdownRequest,
  StreamMessageReader, StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

export interface Position {
  readonly line: number;
  readonly character: number;
}

/** Offsets to LSP positions (UTF-16 code units, as JavaScript strings count them). */
export function positionAt(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}

export class LspSession {
  private readonly waiters = new Map<string, (p: PublishDiagnosticsParams) => void>();
  private readonly completions = new Map<string, () => void>();
  private stderr = '';

  private constructor(private readonly child: ChildProcess, private readonly connection: ProtocolConnection) {
    child.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    // jailcheck/status says when an analysis is complete (its callers' included), for which version.
    connection.onNotification('jailcheck/status', (p: { lastAnalysis?: { uri: string; version: number; complete?: boolean } }) => {
      const last = p.lastAnalysis;
      if (!last || last.complete === false) return;
      const key = `${last.uri}#${last.version}`;
      const w = this.completions.get(key);
      if (w) {
        this.completions.delete(key);
        w();
      }
    });
    connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      const key = `${p.uri}#${p.version}`;
      const w = this.waiters.get(key);
      if (w) {
        this.waiters.delete(key);
        w(p);
      }
    });
    // Requests a server may send; an editor would answer them.
    connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => null));
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('client/registerCapability', () => null);
  }

  /**
   * Starts the server and completes the handshake; `settings` go in
   * initializationOptions. A `.js` path is jailcheck's server, run by Node;
   * anything else is a program to run (clangd, with `args`).
   */
  static async start(serverPath: string, settings: unknown, args: readonly string[] = []): Promise<LspSession> {
    const child = serverPath.endsWith('.js')
      ? spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(serverPath, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const session = new LspSession(child, connection);
    connection.listen();
    await session.within(connection.sendRequest(InitializeRequest.type, {
      processId: process.pid, rootUri: null, initializationOptions: settings,
      capabilities: { textDocument: { publishDiagnostics: { versionSupport: true, relatedInformation: true } } },
    }), 30_000, 'initialize');
    await connection.sendNotification(InitializedNotification.type, {});
    return session;
  }

  /** Resolves when diagnostics for this version of the document are published. */
  diagnostics(uri: string, version: number, timeoutMs: number): Promise<PublishDiagnosticsParams> {
    return this.within(new Promise((resolve) => this.waiters.set(`${uri}#${version}`, resolve)), timeoutMs,
      `publishDiagnostics for ${uri} version ${version}`);
  }

  /** Resolves when the analysis of this version is complete (jailcheck/status). */
  complete(uri: string, version: number, timeoutMs: number): Promise<void> {
    return this.within(new Promise<void>((resolve) => this.completions.set(`${uri}#${version}`, resolve)), timeoutMs,
      `a complete analysis of ${uri} version ${version}`);
  }

  /** The server process's resident memory in bytes (Linux: /proc), undefined where it cannot be read. */
  async memory(): Promise<number | undefined> {
    try {
      const status = await fs.promises.readFile(`/proc/${this.child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  async open(uri: string, text: string, timeoutMs: number): Promise<PublishDiagnosticsParams> {
    const published = this.diagnostics(uri, 1, timeoutMs);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    return published;
  }

  async insert(uri: string, version: number, at: Position, text: string, timeoutMs: number): Promise<PublishDiagnosticsParams> {
    const published = this.diagnostics(uri, version, timeoutMs);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version }, contentChanges: [{ range: { start: at, end: at }, text }],
    });
    return published;
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  hover(uri: string, at: Position, timeoutMs: number): Promise<unknown> {
    return this.within(this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at }), timeoutMs, 'hover');
  }

  /** shutdown, exit, and the process's end; a server that does not end within a few seconds is killed. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await this.within(this.connection.sendRequest(ShutdownRequest.type), 5_000, 'shutdown');
      await this.connection.sendNotification(ExitNotification.type);
      await this.within(exited, 5_000, 'exit');
    } catch {
      // A server that does not shut down is stopped below all the same.
    }
    this.connection.dispose();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }

  private within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} from the server within ${ms} ms${this.stderr ? `; its stderr ends:\n${this.stderr}` : ''}`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
