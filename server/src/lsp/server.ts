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
import { AnalysisScheduler, AnalysedDocument } from './analysis';
import { CodeLensFeature } from './codeLens';
import { CommandsFeature, SERVER_COMMANDS } from './commands';
import { DiagnosticsPublisher } from './diagnostics';
import { fileOf } from './files';
import { HeadBaseline, REFRESH_MS } from './headBaseline';
import { HoverFeature } from './hover';
import { BackgroundSimulation } from './interleaving';
import { Logger } from './logger';
import { isPatchDocument, PatchReviewFeature } from './patchReview';
import { SettingsStore } from './settings';
import { StatusReporter } from './status';
import { AnalysisWorkerClient } from './worker/client';

export type Transport = 'stdio' | 'ipc';

export interface ServerOptions {
  /**
   * A module (loaded in the analysis worker) whose `simulateFunction`
   * replaces the simulator: the tests' prepared reports.
   */
  readonly simulatorModule?: string;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const logger = new Logger(connection);
  logger.captureConsole();
  // The server outlives a bug in one request: log it and keep serving.
  process.on('uncaughtException', (err) => logger.error('uncaught exception', err));
  process.on('unhandledRejection', (err) => logger.error('unhandled promise rejection', err));

  const documents = new TextDocuments(TextDocument);
  const settings = new SettingsStore(connection, logger);
  let scheduler: AnalysisScheduler | undefined;
  let review: PatchReviewFeature | undefined;
  let worker: AnalysisWorkerClient | undefined;
  // The workspace folders on disk: where a patch's base file is looked for.
  let folders: string[] = [];
  let foldersChange = false;

  connection.onInitialize(async (params) => {
    const pull = params.capabilities.workspace?.configuration === true;
    const startup = settings.initialize(params.initializationOptions, pull);
    // Everything that takes time runs in the analysis worker; this thread answers the editor.
    const w = await AnalysisWorkerClient.start({
      parser: startup.parser, logger, ...(options.simulatorModule ? { simulatorModule: options.simulatorModule } : {}),
      onStates: (analysis, states) => scheduler?.statesArrived(analysis, states),
      onRestart: () => scheduler?.workerRestarted(),
    });
    worker = w;
    folders = workspaceFoldersOf(params);
    foldersChange = params.capabilities.workspace?.workspaceFolders === true;
    const status = new StatusReporter(connection, w.parser, logger);
    const publisher = new DiagnosticsPublisher(connection);
    const background = new BackgroundSimulation(w, publisher, status, logger,
      (doc, findings) => head.newFindingsOf(doc, findings, 'interleaving'));
    const s = new AnalysisScheduler(w, documents, settings, status, logger);
    scheduler = s;
    // Findings new since HEAD: known once git has answered; the diagnostics are then published again.
    const newSinceHead = (doc: AnalysedDocument) => head.newFindingsOf(doc, doc.snapshot?.findings ?? [], 'static');
    const head = new HeadBaseline(w, logger, (uri) => {
      const doc = s.latest(uri);
      if (!doc) return;
      publisher.restated(doc, newSinceHead(doc));
      background.restate(doc);
    }, () => folders);
    review = new PatchReviewFeature(connection, documents, settings, w, status, logger, () => folders);
    const r = review;
    s.onDidEdit((uri) => background.cancel(uri));
    s.onDidAnalyse((doc) => {
      publisher.analysed(doc, newSinceHead(doc));
      if (!doc.complete) return;
      background.analysed(doc);
      r.baseEdited(doc.uri);
      head.refreshFor(doc);
    });
    // A commit or a checkout changes HEAD without an edit: look again now and then (a git
    // rev-parse per open C file; a new blob is analysed, the same one is not).
    setInterval(() => {
      for (const d of documents.all()) {
        const latest = s.latest(d.uri);
        if (latest) head.refreshFor(latest);
      }
    }, REFRESH_MS).unref();
    new HoverFeature(connection, s, documents, logger);
    new CodeLensFeature(connection, s, logger, r);
    const commands = new CommandsFeature(connection, s, status, logger, w, r);
    commands.clientSupportsProgress = params.capabilities.window?.workDoneProgress === true;
    documents.onDidClose((e) => {
      if (isPatchDocument(e.document)) {
        r.closed(e.document.uri);
        return;
      }
      s.close(e.document.uri);
      head.forget(e.document.uri);
      background.closed(e.document.uri);
      publisher.closed(e.document.uri);
    });
    logger.info(`jailcheck language server started (pid ${process.pid}, debounce ${startup.debounceMs} ms${pull ? ', settings per document' : ''}; analysis in a worker thread)`);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: SERVER_COMMANDS },
        ...(foldersChange ? { workspace: { workspaceFolders: { supported: true, changeNotifications: true } } } : {}),
      },
      serverInfo: { name: 'jailcheck', version: '0.1.0' },
    };
  });

  connection.onShutdown(() => worker?.dispose());

  connection.onInitialized(() => {
    if (!foldersChange) return;
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      const removed = new Set(e.removed.map((f) => fileOf(f.uri)));
      folders = [...folders.filter((f) => !removed.has(f)), ...e.added.map((f) => fileOf(f.uri)).filter((f): f is string => !!f)];
    });
  });

  // Fires on open too: the first analysis of a document is scheduled like any other.
  documents.onDidChangeContent((e) => {
    if (isPatchDocument(e.document)) review?.schedule(e.document.uri);
    else scheduler?.schedule(e.document.uri);
  });


  connection.onDidChangeConfiguration((change) => {
    settings.changed(change.settings);
    scheduler?.reconfigure();
  });

  documents.listen(connection);
  connection.listen();
}

/** The workspace folders on disk (where "Review Patch" looks for the file a patch names). */
function workspaceFoldersOf(params: { workspaceFolders?: Array<{ uri: string }> | null; rootUri?: string | null }): string[] {
  const uris = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
  return uris.map((u) => fileOf(u)).filter((f): f is string => !!f);
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
