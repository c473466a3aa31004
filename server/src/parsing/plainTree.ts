/**
 * A copy of a tree-sitter subtree as ordinary JavaScript objects.
 *
 * Every property read on a native or WebAssembly node crosses into C and
 * allocates a fresh wrapper; the extraction reads each node several times.
 * One walk with a TreeCursor, copying type, offsets and field names, costs a
 * fraction of that, and everything after it is plain object access.
 */
import type { SyntaxNode } from './syntax';

/** The cursor API shared by both bindings. */
export interface TreeCursorLike {
  readonly nodeType: string;
  readonly nodeTypeId: number;
  readonly currentFieldId: number;
  readonly nodeIsNamed: boolean;
  readonly nodeIsMissing: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly currentFieldName: string | null | undefined;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

export interface Walkable {
  walk(): TreeCursorLike;
}

export class PlainNode implements SyntaxNode {
  readonly children: PlainNode[] = [];
  private named?: PlainNode[];
  private fields?: Map<string, PlainNode>;
  hasError = false;
  parent: PlainNode | null = null;
  private index = 0;

  constructor(
    private readonly source: string,
    readonly type: string,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly isNamed: boolean,
    public isMissing: boolean,
  ) {}

  get text(): string {
    return this.source.slice(this.startIndex, this.endIndex);
  }

  get childCount(): number {
    return this.children.length;
  }

  get namedChildren(): PlainNode[] {
    return (this.named ??= this.children.filter((c) => c.isNamed));
  }

  get nextSibling(): PlainNode | null {
    return this.parent?.children[this.index + 1] ?? null;
  }

  get previousSibling(): PlainNode | null {
    return this.index > 0 ? this.parent?.children[this.index - 1] ?? null : null;
  }

  childForFieldName(name: string): PlainNode | null {
    return this.fields?.get(name) ?? null;
  }

  /** Builder use only. */
  addChild(child: PlainNode, field: string | null | undefined): void {
    child.parent = this;
    child.index = this.children.length;
    this.children.push(child);
    if (field) {
      this.fields ??= new Map();
      // The first child with a field name is the one childForFieldName returns.
      if (!this.fields.has(field)) this.fields.set(field, child);
    }
    if (child.hasError) this.hasError = true;
  }
}

// Names by numeric id, filled on first sight: reading a string from the
// binding allocates one each time, reading a number does not.
const typeNames: string[] = [];
const typeNamed: boolean[] = [];
const fieldNames: Array<string | null> = [];

/** Copies the subtree under `node` (a cursor-capable node of either binding). */
export function plainCopy(node: Walkable, source: string): PlainNode {
  const cursor = node.walk();
  const make = (): PlainNode => {
    const id = cursor.nodeTypeId;
    let type = typeNames[id];
    if (type === undefined) {
      type = typeNames[id] = cursor.nodeType;
      typeNamed[id] = cursor.nodeIsNamed;
    }
    const n = new PlainNode(source, type, cursor.startIndex, cursor.endIndex, typeNamed[id]!, false);
    if (type === 'ERROR') n.hasError = true;
    return n;
  };
  // Missing nodes are always leaves, so only leaves are asked.
  const markMissing = (n: PlainNode): void => {
    if (cursor.nodeIsMissing) {
      n.isMissing = true;
      n.hasError = true;
    }
  };
  const fieldName = (): string | null => {
    const id = cursor.currentFieldId;
    if (!id) return null;
    let name = fieldNames[id];
    if (name === undefined) name = fieldNames[id] = cursor.currentFieldName ?? null;
    return name;
  };
  const root = make();
  const stack: PlainNode[] = [root];
  const fields: Array<string | null> = [null];
  // Iterative depth-first walk: a deeply nested expression must not overflow the stack.
  if (!cursor.gotoFirstChild()) {
    markMissing(root);
    return root;
  }
  for (;;) {
    const field = fieldName();
    const node = make();
    if (cursor.gotoFirstChild()) {
      stack.push(node);
      fields.push(field);
      continue;
    }
    markMissing(node);
    stack[stack.length - 1]!.addChild(node, field);
    // Children are attached to their parent only once complete, so hasError propagates upwards.
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent() || stack.length === 1) return root;
      const done = stack.pop()!;
      stack[stack.length - 1]!.addChild(done, fields.pop());
    }
  }
}
