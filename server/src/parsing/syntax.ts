/**
 * The part of a tree-sitter syntax node that the front end uses. Both the
 * native binding (`tree-sitter`) and the WebAssembly one (`web-tree-sitter`)
 * satisfy it, so extraction does not care which parser produced the tree.
 */
export interface SyntaxNode {
  readonly type: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly text: string;
  readonly isNamed: boolean;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly childCount: number;
  readonly children: readonly SyntaxNode[];
  readonly namedChildren: readonly SyntaxNode[];
  readonly parent: SyntaxNode | null;
  readonly nextSibling: SyntaxNode | null;
  readonly previousSibling: SyntaxNode | null;
  childForFieldName(name: string): SyntaxNode | null;
}

export interface Point {
  readonly row: number;
  readonly column: number;
}

export interface InputEdit {
  readonly startIndex: number;
  readonly oldEndIndex: number;
  readonly newEndIndex: number;
  readonly startPosition: Point;
  readonly oldEndPosition: Point;
  readonly newEndPosition: Point;
}

export interface SyntaxTree {
  readonly rootNode: SyntaxNode;
  edit(edit: InputEdit): void;
}
