// Small, pure views over the typed expressions in facts. The model asks these instead of reading C text.

import type { CallExpr, Expr } from './facts.js';

export type { CallExpr, Expr };

export function name(name: string): Expr {
  return { k: 'name', name };
}

/** The identifier `e` is, or null. */
export function nameOf(e: Expr | null | undefined): string | null {
  return e?.k === 'name' ? e.name : null;
}

export function isName(e: Expr | null | undefined, wanted: string): boolean {
  return e?.k === 'name' && e.name === wanted;
}

/** The function a call names directly (`foo(x)` → foo); null for calls through a pointer or a slot. */
export function calleeName(callee: Expr | null | undefined): string | null {
  return nameOf(callee);
}

/** `NULL`. A literal 0 is not NULL here: code that means NULL writes NULL, and 0 is checked where it counts too. */
export function isNull(e: Expr | null | undefined): boolean {
  return e?.k === 'literal' && e.value === null;
}

export function isZero(e: Expr | null | undefined): boolean {
  return e?.k === 'literal' && e.value === 0;
}

export function isNullOrZero(e: Expr | null | undefined): boolean {
  return isNull(e) || isZero(e);
}

/** `&name` → name. */
export function addressedName(e: Expr | null | undefined): string | null {
  return e?.k === 'addr' ? nameOf(e.of) : null;
}

/** A spec or type object named directly or by address: `foo_spec`, `&foo_spec` → foo_spec. */
export function nameOrAddressed(e: Expr | null | undefined): string | null {
  return nameOf(e) ?? addressedName(e);
}

/** The field `e` reads last (`st->a.b` → b, `f(x)->y` → y), or null when `e` is not a member access. */
export function fieldOf(e: Expr | null | undefined): string | null {
  return e?.k === 'member' ? e.field : null;
}

/** One step from a root value outwards: `self->a.b[i]` is self, then arrow a, dot b, index. */
export type Step = { k: 'arrow' | 'dot'; field: string } | { k: 'index' };

/** Splits a member/index chain into its root and the steps applied to it, root first. */
export function memberChain(e: Expr): { root: Expr; steps: Step[] } {
  const steps: Step[] = [];
  let cur = e;
  for (;;) {
    if (cur.k === 'member') {
      steps.push({ k: cur.arrow ? 'arrow' : 'dot', field: cur.field });
      cur = cur.object;
    } else if (cur.k === 'index') {
      steps.push({ k: 'index' });
      cur = cur.object;
    } else break;
  }
  return { root: cur, steps: steps.reverse() };
}

/** The variable a member/index/deref/address chain starts from: `&self->a[i].b` → self. */
export function rootName(e: Expr | null | undefined): string | null {
  let cur = e;
  while (cur && (cur.k === 'member' || cur.k === 'index' || cur.k === 'addr' || cur.k === 'deref')) {
    cur = cur.k === 'member' || cur.k === 'index' ? cur.object : cur.of;
  }
  return nameOf(cur);
}

/** The first identifier as the expression is written (`Py_TYPE(self)->tp_free` → Py_TYPE); null after `&`, `*`, … */
export function leadingName(e: Expr | null | undefined): string | null {
  let cur = e;
  while (cur) {
    switch (cur.k) {
      case 'name': return cur.name;
      case 'member': case 'index': cur = cur.object; continue;
      case 'call': cur = cur.callee; continue;
      case 'binary': cur = cur.left; continue;
      default: return null;
    }
  }
  return null;
}

/** How the type of an object is read: `Py_TYPE(x)`, `x->ob_type`, `x.ob_type`. */
export function typeOfObject(e: Expr | null | undefined): { object: Expr; via: 'Py_TYPE' | '->' | '.' } | null {
  if (!e) return null;
  if (e.k === 'call' && isName(e.callee, 'Py_TYPE') && e.args.length) return { object: e.args[0], via: 'Py_TYPE' };
  if (e.k === 'member' && e.field === 'ob_type') return { object: e.object, via: e.arrow ? '->' : '.' };
  return null;
}

/**
 * A type slot read from a type object: `t->tp_clear` (slot `tp_clear`), `PyType_GetSlot(t, Py_tp_clear)` (slot
 * `tp_clear`, via PyType_GetSlot).
 */
export function slotOf(e: Expr | null | undefined): { type: Expr; slot: string; via: 'PyType_GetSlot' | '->' | '.' } | null {
  if (!e) return null;
  if (e.k === 'member' && e.field.startsWith('tp_')) return { type: e.object, slot: e.field, via: e.arrow ? '->' : '.' };
  if (e.k === 'call' && isName(e.callee, 'PyType_GetSlot') && e.args.length === 2) {
    const id = nameOf(e.args[1]);
    if (id?.startsWith('Py_')) return { type: e.args[0], slot: id.slice(3), via: 'PyType_GetSlot' };
  }
  return null;
}

/** `t->tp_X` (an arrow, as a base's or the object's type slot is read). */
export function isArrowSlot(e: Expr | null | undefined, slot: string | ((s: string) => boolean)): boolean {
  const s = slotOf(e);
  return !!s && s.via === '->' && (typeof slot === 'string' ? s.slot === slot : slot(s.slot));
}

