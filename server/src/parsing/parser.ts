/**
 * Owns the choice of tree-sitter binding. The native binding is fastest,
 * but its Linux prebuild needs a newer libstdc++ than some distributions
 * ship (Debian 12: GLIBCXX_3.4.31 is missing), so when it does not load we
 * fall back to web-tree-sitter with the grammar's own .wasm file. Callers
 * see one interface and can ask which backend they got.
 */
import * as path from 'path';
import type { Point, SyntaxTree } from './syntax';

export type ParserBackend = 'native' | 'wasm';
export type ParserPreference = ParserBackend | 'auto';

export interface CParser {
  readonly backend: ParserBackend;
  /** Why the preferred backend was not used, when it was not. */
  readonly fallbackReason?: string;
  /**
   * Parses `text`; `previous` (already edited) lets tree-sitter reuse
   * unchanged subtrees; `ranges` restricts parsing to parts of the text,
   * keeping the file's offsets.
   */
  parse(text: string, previous?: SyntaxTree, ranges?: readonly TextRange[]): SyntaxTree;
  /**
   * Frees a tree no longer needed. web-tree-sitter's trees live in the
   * WebAssembly heap, which JavaScript's garbage collector does not see: a
   * language server that re-parses on every edit must free the old tree or
   * grow without bound. Native trees are freed by the garbage collector.
   */
  release(tree: SyntaxTree): void;
}

export interface TextRange {
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
}

interface NativeParser {
  setLanguage(language: unknown): void;
  parse(input: string, oldTree?: unknown, options?: { bufferSize?: number; includedRanges?: TextRange[] }): SyntaxTree;
}

function loadNative(): CParser {
  // Required lazily so a failing native load is an exception we can catch.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Parser = require('tree-sitter') as new () => NativeParser;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const language = require('tree-sitter-c') as unknown;
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    backend: 'native',
    parse(text, previous, ranges) {
      // The native binding reads the string in chunks of bufferSize; a buffer
      // as large as the text avoids many small callbacks on big files.
      return parser.parse(text, previous, {
        bufferSize: Math.max(32 * 1024, text.length * 2 + 2),
        ...(ranges ? { includedRanges: [...ranges] } : {}),
      });
    },
    release() {},
  };
}

/** Where tree-sitter-c.wasm is: beside the bundle in a packaged extension, else in node_modules. */
export function wasmGrammarPath(): string {
  const candidates = [
    path.join(__dirname, 'tree-sitter-c.wasm'),
    path.join(__dirname, '..', 'node_modules', 'tree-sitter-c', 'tree-sitter-c.wasm'),
  ];
  try {
    candidates.push(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
  } catch {
    // Not resolvable from here (a bundle outside node_modules): the candidates above cover it.
  }
  const fs = require('fs') as typeof import('fs');
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[candidates.length - 1]!;
}

async function loadWasm(reason?: string): Promise<CParser> {
  const fs = require('fs') as typeof import('fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wts = require('web-tree-sitter') as typeof import('web-tree-sitter');
  const runtimeWasm = [path.join(__dirname, 'tree-sitter.wasm')].find((p) => fs.existsSync(p));
  await wts.Parser.init(runtimeWasm ? { locateFile: () => runtimeWasm } : undefined);
  const language = await wts.Language.load(fs.readFileSync(wasmGrammarPath()));
  const parser = new wts.Parser();
  parser.setLanguage(language);
  return {
    backend: 'wasm',
    fallbackReason: reason,
    parse(text, previous, ranges) {
      const tree = parser.parse(text, previous as unknown as import('web-tree-sitter').Tree | undefined,
        ranges ? { includedRanges: [...ranges] } : undefined);
      if (!tree) throw new Error('web-tree-sitter returned no tree');
      return tree as unknown as SyntaxTree;
    },
    release(tree) {
      (tree as unknown as import('web-tree-sitter').Tree).delete();
    },
  };
}

/**
 * Creates a C parser. `auto` tries the native binding first and falls back
 * to WebAssembly, recording why.
 */
export async function createParser(preference: ParserPreference = 'auto'): Promise<CParser> {
  if (preference === 'wasm') return loadWasm();
  try {
    return loadNative();
  } catch (err) {
    if (preference === 'native') throw err;
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return loadWasm(`native tree-sitter did not load (${first})`);
  }
}

/** The synchronous native parser, for callers that cannot wait (benchmarks of the native path). */
export function createNativeParser(): CParser {
  return loadNative();
}
