// Small, reusable views over tree-sitter-c nodes. Only model/extract uses these.

import type { Node } from 'web-tree-sitter';

export type { Node };

/** Containers whose children are themselves top-level items (after error recovery or `extern "C" {}`). */
const TRANSPARENT = new Set([
  'translation_unit', 'ERROR', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list',
]);

/** Top-level items in source order, descending into containers that error recovery or `extern "C" {}` create. */
export function topLevelItems(root: Node): Node[] {
  const items: Node[] = [];
  const walk = (node: Node) => {
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (TRANSPARENT.has(child.type)) walk(child);
      else items.push(child);
    }
  };
  walk(root);
  return items;
}

export function stripWhitespace(s: string): string {
  return s
    .replace(/\/\*.*?\*\//gs, '')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');
}

/** Identifiers mentioned in a node (in source order, unique). */
export function identifiersIn(node: Node | null | undefined): string[] {
  if (!node) return [];
  const out = new Set<string>();
  const stack: Node[] = [node];
  const found: Node[] = [];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'identifier' || n.type === 'field_identifier' || n.type === 'type_identifier') found.push(n);
    const children = n.namedChildren;
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i];
      if (c) stack.push(c);
    }
  }
  for (const n of found) out.add(n.text);
  return [...out];
}

export function position(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

export function namedNonComment(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
}

/** Unwraps pointer, array, parenthesised and init declarators to the declared identifier and pointer depth. */
export function declaratorInfo(declarator: Node | null): {
  name: Node | null;
  pointerDepth: number;
  arrayLength: string | null;
  isFunction: boolean;
} {
  let pointerDepth = 0;
  let arrayLength: string | null = null;
  let isFunction = false;
  let node = declarator;
  while (node) {
    switch (node.type) {
      case 'pointer_declarator':
        pointerDepth++;
        node = node.childForFieldName('declarator');
        continue;
      case 'array_declarator':
        arrayLength = node.childForFieldName('size')?.text ?? '';
        node = node.childForFieldName('declarator');
        continue;
      case 'init_declarator':
      case 'parenthesized_declarator':
      case 'attributed_declarator':
        node = node.childForFieldName('declarator') ?? namedNonComment(node)[0] ?? null;
        continue;
      case 'function_declarator':
        isFunction = true;
        node = node.childForFieldName('declarator');
        continue;
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        // Error recovery inserts zero-width MISSING identifiers: they name nothing.
        return { name: node.isMissing || !node.text ? null : node, pointerDepth, arrayLength, isFunction };
      default:
        return { name: null, pointerDepth, arrayLength, isFunction };
    }
  }
  return { name: null, pointerDepth, arrayLength, isFunction };
}

/** The base type name of a declaration's `type` field (`struct foo` → `foo`, `PyObject` → `PyObject`). */
export function typeName(typeNode: Node | null): string {
  if (!typeNode) return '';
  if (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier' || typeNode.type === 'enum_specifier') {
    return typeNode.childForFieldName('name')?.text ?? '';
  }
  if (typeNode.type === 'macro_type_specifier') {
    return typeName(typeNode.childForFieldName('type')?.childForFieldName('type') ?? null) || typeNode.text;
  }
  return stripWhitespace(typeNode.text);
}

export function hasStorageClass(node: Node, keyword: string): boolean {
  return node.namedChildren.some((c) => c?.type === 'storage_class_specifier' && c.text === keyword);
}

/** Share of the file's text that sits directly in ERROR nodes. */
export function errorShare(root: Node): { ratio: number; rootIsError: boolean } {
  if (!root.hasError) return { ratio: 0, rootIsError: false };
  let errorChars = 0;
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'ERROR' && n !== root) {
      errorChars += n.endIndex - n.startIndex;
      continue;
    }
    if (!n.hasError) continue;
    for (const c of n.children) if (c) stack.push(c);
  }
  const total = Math.max(1, root.endIndex - root.startIndex);
  return { ratio: errorChars / total, rootIsError: root.type === 'ERROR' };
}
