// Facts are values (model/facts.ts: an expression is never changed after lowering), so equal leaves can be one
// object. Facts that crossed from a worker thread or came from the cache are read from JSON, where every `self`,
// `NULL` and `Py_None` of every function is an object of its own: on CPython's tree 550 000 of the 580 000 names
// in function bodies repeat one already seen, about 26 MB of the main thread's heap. Nothing compares
// expressions by identity (model/expr.ts compares them by structure), so sharing them changes no answer.

import type { CallFact, Expr, FileFacts, FunctionFact } from './facts.js';

export class SharedExpressions {
  private readonly names = new Map<string, Expr>();
  private readonly literals = new Map<string, Expr>();
  private readonly composites = new Map<Expr, Map<string, Expr>>();
  private readonly variables = new Map<string, FunctionFact['params'][number]>();

  /** Replaces, in place, the names and literals of `facts`' function bodies with the shared objects. */
  shareFunctionBodies(facts: FileFacts): void {
    for (const fn of facts.functions) {
      this.shareVariables(fn.params);
      this.shareVariables(fn.locals);
      for (const call of fn.calls) this.shareCall(call);
      for (const a of fn.assignments) {
        (a as { target: Expr }).target = this.share(a.target);
        (a as { value: Expr }).value = this.share(a.value);
      }
      for (let i = 0; i < fn.returns.length; i++) fn.returns[i] = this.share(fn.returns[i]);
      for (const site of fn.returnSites) {
        if (site.value) site.value = this.share(site.value);
        if (site.guard) site.guard = this.share(site.guard);
      }
    }
  }

  /** `PyObject *self`, `Py_ssize_t i`: parameters and locals are values too. */
  private shareVariables(list: FunctionFact['params']): void {
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (Object.keys(v).length !== 3) continue;
      const key = `${v.name}\0${v.typeName}\0${v.pointerDepth}`;
      const seen = this.variables.get(key);
      if (seen) list[i] = seen;
      else this.variables.set(key, v);
    }
  }

  private shareCall(call: CallFact): void {
    call.callee = this.share(call.callee);
    for (let i = 0; i < call.args.length; i++) call.args[i] = this.share(call.args[i]);
    if (call.assignedTo) call.assignedTo = this.share(call.assignedTo);
  }

  /** The shared object equal to `e` when `e` is a leaf, else `e` with its children shared. */
  private share(e: Expr): Expr {
    switch (e.k) {
      case 'name': {
        // Only a bare name: an expression that carries a position as well (a ValueFact) is not a plain leaf.
        if (Object.keys(e).length !== 2) return e;
        const seen = this.names.get(e.name);
        if (seen) return seen;
        this.names.set(e.name, e);
        return e;
      }
      case 'literal': {
        if (Object.keys(e).length !== 3) return e;
        // The value as well as the spelling: a string's spelling is written without its white space ("a b", "ab").
        const key = `${e.value === null ? 'null' : typeof e.value}\0${String(e.value)}\0${e.text}`;
        const seen = this.literals.get(key);
        if (seen) return seen;
        this.literals.set(key, e);
        return e;
      }
      case 'member': {
        if (Object.keys(e).length !== 4) return this.shareChild(e, 'object');
        const object = this.share(e.object);
        return this.composite(object, `.${e.arrow ? '>' : ''}${e.field}`, e, 'object');
      }
      case 'addr': case 'deref': {
        if (Object.keys(e).length !== 2) return this.shareChild(e, 'of');
        return this.composite(this.share(e.of), e.k, e, 'of');
      }
      case 'unary': {
        if (Object.keys(e).length !== 3) return this.shareChild(e, 'of');
        return this.composite(this.share(e.of), `${e.k}${e.op}`, e, 'of');
      }
      case 'call': {
        const m = e as unknown as { callee: Expr; args: Expr[] };
        m.callee = this.share(m.callee);
        for (let i = 0; i < m.args.length; i++) m.args[i] = this.share(m.args[i]);
        return e;
      }
      case 'index': {
        const m = e as { object: Expr; index: Expr | null };
        m.object = this.share(m.object);
        if (m.index) m.index = this.share(m.index);
        return e;
      }
      case 'binary': {
        const m = e as { left: Expr; right: Expr };
        m.left = this.share(m.left);
        m.right = this.share(m.right);
        return e;
      }
      case 'concat': case 'init': {
        const items = (e.k === 'concat' ? e.parts : e.items) as Expr[];
        for (let i = 0; i < items.length; i++) items[i] = this.share(items[i]);
        return e;
      }
      default: return e;
    }
  }

  /**
   * The shared expression made of the shared `child` and what `how` says (`.>field`, `addr`): children are shared
   * first, so the same child is the same object and the pair identifies the expression.
   */
  private composite<K extends string>(child: Expr, how: string, e: Expr, field: K): Expr {
    let byHow = this.composites.get(child);
    if (!byHow) this.composites.set(child, (byHow = new Map()));
    const seen = byHow.get(how);
    if (seen) return seen;
    (e as unknown as Record<K, Expr>)[field] = child;
    byHow.set(how, e);
    return e;
  }

  /** `e` itself, its one child shared. */
  private shareChild<K extends string>(e: Expr, child: K): Expr {
    const m = e as unknown as Record<K, Expr>;
    m[child] = this.share(m[child]);
    return e;
  }
}
