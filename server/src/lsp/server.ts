/**
 * The jailcheck language server: wiring only. It builds the shared services
 * (parser, settings, logger, status, analysis scheduler) and hands them to
 * one feature per file. Runs over IPC (the VS Code client) or stdio
 * (`jailcheck lsp`, `node dist/server.js --stdio`, any editor).
 */
import {
  createConnection, Connection, IPCMessageReader, IPCMessageWriter, ProposedFeatures,
  TextDocuments, TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createParser, CParser } from '../parsing/parser';
import { simulateFunction } from '../simulate';
import { AnalysisScheduler } from './analysis';
import { CodeLensFeature } from './codeLens';
import { CommandsFeature, SERVER_COMMANDS } from './commands';
import { DiagnosticsPublisher } from './diagnostics';
import { HoverFeature } from './hover';
import { BackgroundSimulation } from './interleaving';
import { Logger } from './logger';
import { SettingsStore } from './settings';
import { StatusReporter } from './status';

export type Transport = 'stdio' | 'ipc';

export interface ServerOptions {
  /** Replaces the simulator (tests hand in a fake that returns a prepared report). */
  readonly simulate?: typeof simulateFunction;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const logger = new Logger(connection);
  logger.captureConsole();
  // The server outlives a bug in one request: log it and keep serving.
  process.on('uncaughtException', (err) => logger.error('uncaught exception', err));
  process.on('unhandledRejection', (err) => logger.error('unhandled promise rejection', err));

  const simulate = options.simulate ?? simulateFunction;
  const documents = new TextDocuments(TextDocument);
  const settings = new SettingsStore(connection, logger);
  let parser: CParser | undefined;
  let scheduler: AnalysisScheduler | undefined;

  connection.onInitialize(async (params) => {
    const pull = params.capabilities.workspace?.configuration === true;
    const startup = settings.initialize(params.initializationOptions, pull);
    try {
      parser = await createParser(startup.parser);
    } catch (err) {
      // Only an explicit `native` choice can fail outright: say so and parse with WebAssembly.
      logger.error(`the ${startup.parser} tree-sitter binding did not load`, err);
      parser = await createParser('wasm');
    }
    const status = new StatusReporter(connection, parser, logger);
    const publisher = new DiagnosticsPublisher(connection);
    const background = new BackgroundSimulation(publisher, status, logger, simulate);
    scheduler = new AnalysisScheduler(parser, documents, settings, status, logger);
    scheduler.onDidEdit((uri) => background.cancel(uri));
    scheduler.onDidAnalyse((doc) => {
      publisher.analysed(doc);
      background.analysed(doc);
    });
    new HoverFeature(connection, scheduler, logger);
    new CodeLensFeature(connection, scheduler, logger);
    const commands = new CommandsFeature(connection, scheduler, status, logger, simulate);
    commands.clientSupportsProgress = params.capabilities.window?.workDoneProgress === true;
    const s = scheduler;
    documents.onDidClose((e) => {
      s.close(e.document.uri);
      background.closed(e.document.uri);
      publisher.closed(e.document.uri);
    });
    logger.info(`jailcheck language server started (pid ${process.pid}, debounce ${startup.debounceMs} ms${pull ? ', settings per document' : ''})`);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: SERVER_COMMANDS },
      },
      serverInfo: { name: 'jailcheck', version: '0.1.0' },
    };
  });

  // Fires on open too: the first analysis of a document is scheduled like any other.
  documents.onDidChangeContent((e) => scheduler?.schedule(e.document.uri));

  connection.onDidChangeConfiguration((change) => {
    settings.changed(change.settings);
    scheduler?.reconfigure();
  });

  documents.listen(connection);
  connection.listen();
}

/** A connection over the given transport, for `jailcheck lsp` and for this file run directly. */
export function createServerConnection(transport: Transport): Connection {
  if (transport === 'ipc') {
    // The client going away ends the server too.
    process.on('disconnect', () => process.exit(0));
    return createConnection(ProposedFeatures.all, new IPCMessageReader(process), new IPCMessageWriter(process));
  }
  // Raw streams (not readers): the library then exits when stdin closes.
  return createConnection(ProposedFeatures.all, process.stdin, process.stdout);
}

/** `--node-ipc` (how vscode-languageclient starts a node module) or `--stdio` (the default). */
export function transportFromArgs(args: readonly string[]): Transport {
  return args.includes('--node-ipc') ? 'ipc' : 'stdio';
}

/**
 * Whether this module is the program being run: dist/server.js (or this
 * file run through tsx). dist/cli.js bundles this module too, for
 * `jailcheck lsp`, and in a bundle every module sees the bundle's own
 * `module`, so `require.main === module` alone would start a server inside
 * `jailcheck check`.
 */
function isServerEntry(): boolean {
  return require.main === module && /(^|[\\/])server\.[jt]s$/.test(require.main.filename);
}

if (isServerEntry()) {
  startServer(createServerConnection(transportFromArgs(process.argv.slice(2))));
}
