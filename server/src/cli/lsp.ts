/**
 * `jailcheck lsp`: the language server over stdio, for any editor that
 * speaks LSP (Neovim, Helix, Emacs, …). `--node-ipc` is accepted too, which
 * is how vscode-languageclient starts a node module.
 */
import type { Command } from 'commander';
import { createServerConnection, startServer } from '../lsp/server';

export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('run the language server (stdio by default)')
    .option('--stdio', 'talk LSP over stdin/stdout (the default)')
    .option('--node-ipc', 'talk LSP over node IPC (when started by vscode-languageclient)')
    // Clients add their own flags (--clientProcessId=…); they are not ours to reject.
    .allowUnknownOption()
    .action((opts: { stdio?: boolean; nodeIpc?: boolean }) => {
      startServer(createServerConnection(opts.nodeIpc ? 'ipc' : 'stdio'));
      // The connection keeps the process alive; the server exits on `exit` or when its input closes.
      return new Promise<never>(() => {});
    });
}
