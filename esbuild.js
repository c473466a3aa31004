// Bundles the extension client, the language server, the CLI and the
// benchmark. esbuild only strips types: `npm run typecheck` (tsc -b) is what
// checks them. The tree-sitter packages stay external: they carry native
// and WebAssembly files that are loaded from node_modules at run time.
const esbuild = require('esbuild');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  external: ['vscode', 'tree-sitter', 'tree-sitter-c', 'web-tree-sitter'],
};

const entries = [
  { entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.js' },
];
const optional = [
  { entryPoints: ['server/src/lsp/server.ts'], outfile: 'dist/server.js' },
  // The language server's analysis thread (server/src/lsp/worker/client.ts starts it from beside the server).
  { entryPoints: ['server/src/lsp/worker/analysisWorker.ts'], outfile: 'dist/analysisWorker.js' },
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js' },
];

async function main() {
  const fs = require('fs');
  const all = [...entries, ...optional.filter((e) => fs.existsSync(e.entryPoints[0]))];
  if (watch) {
    for (const e of all) await (await esbuild.context({ ...common, ...e })).watch();
    return;
  }
  await Promise.all(all.map((e) => esbuild.build({ ...common, ...e })));
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
