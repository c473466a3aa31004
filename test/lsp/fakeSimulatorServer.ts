/**
 * The language server with the simulator replaced by a prepared report (the
 * JSON file named by JAILCHECK_FAKE_REPORT), so the background-simulation
 * plumbing can be tested end to end while the simulator is a stub. Started
 * by the tests as `node --import tsx test/lsp/fakeSimulatorServer.ts`.
 */
import * as fs from 'node:fs';
import type { SimulationReport } from '../../simulator/src/sim/report';
import { createServerConnection, startServer } from '../../server/src/lsp/server';

const report = JSON.parse(fs.readFileSync(process.env.JAILCHECK_FAKE_REPORT!, 'utf8')) as SimulationReport;

startServer(createServerConnection('stdio'), {
  simulate: async (_ir, name) => (name === report.function ? report : { function: name, scenarios: [], elapsedMs: 0 }),
});
