/**
 * Re-parses one region of a file on its own while keeping the file's
 * offsets (tree-sitter's included ranges), for code that the whole-file
 * parse could not read in context.
 */
import type { CParser } from './parser';
import type { Point, SyntaxNode } from './syntax';

export type RegionParser = (text: string, start: number, end: number) => SyntaxNode;

function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

export function regionParser(parser: CParser): RegionParser {
  return (text, start, end) => parser.parse(text, undefined, [{
    startIndex: start, endIndex: end, startPosition: pointAt(text, start), endPosition: pointAt(text, end),
  }]).rootNode;
}
