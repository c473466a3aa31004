/**
 * The language server with the simulator replaced by a prepared report
 * (see fakeSimulator.ts, which the analysis worker loads in its place), so
 * the background-simulation plumbing can be tested end to end while the
 * simulator is a stub. Started by the tests as
 * `node --import tsx test/lsp/fakeSimulatorServer.ts`.
 */
import * as path from 'node:path';
import { createServerConnection, startServer } from '../../server/src/lsp/server';

startServer(createServerConnection('stdio'), { simulatorModule: path.join(__dirname, 'fakeSimulator.ts') });
