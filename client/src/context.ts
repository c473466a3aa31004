/**
 * Owns the language client and every subscription of the extension, and
 * composes the features: the status item, the report panel, the commands.
 * The server is dist/server.js, started over node IPC.
 */
import * as vscode from 'vscode';
import {
  LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind,
} from 'vscode-languageclient/node';
import { SimulateCommand, StatusNotification } from '../../server/src/lsp/protocol';
import { registerCommands } from './commands';
import { ReportPanel } from './reportPanel';
import { simulate } from './simulate';
import { StatusItem } from './statusItem';
import { withTrust } from './trust';

export class JailcheckContext implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly status: StatusItem;
  readonly reports: ReportPanel;
  private client?: LanguageClient;
  /** Why the server is not running, when it is not. */
  private down = 'it has not started yet';
  /** Set while we stop the server ourselves, so that its stopping is not reported as a crash. */
  private stopping = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Subscriptions to the current client, dropped with it. */
  private clientSubscriptions: vscode.Disposable[] = [];

  private constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Jailcheck', { log: true });
    this.status = new StatusItem();
    this.reports = new ReportPanel();
    this.subscriptions.push(this.log, this.status, this.reports);
  }

  static async create(extension: vscode.ExtensionContext): Promise<JailcheckContext> {
    const ctx = new JailcheckContext(extension);
    extension.subscriptions.push(ctx);
    registerCommands(ctx);
    ctx.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('jailcheck.parser')) void ctx.restart();
      }),
      // Trust granted: the budget settings of the workspace now apply, and git may run: start afresh.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void ctx.restart()),
    );
    await ctx.start();
    return ctx;
  }

  /** The running client, or undefined (then `whyDown` says why). */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  get whyDown(): string {
    return this.down;
  }

  hasServerCommand(command: string): boolean {
    return this.running?.initializeResult?.capabilities.executeCommandProvider?.commands.includes(command) ?? false;
  }

  register(...disposables: vscode.Disposable[]): void {
    this.subscriptions.push(...disposables);
  }

  async start(): Promise<void> {
    const module = this.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const config = vscode.workspace.getConfiguration('jailcheck');
    const clientOptions: LanguageClientOptions = {
      // C files are analysed; patches (.diff, .patch) are reviewed against the C file they name.
      documentSelector: [{ language: 'c' }, { language: 'diff' }, { pattern: '**/*.{patch,diff}' }],
      outputChannel: this.log,
      // The parser is chosen once, when the server starts.
      // The parser is chosen once, when the server starts; so is whether it may run git (trust).
      initializationOptions: { parser: config.get<string>('parser', 'auto'), trusted: vscode.workspace.isTrusted },
      synchronize: { configurationSection: 'jailcheck' },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            return Array.isArray(answer) ? withTrust(params, answer) : answer;
          },
        },
        // A click on the "Simulate" lens runs the server command through VS Code; show its report.
        executeCommand: async (command, args, next) => {
          if (command === SimulateCommand.command) return simulate(this, args[0] as SimulateCommand.Arguments);
          return next(command, args);
        },
      },
    };
    const client = new LanguageClient('jailcheck', 'jailcheck', serverOptions, clientOptions);
    this.client = client;
    this.status.starting();
    this.clientSubscriptions.push(client.onDidChangeState((e) => {
      if (e.newState !== State.Stopped) return;
      if (!this.stopping) this.down = 'it stopped unexpectedly (the Jailcheck output may say why)';
      this.status.stopped(this.down);
    }));
    try {
      await client.start();
      this.clientSubscriptions.push(client.onNotification(StatusNotification.method, (p: StatusNotification.Params) => this.status.update(p)));
    } catch (err) {
      this.down = `it failed to start: ${err instanceof Error ? err.message : String(err)}`;
      this.log.error(`the language server failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      this.status.stopped(this.down);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    this.down = 'it was stopped';
    this.stopping = true;
    try {
      if (client.state !== State.Stopped) await client.stop(5000);
    } catch (err) {
      this.log.warn(`stopping the language server: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.stopping = false;
    }
    for (const d of this.clientSubscriptions.splice(0)) d.dispose();
    await client.dispose();
  }

  async restart(): Promise<void> {
    this.log.info('restarting the language server');
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const d of this.subscriptions.splice(0)) d.dispose();
  }
}
