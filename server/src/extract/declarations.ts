/** Reads C declarators into names and the few type facts the checks use. */
import type { TypeInfo, Variable } from '../../../simulator/src/ir';
import type { SyntaxNode } from '../parsing/syntax';
import { rangeOf } from './expressions';

function structTag(typeNode: SyntaxNode | null): string | undefined {
  if (!typeNode) return undefined;
  if (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier') {
    return typeNode.childForFieldName('name')?.text;
  }
  return undefined;
}

/** Walks a declarator down to its identifier, counting pointer levels on the way. */
export function unwrapDeclarator(decl: SyntaxNode | null): { name?: SyntaxNode; pointer: number; isFunction: boolean } {
  let pointer = 0;
  let isFunction = false;
  let d = decl;
  while (d) {
    switch (d.type) {
      case 'identifier':
      case 'field_identifier':
        return { name: d, pointer, isFunction };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        pointer++;
        d = d.childForFieldName('declarator');
        break;
      case 'function_declarator':
        isFunction = true;
        d = d.childForFieldName('declarator');
        break;
      case 'array_declarator':
      case 'init_declarator':
      case 'attributed_declarator':
        d = d.childForFieldName('declarator') ?? d.namedChildren[0] ?? null;
        break;
      case 'parenthesized_declarator':
        d = d.namedChildren[0] ?? null;
        break;
      default:
        return { pointer, isFunction };
    }
  }
  return { pointer, isFunction };
}

export function typeInfo(typeNode: SyntaxNode | null, pointer: number): TypeInfo {
  const base = typeNode ? typeNode.text : 'int';
  return { text: pointer > 0 ? `${base} ${'*'.repeat(pointer)}` : base, struct: structTag(typeNode), pointer };
}

/** The variables a declaration (or parameter declaration) introduces. */
export function declaredVariables(decl: SyntaxNode): Variable[] {
  const typeNode = decl.childForFieldName('type');
  const out: Variable[] = [];
  for (const child of decl.namedChildren) {
    if ((typeNode && child.startIndex === typeNode.startIndex && child.endIndex === typeNode.endIndex) || child.type === 'comment' || child.type === 'storage_class_specifier'
      || child.type === 'type_qualifier' || child.type.endsWith('_specifier') || child.type === 'primitive_type'
      || child.type === 'type_identifier' || child.type === 'sized_type_specifier') continue;
    const { name, pointer } = unwrapDeclarator(child);
    if (name) out.push({ name: name.text, type: typeInfo(typeNode, pointer), range: rangeOf(name) });
  }
  return out;
}
