/**
 * Latency of the language server as an editor sees it, over stdio with the
 * debounce off: didOpen → diagnostics, a one-character didChange inside
 * prison_deref → the diagnostics of that version (100 edits), and hover
 * (100 requests). Not a test (it asserts nothing); run it with
 *
 *   npm run build && node --import tsx test/lsp/latency.ts [--parser native|wasm] [FILE...]
 *
 * FILE defaults to examples/kern_jail_2011.c.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient, positionOf, ROOT } from './lspClient';

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summary(samples: readonly number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `median ${quantile(s, 0.5).toFixed(1)} ms, p95 ${quantile(s, 0.95).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms (n=${s.length})`;
}

async function measure(file: string, parser: string): Promise<void> {
  const text = fs.readFileSync(file, 'utf8');
  const client = await LspClient.start({ initializationOptions: { debounceMs: 0, parser, simulator: { background: false } } });
  try {
    const uri = (n: number) => `${pathToFileURL(file).href}?copy=${n}`;
    // Open: the first in a fresh server (cold), then the same text under other names (warm caches, new analyzers).
    const opens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      await client.open(uri(i), text);
      opens.push(performance.now() - t0);
      if (i > 0) client.notify('textDocument/didClose', { textDocument: { uri: uri(i) } });
    }
    // Edits: a space inserted at the start of prison_deref's body, then removed, alternately.
    const def = text.search(/\nprison_deref\(/);
    if (def < 0) throw new Error(`${file}: no prison_deref definition`);
    const bodyLine = positionOf(text, '{\n', { after: text.slice(def, def + 60) }).line + 1;
    const at = { line: bodyLine, character: 0 };
    const edits: number[] = [];
    for (let version = 2; version < 102; version++) {
      const change = version % 2 === 0
        ? { range: { start: at, end: at }, text: ' ' }
        : { range: { start: at, end: { line: at.line, character: 1 } }, text: '' };
      const t0 = performance.now();
      await client.change(uri(0), version, change);
      edits.push(performance.now() - t0);
    }
    // Hover on a statement inside prison_deref (the document is current: no analysis in the way).
    const position = positionOf(text, 'mtx_unlock(', { after: text.slice(def, def + 40) });
    const hovers: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      const h = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri: uri(0) }, position });
      hovers.push(performance.now() - t0);
      if (!h) throw new Error('no hover inside prison_deref');
    }
    const backend = client.logs().find((l) => l.startsWith('parser:')) ?? '';
    console.log(`${path.relative(ROOT, file) || file} (${text.split('\n').length} lines, ${backend})`);
    console.log(`  didOpen → diagnostics: cold ${opens[0]!.toFixed(1)} ms; warm ${summary(opens.slice(1))}`);
    console.log(`  one-character didChange in prison_deref → diagnostics of that version: ${summary(edits)}`);
    console.log(`  hover in prison_deref: ${summary(hovers)}`);
  } finally {
    await client.shutdown();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const p = args.indexOf('--parser');
  const parser = p >= 0 ? args.splice(p, 2)[1]! : 'native';
  const files = args.length > 0 ? args : [path.join(ROOT, 'examples', 'kern_jail_2011.c')];
  for (const f of files) await measure(f, parser);
}

main().catch((err: unknown) => {
  process.stderr.write(`latency: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
