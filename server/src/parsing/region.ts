/**
 * Re-parses one region of a file on its own while keeping the file's
 * offsets (tree-sitter's included ranges), for code that the whole-file
 * parse could not read in context.
 */
import type { CParser } from './parser';
import type { Point, SyntaxNode, SyntaxTree } from './syntax';

export type RegionParser = (text: string, start: number, end: number) => SyntaxNode;

/** Tree-sitter's point (0-based row, column in code units) of an offset of `text`. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/**
 * A region parser, and `release()` to free the trees it made once what was
 * read from them has been copied out (the IR is plain data; see CParser.release).
 */
export function regionParser(parser: CParser): RegionParser & { release(): void } {
  const trees: SyntaxTree[] = [];
  const parse = (text: string, start: number, end: number): SyntaxNode => {
    const tree = parser.parse(text, undefined, [{
      startIndex: start, endIndex: end, startPosition: pointAt(text, start), endPosition: pointAt(text, end),
    }]);
    trees.push(tree);
    return tree.rootNode;
  };
  return Object.assign(parse, {
    release(): void {
      for (const t of trees.splice(0)) parser.release(t);
    },
  });
}
