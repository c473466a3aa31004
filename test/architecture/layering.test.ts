/**
 * ARCHITECTURE.md's dependency rules, checked on the sources: what each
 * folder may import (the compiler enforces some of it through the
 * projects' settings; this test enforces all of it, for every kind of
 * import: static, type-only, re-export, require and dynamic import).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module a source names: `import … from`, `export … from`, `import('…')`, `require('…')`. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const out: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

function violations(folder: string, allowed: (spec: string, resolved: string | undefined) => boolean): string[] {
  const out: string[] = [];
  for (const file of sources(path.join(ROOT, folder))) {
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      const resolved = spec.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(file), spec)) : undefined;
      if (!allowed(spec, resolved)) out.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
  }
  return out;
}

test('the import scanner sees every kind of import (so the rules below cannot pass by not looking)', () => {
  const text = [
    "import { a } from './a';", "import type { B } from '../b';", "export { c } from './c';", "export * from 'd';",
    "const e = require('e');", "const f = await import('f');", "import 'g';", '// import { no } from "commented";',
  ].join('\n');
  assert.deepEqual(importsOf(text).sort(), ['../b', './a', './c', 'd', 'e', 'f', 'g']);
});

test('simulator/ imports nothing outside itself: no VS Code, no LSP, no tree-sitter, no Node module, no server code', () => {
  const found = violations('simulator/src', (_spec, resolved) => resolved !== undefined && resolved.startsWith(`simulator${path.sep}src`));
  assert.deepEqual(found, []);
});

test('client/ imports VS Code, the language client, Node and itself, and of the server only its protocol module', () => {
  const protocol = path.join('server', 'src', 'lsp', 'protocol');
  const found = violations('client/src', (spec, resolved) => {
    if (resolved !== undefined) return resolved.startsWith(`client${path.sep}src`) || resolved === protocol;
    return spec === 'vscode' || spec.startsWith('vscode-languageclient') || spec.startsWith('node:');
  });
  assert.deepEqual(found, []);
});

test('the server protocol module the client shares holds types and constants only: it imports types alone', () => {
  const text = fs.readFileSync(path.join(ROOT, 'server/src/lsp/protocol.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const runtime = [...text.matchAll(/^\s*import\s+(?!type\b)[^;]*from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  assert.deepEqual(runtime, []);
});
