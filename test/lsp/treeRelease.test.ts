/**
 * web-tree-sitter's trees live in the WebAssembly heap, which the garbage
 * collector does not see: the language server re-parses on every edit and
 * reviews patches for as long as the editor is open, so every tree it does
 * not keep must be freed, or the server grows without bound when it runs on
 * the WebAssembly parser. These tests count the trees alive; the last one
 * checks the analysis order the editor uses (callees first) leaves no
 * function out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnalysisService } from '../../server/src/analysisService';
import { DocumentAnalyzer } from '../../server/src/incremental';
import { createParser, CParser } from '../../server/src/parsing/parser';
import type { SyntaxTree } from '../../server/src/parsing/syntax';
import { reviewPatch } from '../../server/src/review';
import { example, readFixture, service } from '../helpers';

/** The WebAssembly parser, with a count of the trees it made and that were not released. */
async function countingParser(): Promise<CParser & { readonly live: Set<SyntaxTree> }> {
  const wasm = await createParser('wasm');
  const live = new Set<SyntaxTree>();
  return {
    backend: wasm.backend,
    live,
    parse(text, previous, ranges) {
      const tree = wasm.parse(text, previous, ranges);
      live.add(tree);
      return tree;
    },
    release(tree) {
      assert.ok(live.delete(tree), 'a tree is released once, and only a tree this parser made');
      wasm.release(tree);
    },
  };
}

const findingsOf = (fs: ReadonlyArray<{ rule: string; range: { start: number }; message: string }>) =>
  fs.map((f) => `${f.range.start} ${f.rule}: ${f.message}`).sort();

test('after 40 edits the editor\'s analyzer keeps one tree alive, the current one, and its findings are those of a fresh analysis', async () => {
  const parser = await countingParser();
  const analyzer = new DocumentAnalyzer(parser);
  let text = example();
  analyzer.update(text, 1);
  const at = text.indexOf('prison_proc_hold(struct prison *pr)');
  for (let i = 0; i < 40; i++) {
    // A comment grows inside prison_proc_hold(): one-character edits, as typing makes them.
    text = i === 0 ? `${text.slice(0, at)}/* */${text.slice(at)}` : `${text.slice(0, at + 2)}x${text.slice(at + 2)}`;
    analyzer.update(text, i + 2);
  }
  assert.equal(parser.live.size, 1, `${parser.live.size} trees alive`);
  // The freed trees were not needed: the result is what a fresh analysis of the same text says.
  assert.deepEqual(findingsOf(analyzer.result!.findings), findingsOf(service().analyse(text, { simulate: false }).findings));
});

test('a patch review frees the trees of both versions', async () => {
  const parser = await countingParser();
  const result = reviewPatch(example(), readFixture('test/fixtures/patches/seed-first-patch.diff'), {
    service: AnalysisService.withParser(parser), baseName: 'kern_jail.c', simulate: false,
  });
  assert.equal(result.introduced.length, 2, 'the review itself still works');
  assert.equal(parser.live.size, 0, `${parser.live.size} trees alive`);
});

test('two functions of the same name (the two sides of an #ifdef) are both analysed in the editor', async () => {
  const analyzer = new DocumentAnalyzer(await createParser('native'));
  const twice = `#ifdef NEW_WAY
static void
prison_touch(struct prison *pr)
{
\tmtx_lock(&pr->pr_mtx);
\tpr->pr_ref++;
\tmtx_unlock(&pr->pr_mtx);
}
#else
static void
prison_touch(struct prison *pr)
{
\tmtx_lock(&pr->pr_mtx);
\tmtx_lock(&pr->pr_mtx);
\tpr->pr_ref++;
\tmtx_unlock(&pr->pr_mtx);
}
#endif
`;
  const result = analyzer.update(twice, 1);
  const summaries = analyzer.functionSummaries().filter((f) => f.ir.name === 'prison_touch');
  assert.deepEqual(summaries.map((f) => f.analysed), [true, true]);
  const double = result.findings.filter((f) => f.rule === 'lock-double-acquire');
  assert.equal(double.length, 1, JSON.stringify(result.findings.map((f) => f.message)));
  assert.equal(twice.slice(0, double[0]!.range.start).split('\n').length, 14, 'on the second side\'s second mtx_lock');
});
