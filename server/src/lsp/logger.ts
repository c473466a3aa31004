/**
 * The server's one logger. Lines go to the client's log (`window/logMessage`:
 * VS Code's "Jailcheck" output channel, Neovim's `lsp.log`). Errors the user
 * should see pop up once per distinct message, never on every keystroke.
 */
import type { Connection } from 'vscode-languageserver/node';

export class Logger {
  private readonly shown = new Set<string>();

  constructor(private readonly connection: Connection) {}

  info(message: string): void {
    this.connection.console.info(message);
  }

  warn(message: string): void {
    this.connection.console.warn(message);
  }

  /** An unexpected exception: logged with its stack; the server carries on. */
  error(context: string, err: unknown): void {
    const detail = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    this.connection.console.error(`${context}: ${detail}`);
  }

  /** Shows `message` to the user the first time it occurs (and logs it every time). */
  showErrorOnce(message: string): void {
    this.connection.console.error(message);
    if (this.shown.has(message)) return;
    this.shown.add(message);
    void this.connection.window.showErrorMessage(message);
  }

  /**
   * Routes `console.*` to this logger: over stdio a stray console.log from
   * any library would corrupt the protocol stream.
   */
  captureConsole(): void {
    const line = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    console.log = (...args: unknown[]) => this.info(line(args));
    console.info = console.log;
    console.debug = console.log;
    console.warn = (...args: unknown[]) => this.warn(line(args));
    console.error = (...args: unknown[]) => this.connection.console.error(line(args));
  }
}
