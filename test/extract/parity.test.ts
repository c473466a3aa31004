/**
 * The WebAssembly parser is the fallback when the native binding does not
 * load (Debian 12's libstdc++ is too old for its prebuild). Users on either
 * must get the same findings, so the front end must give the same IR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { createParser } from '../../server/src/parsing/parser';
import { example, ROOT } from '../helpers';
import { parseFixture } from './fixture';
import { extractWith } from './irQuery';
import type { ExtractedFile } from '../../server/src/extract/index';

/** Everything of the IR but the syntax-tree sites, as plain JSON. */
function plain(ir: ExtractedFile): unknown {
  return JSON.parse(JSON.stringify({ functions: ir.functions, problems: ir.problems, constants: ir.constants, flagGroups: ir.flagGroups }));
}

const FIXTURES = path.join(ROOT, 'test/fixtures/frontend');

function inputs(): Array<{ name: string; text: string }> {
  const out = [{ name: 'examples/kern_jail_2011.c', text: example() }];
  for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.c')).sort()) {
    const source = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
    out.push({ name: file, text: source });
    for (const c of parseFixture(source)) out.push({ name: `${file}: ${c.name}`, text: c.text });
  }
  return out;
}

test('the native and the WebAssembly parser give identical IR for the bundled example and every front-end fixture', async () => {
  const native = await createParser('native');
  const wasm = await createParser('wasm');
  assert.equal(native.backend, 'native');
  assert.equal(wasm.backend, 'wasm');
  const all = inputs();
  assert.ok(all.length > 40, `only ${all.length} inputs`);
  for (const { name, text } of all) {
    const a = plain(extractWith(native, text));
    const b = plain(extractWith(wasm, text));
    assert.deepEqual(b, a, `${name}: the WebAssembly IR differs from the native one`);
  }
});
