// Lowering tree-sitter expression nodes to Expr: the one place where C expressions are read from syntax.

import type { Expr } from '../facts.js';
import { identifiersIn, namedNonComment, stripWhitespace, type Node } from '../../parse/syntax.js';

/** Deeper nesting (generated code, thousands of parentheses) is kept as text rather than recursed into. */
const MAX_DEPTH = 200;

export const NULL_LITERAL: Expr = { k: 'literal', value: null, text: 'NULL' };

/** An initializer or argument value; a missing one (`{Py_tp_x}`) is NULL. */
export function lowerValue(node: Node | null | undefined): Expr {
  return node ? lower(node) : NULL_LITERAL;
}

export function lower(node: Node, depth = 0): Expr {
  if (depth > MAX_DEPTH) return other(node);
  const sub = (n: Node | null | undefined): Expr => (n ? lower(n, depth + 1) : other(node));
  switch (node.type) {
    case 'cast_expression':
      return sub(node.childForFieldName('value'));
    case 'parenthesized_expression':
      return sub(namedNonComment(node)[0]);
    case 'call_expression': {
      const args = node.childForFieldName('arguments');
      return { k: 'call', callee: sub(node.childForFieldName('function')), args: args ? namedNonComment(args).map(sub) : [] };
    }
    case 'field_expression': {
      const op = node.childForFieldName('operator')?.text ?? (node.text.includes('->') ? '->' : '.');
      return { k: 'member', object: sub(node.childForFieldName('argument')), field: node.childForFieldName('field')?.text ?? '', arrow: op === '->' };
    }
    case 'pointer_expression': {
      const op = node.childForFieldName('operator')?.text ?? node.text.trim()[0];
      const of = sub(node.childForFieldName('argument'));
      return op === '&' ? { k: 'addr', of } : { k: 'deref', of };
    }
    case 'subscript_expression': {
      const index = node.childForFieldName('index') ?? node.childForFieldName('indices');
      return { k: 'index', object: sub(node.childForFieldName('argument')), index: index ? sub(index) : null };
    }
    case 'identifier':
    case 'field_identifier':
    case 'type_identifier':
      return node.text === 'NULL' ? NULL_LITERAL : { k: 'name', name: node.text };
    case 'null':
      return { k: 'literal', value: null, text: node.text };
    case 'number_literal': {
      const n = Number(node.text.replace(/[uUlL]+$/, ''));
      return Number.isFinite(n) ? { k: 'literal', value: n, text: node.text } : other(node);
    }
    case 'string_literal':
      return { k: 'literal', value: stringLiteralValue(node), text: stripWhitespace(node.text) };
    case 'concatenated_string': {
      const parts = namedNonComment(node);
      if (parts.every((p) => p.type === 'string_literal')) {
        return { k: 'literal', value: parts.map(stringLiteralValue).join(''), text: stripWhitespace(node.text) };
      }
      return { k: 'concat', parts: parts.map(sub) };
    }
    case 'sizeof_expression': {
      const typeNode = node.childForFieldName('type');
      if (typeNode) return { k: 'sizeof', typeName: sizeofTypeName(typeNode) };
      const valueNode = node.childForFieldName('value');
      const inner = valueNode?.type === 'parenthesized_expression' ? namedNonComment(valueNode)[0] : valueNode;
      if (inner?.type === 'identifier') return { k: 'sizeof', typeName: inner.text };
      return other(node);
    }
    case 'offsetof_expression': {
      const typeNode = node.childForFieldName('type');
      const member = node.childForFieldName('member');
      return typeNode && member ? { k: 'offsetof', typeName: sizeofTypeName(typeNode), member: stripWhitespace(member.text) } : other(node);
    }
    case 'unary_expression': {
      const op = node.childForFieldName('operator')?.text;
      const arg = node.childForFieldName('argument');
      return op && arg ? { k: 'unary', op, of: sub(arg) } : other(node);
    }
    case 'binary_expression': {
      const op = node.childForFieldName('operator')?.text;
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      return op && left && right ? { k: 'binary', op, left: sub(left), right: sub(right) } : other(node);
    }
    case 'initializer_list':
      return {
        k: 'init',
        items: namedNonComment(node).map((c) => (c.type === 'initializer_pair' ? sub(c.childForFieldName('value')) : sub(c))),
      };
    default:
      return other(node);
  }
}

function other(node: Node): Expr {
  return { k: 'other', text: stripWhitespace(node.text), names: identifiersIn(node) };
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
