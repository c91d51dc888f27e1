// Turning initializer expressions into ValueFacts.

import type { ValueFact } from '../facts.js';
import { identifiersIn, namedNonComment, normalise, stripWhitespace, type Node } from '../../parse/syntax.js';

export function valueFact(node: Node | null | undefined): ValueFact {
  if (!node) return { kind: 'null' };
  switch (node.type) {
    case 'null':
      return { kind: 'null' };
    case 'number_literal': {
      const n = Number(node.text.replace(/[uUlL]+$/, ''));
      return Number.isFinite(n) ? { kind: 'number', value: n } : { kind: 'expression', text: node.text, identifiers: [] };
    }
    case 'identifier':
      return node.text === 'NULL' ? { kind: 'null' } : { kind: 'identifier', name: node.text };
    case 'cast_expression':
      return valueFact(node.childForFieldName('value'));
    case 'parenthesized_expression': {
      const inner = namedNonComment(node)[0];
      return valueFact(inner);
    }
    case 'pointer_expression': {
      const arg = node.childForFieldName('argument');
      const op = node.childForFieldName('operator')?.text ?? node.text.trim()[0];
      if (op === '&' && arg?.type === 'identifier') return { kind: 'address', name: arg.text };
      return expression(node);
    }
    case 'sizeof_expression': {
      const typeNode = node.childForFieldName('type');
      const valueNode = node.childForFieldName('value');
      if (typeNode) return { kind: 'sizeof', typeName: sizeofTypeName(typeNode) };
      if (valueNode) {
        const inner = valueNode.type === 'parenthesized_expression' ? namedNonComment(valueNode)[0] : valueNode;
        if (inner?.type === 'identifier') return { kind: 'sizeof', typeName: inner.text };
      }
      return expression(node);
    }
    case 'string_literal':
      return { kind: 'string', value: stringLiteralValue(node) };
    case 'concatenated_string': {
      const parts = namedNonComment(node);
      if (parts.every((p) => p.type === 'string_literal')) {
        return { kind: 'string', value: parts.map(stringLiteralValue).join('') };
      }
      return expression(node);
    }
    default:
      return expression(node);
  }
}

function expression(node: Node): ValueFact {
  // Concatenations keep their spacing so that `MODULE ".Foo"` can be re-tokenised when macros are resolved.
  const text = node.type === 'concatenated_string' ? node.text : normalise(node);
  return { kind: 'expression', text, identifiers: identifiersIn(node) };
}

/** `sizeof(struct foo)` → `foo`, `sizeof(FooObject)` → `FooObject`. */
function sizeofTypeName(typeDescriptor: Node): string {
  const t = typeDescriptor.childForFieldName('type');
  if (!t) return stripWhitespace(typeDescriptor.text);
  if (t.type === 'struct_specifier') return t.childForFieldName('name')?.text ?? stripWhitespace(t.text);
  return stripWhitespace(t.text);
}

export function stringLiteralValue(node: Node): string {
  let out = '';
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += c.text;
  }
  if (!node.namedChildren.length) out = node.text.replace(/^"|"$/g, '');
  return out;
}

/** The text pieces of a concatenated string whose parts may be macros: `MODULE ".Foo"` → ['MODULE', '".Foo"']. */
export function concatenationParts(node: Node): { literal?: string; macro?: string }[] {
  return namedNonComment(node).map((p) =>
    p.type === 'string_literal' ? { literal: stringLiteralValue(p) } : { macro: p.text },
  );
}
