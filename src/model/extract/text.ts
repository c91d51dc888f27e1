// Lowering C expression *text* to Expr, for what tree-sitter never parses as an expression: macro bodies and the
// result of expanding a macro call (model/macros.ts). Anything it does not understand becomes `other`.

import type { Expr } from '../facts.js';
import { stripWhitespace } from '../../parse/syntax.js';

type Token = { t: 'id' | 'num' | 'str' | 'chr' | 'punct'; v: string };

const PUNCTUATORS = ['...', '<<=', '>>=', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '##', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^='];

const IDENTIFIER = /[A-Za-z_]\w*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)[uUlLfF]*/y;

function tokenize(text: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '\n' || text[i + 1] === '\r')) { i += 2; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return null;
      i = end + 2;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    IDENTIFIER.lastIndex = i;
    const id = IDENTIFIER.exec(text);
    if (id) { out.push({ t: 'id', v: id[0] }); i += id[0].length; continue; }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num) { out.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return null;
      out.push({ t: c === '"' ? 'str' : 'chr', v: text.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    const p = PUNCTUATORS.find((x) => text.startsWith(x, i)) ?? c;
    out.push({ t: 'punct', v: p });
    i += p.length;
  }
  return out;
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '*': 10, '/': 10, '%': 10, '+': 9, '-': 9, '<<': 8, '>>': 8, '<': 7, '<=': 7, '>': 7, '>=': 7, '==': 6, '!=': 6,
  '&': 5, '^': 4, '|': 3, '&&': 2, '||': 1,
};

const TYPE_WORDS = new Set(['const', 'volatile', 'struct', 'union', 'enum', 'unsigned', 'signed', 'char', 'short', 'int', 'long', 'float', 'double', 'void']);

class Failed extends Error {}

/** Thrown whenever the reader gives up: one object, made once (an Error's stack trace costs more than the parse). */
const FAILED = new Failed();

/** Deeper nesting is not an expression this reader needs; it keeps the stack bounded whatever the input. */
const MAX_DEPTH = 200;

class ExprParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Expr {
    const e = this.expression(0);
    if (this.pos < this.tokens.length) throw FAILED;
    return e;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private isPunct(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.t === 'punct' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isPunct(v)) throw FAILED;
    this.pos++;
  }

  private expression(minPrecedence: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t?.t === 'punct' ? BINARY_PRECEDENCE[t.v] : undefined;
      if (prec === undefined || prec < minPrecedence) return left;
      this.pos++;
      const right = this.expression(prec + 1);
      left = { k: 'binary', op: t!.v, left, right };
    }
  }

  private unary(): Expr {
    if (++this.depth > MAX_DEPTH) throw FAILED;
    try {
      return this.unaryAt();
    } finally {
      this.depth--;
    }
  }

  private unaryAt(): Expr {
    const t = this.peek();
    if (!t) throw FAILED;
    if (t.t === 'punct') {
      if (t.v === '&') { this.pos++; return { k: 'addr', of: this.unary() }; }
      if (t.v === '*') { this.pos++; return { k: 'deref', of: this.unary() }; }
      if (t.v === '!' || t.v === '~' || t.v === '-' || t.v === '+') {
        this.pos++;
        return { k: 'unary', op: t.v, of: this.unary() };
      }
      if (t.v === '(') {
        const castEnd = this.castEnd();
        if (castEnd !== null) {
          this.pos = castEnd;
          return this.unary();
        }
      }
    }
    if (t.t === 'id' && t.v === 'sizeof' && this.isPunct('(', 1)) {
      const close = this.closing(this.pos + 1);
      if (close === null) throw FAILED;
      const words = this.tokens.slice(this.pos + 2, close).filter((w) => w.v !== 'struct' && w.v !== '*');
      this.pos = close + 1;
      if (words.length === 1 && words[0].t === 'id') return { k: 'sizeof', typeName: words[0].v };
      throw FAILED;
    }
    return this.postfix(this.primary());
  }

  /** The index after `)` when a `(` at the cursor opens a cast (`(PyObject *)`, `(const char *)`, `(int)`). */
  private castEnd(): number | null {
    let i = this.pos + 1;
    let words = 0;
    let keyword = false;
    let stars = 0;
    while (this.tokens[i]?.t === 'id') {
      if (TYPE_WORDS.has(this.tokens[i].v)) keyword = true;
      words++;
      i++;
    }
    while (this.tokens[i]?.t === 'punct' && this.tokens[i].v === '*') { stars++; i++; }
    const close = this.tokens[i];
    if (!words || close?.t !== 'punct' || close.v !== ')') return null;
    const next = this.tokens[i + 1];
    const startsOperand = !!next && (next.t !== 'punct' || ['(', '&', '*', '!', '~', '-'].includes(next.v));
    if (!startsOperand) return null;
    return stars || keyword || next.t === 'id' || next.t === 'num' || next.v === '(' ? i + 1 : null;
  }

  private closing(open: number): number | null {
    let depth = 0;
    for (let i = open; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t.t !== 'punct') continue;
      if (t.v === '(') depth++;
      else if (t.v === ')' && --depth === 0) return i;
    }
    return null;
  }

  private primary(): Expr {
    const t = this.peek();
    if (!t) throw FAILED;
    if (t.t === 'punct' && t.v === '(') {
      this.pos++;
      const inner = this.expression(0);
      this.expect(')');
      return inner;
    }
    if (t.t === 'id' && t.v === 'offsetof' && this.isPunct('(', 1)) {
      const typeName = this.peek(2);
      const member = this.peek(4);
      if (typeName?.t === 'id' && this.isPunct(',', 3) && member?.t === 'id' && this.isPunct(')', 5)) {
        this.pos += 6;
        return { k: 'offsetof', typeName: typeName.v, member: member.v };
      }
      throw FAILED;
    }
    if (t.t === 'str' || (t.t === 'id' && this.peek(1)?.t === 'str')) return this.strings();
    this.pos++;
    if (t.t === 'id') return t.v === 'NULL' ? { k: 'literal', value: null, text: 'NULL' } : { k: 'name', name: t.v };
    if (t.t === 'num') {
      const n = Number(t.v.replace(/[uUlL]+$/, ''));
      if (Number.isFinite(n)) return { k: 'literal', value: n, text: t.v };
    }
    throw FAILED;
  }

  /** Adjacent string literals and macro names: `MODULE ".Foo"`. */
  private strings(): Expr {
    const parts: Expr[] = [];
    for (let t = this.peek(); t && (t.t === 'str' || (t.t === 'id' && (this.peek(1)?.t === 'str' || parts.at(-1)?.k === 'literal'))); t = this.peek()) {
      this.pos++;
      parts.push(t.t === 'str' ? { k: 'literal', value: t.v.slice(1, -1), text: t.v } : { k: 'name', name: t.v });
    }
    if (parts.every((p) => p.k === 'literal')) {
      const literals = parts as Extract<Expr, { k: 'literal' }>[];
      return { k: 'literal', value: literals.map((p) => p.value).join(''), text: literals.map((p) => p.text).join('') };
    }
    return parts.length === 1 ? parts[0] : { k: 'concat', parts };
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isPunct('(')) {
        this.pos++;
        const args: Expr[] = [];
        if (!this.isPunct(')')) {
          for (;;) {
            args.push(this.expression(0));
            if (this.isPunct(',')) { this.pos++; continue; }
            break;
          }
        }
        this.expect(')');
        e = { k: 'call', callee: e, args };
      } else if (this.isPunct('[')) {
        this.pos++;
        const index = this.expression(0);
        this.expect(']');
        e = { k: 'index', object: e, index };
      } else if (this.isPunct('->') || this.isPunct('.')) {
        const arrow = this.isPunct('->');
        const field = this.peek(1);
        if (field?.t !== 'id') throw FAILED;
        this.pos += 2;
        e = { k: 'member', object: e, field: field.v, arrow };
      } else return e;
    }
  }
}

/** `text` read as one C expression; `other` (with the names in it) when it is not one this reader understands. */
export function parseExpressionText(text: string): Expr {
  const tokens = tokenize(text);
  if (tokens?.length) {
    try {
      return new ExprParser(tokens).parseAll();
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
    }
  }
  return { k: 'other', text: stripWhitespace(text), names: [...new Set(text.match(/[A-Za-z_]\w*/g) ?? [])] };
}
