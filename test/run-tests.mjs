// Runs every test file under test/ (except the end-to-end suite, which
// `npm run test:e2e` runs) with node's own test runner, TypeScript loaded
// through tsx. Fails when a file fails, and when no test file was found.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'e2e' || name === 'fixtures' || name === 'node_modules') continue;
      out.push(...collect(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = collect(root).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