/** A `PyType_GetSlot(t, …)` call somewhere inside `e`, for `slot` when given (`tp_dealloc`). */
export function containsGetSlot(e: Expr | null | undefined, slot?: string): boolean {
  return some(e, (x) => x.k === 'call' && isName(x.callee, 'PyType_GetSlot')
    && (slot === undefined || x.args.some((a) => isName(a, `Py_${slot}`))));
}

/** True when some sub-expression of `e` (or `e` itself) satisfies `test`. */
export function some(e: Expr | null | undefined, test: (x: Expr) => boolean): boolean {
  if (!e) return false;
  if (test(e)) return true;
  return children(e).some((c) => some(c, test));
}

export function children(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'member': return [e.object];
    case 'call': return [e.callee, ...e.args];
    case 'addr': case 'deref': case 'unary': return [e.of];
    case 'index': return e.index ? [e.object, e.index] : [e.object];
    case 'binary': return [e.left, e.right];
    case 'concat': return e.parts;
    case 'init': return e.items;
    default: return [];
  }
}

/** Every call in `e`, outermost first. */
export function callsIn(e: Expr | null | undefined): CallExpr[] {
  const out: CallExpr[] = [];
  const walk = (x: Expr) => {
    if (x.k === 'call') out.push(x);
    for (const c of children(x)) walk(c);
  };
  if (e) walk(e);
  return out;
}

/** An arrow member access somewhere in `e` (`self->x`, `get_state(m)->y`). */
export function hasArrow(e: Expr | null | undefined): boolean {
  return some(e, (x) => x.k === 'member' && x.arrow);
}

/** Identifiers mentioned in `e`, including field and type names, in the order written. */
export function namesIn(e: Expr | null | undefined): string[] {
  const out: string[] = [];
  const walk = (x: Expr) => {
    switch (x.k) {
      case 'name': out.push(x.name); return;
      case 'member': walk(x.object); out.push(x.field); return;
      case 'sizeof': out.push(x.typeName); return;
      case 'offsetof': out.push(x.typeName, x.member); return;
      case 'other': out.push(...x.names); return;
      default: for (const c of children(x)) walk(c);
    }
  };
  if (e) walk(e);
  return [...new Set(out)];
}

export function sameExpr(a: Expr | null | undefined, b: Expr | null | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'name': return a.name === (b as typeof a).name;
    case 'literal': return a.value === (b as typeof a).value && a.text === (b as typeof a).text;
    case 'member': {
      const m = b as typeof a;
      return a.field === m.field && a.arrow === m.arrow && sameExpr(a.object, m.object);
    }
    case 'call': {
      const c = b as typeof a;
      return c.args.length === a.args.length && sameExpr(a.callee, c.callee) && a.args.every((x, i) => sameExpr(x, c.args[i]));
    }
    case 'addr': case 'deref': return sameExpr(a.of, (b as typeof a).of);
    case 'unary': return a.op === (b as typeof a).op && sameExpr(a.of, (b as typeof a).of);
    case 'index': return sameExpr(a.object, (b as typeof a).object) && sameExpr(a.index, (b as typeof a).index);
    case 'binary': {
      const o = b as typeof a;
      return a.op === o.op && sameExpr(a.left, o.left) && sameExpr(a.right, o.right);
    }
    case 'sizeof': return a.typeName === (b as typeof a).typeName;
    case 'offsetof': return a.typeName === (b as typeof a).typeName && a.member === (b as typeof a).member;
    case 'concat': case 'init': {
      const xs = a.k === 'concat' ? a.parts : a.items;
      const o = b as typeof a;
      const ys = o.k === 'concat' ? o.parts : (o as Extract<Expr, { k: 'init' }>).items;
      return xs.length === ys.length && xs.every((x, i) => sameExpr(x, ys[i]));
    }
    case 'other': return a.text === (b as typeof a).text;
  }
}

/** A list of expressions compared structurally (aliases of a variable, the places an object is known by). */
export class ExprSet {
  private readonly items: Expr[] = [];
  constructor(initial: Iterable<Expr> = []) {
    for (const e of initial) this.add(e);
  }
  has(e: Expr | null | undefined): boolean {
    return !!e && this.items.some((x) => sameExpr(x, e));
  }
  add(e: Expr): void {
    if (!this.has(e)) this.items.push(e);
  }
  get size(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<Expr> {
    return this.items[Symbol.iterator]();
  }
}

/** C-like text of `e` with casts, parentheses and white space left out: for messages only, never to be parsed. */
export function render(e: Expr | null | undefined): string {
  if (!e) return '';
  switch (e.k) {
    case 'name': return e.name;
    case 'literal': return e.text;
    case 'member': return `${render(e.object)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'call': return `${render(e.callee)}(${e.args.map(render).join(',')})`;
    case 'addr': return `&${render(e.of)}`;
    case 'deref': return `*${render(e.of)}`;
    case 'index': return `${render(e.object)}[${render(e.index)}]`;
    case 'unary': return `${e.op}${render(e.of)}`;
    case 'binary': return `${render(e.left)}${e.op}${render(e.right)}`;
    case 'sizeof': return `sizeof(${e.typeName})`;
    case 'offsetof': return `offsetof(${e.typeName},${e.member})`;
    case 'concat': return e.parts.map(render).join(' ');
    case 'init': return `{${e.items.map(render).join(',')}}`;
    case 'other': return e.text;
  }
}
