// Seeing through function-like macros: `CREATE_TYPE(st->Foo, &foo_spec, base)`, `VISIT_ALL(self)` and the like.
//
// The one place in the model that works on C text, and on purpose: a macro body is tokens, not an expression
// (statements, `do { } while (0)`, half a declaration), so it is expanded textually (parameters substituted,
// nested macros expanded). What leaves this file is typed: the calls an expansion makes, with their arguments
// lowered to Expr by extract/text.ts, and the type creations found in it.

import type { CallExpr, Expr, FunctionFact, MacroFact, TypeCreationFact } from './facts.js';
import type { Frozen } from './model.js';
import type { MacroLookup } from './symbols.js';

import { TYPE_CREATORS as CREATOR_ARGS } from './capi.js';
import { matchingParen, splitTopLevelCommas } from '../parse/c-text.js';
import { calleeName, isNullOrZero, nameOrAddressed, render } from './expr.js';
import { parseExpressionText } from './extract/text.js';

/** A function-like macro that may create a type: it names PyType_From* or calls other macros. */
export function mayCreateTypes(def: Frozen<MacroFact>): boolean {
  return def.params !== null && /PyType_From|[A-Z_]{3,}\s*\(/.test(def.body);
}

export function creationsThroughMacros(
  functions: Iterable<FunctionFact>,
  macros: MacroLookup & { readonly macros: ReadonlyMap<string, readonly Frozen<MacroFact>[]> },
): TypeCreationFact[] {
  const out: TypeCreationFact[] = [];
  const creatingMacros = new Set<string>();
  for (const [name, defs] of macros.macros) {
    if (defs.some(mayCreateTypes)) creatingMacros.add(name);
  }
  if (!creatingMacros.size) return out;
  const memo = new Map<string, boolean>();
  const isCreator = (id: string) => id.includes('PyType_From');
  for (const fn of functions) {
    for (const call of fn.calls) {
      const macro = calleeName(call.callee);
      if (!macro || !creatingMacros.has(macro)) continue;
      if (!expansionMayCall(macro, call.args, macros, isCreator, memo)) continue;
      const expanded = expand(macro, call.args.map(render), macros, fn.file, 0);
      if (!expanded || !expanded.includes('PyType_From')) continue;
      for (const found of findCreatorCalls(expanded)) {
        const layout = CREATOR_ARGS[found.creator];
        const arg = (i: number | null): Expr | null => {
          const text = i === null ? '' : stripCast(found.args[i] ?? '');
          return text ? parseExpressionText(text) : null;
        };
        const spec = arg(layout.spec) ?? { k: 'other', text: '', names: [] };
        let bases = arg(layout.bases);
        if (isNullOrZero(bases)) bases = null;
        const target = storedIn(expanded, found.start, found.end);
        out.push({
          file: fn.file, creator: found.creator, specExpression: spec, spec: nameOrAddressed(spec),
          bases, module: arg(layout.module), storedIn: target === null ? null : parseExpressionText(target), returned: false,
          inFunction: fn.name, line: call.line, column: call.column,
        });
      }
    }
  }
  return out;
}

/**
 * The calls a function-like macro call makes once expanded (`VISIT_ALL(self)` → `Py_VISIT(self->a)`, …), nested
 * calls included, or null when `name` is not a function-like macro the analysis can expand.
 */
export function callsInMacroExpansion(name: string, args: readonly Frozen<Expr>[], macros: MacroLookup, file: string): CallExpr[] | null {
  const expanded = expand(name, args.map(render), macros, file, 0);
  return expanded === null ? null : callsInText(expanded);
}

/** The calls a macro's own body makes, its parameters left as names. */
export function callsInMacroBody(def: Frozen<MacroFact>): CallExpr[] {
  return callsInText(def.body.replace(/\\\r?\n/g, ' '));
}

/** Every `name(…)` in C text, nested ones too, with the arguments lowered. */
function callsInText(text: string): CallExpr[] {
  const out: CallExpr[] = [];
  const re = /([A-Za-z_]\w*)\s*\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const open = m.index + m[0].length - 1;
    const close = matchingParen(text, open);
    if (close < 0) break;
    const inner = text.slice(open + 1, close);
    const args = inner.trim() ? splitTopLevelCommas(inner, 'expression').map(parseExpressionText) : [];
    out.push({ k: 'call', callee: { k: 'name', name: m[1] }, args });
  }
  return out;
}

/**
 * Whether expanding a call of `name` with these arguments could make a call to a name `isTarget` accepts, judged from
 * the bodies of every definition of the macros involved, without expanding: false means the expansion cannot (a
 * pasted `##` name, a target named in a body or an argument, or a nested macro that may, all answer true). Expanding
 * costs far more than this, and most macro calls expand to nothing of interest.
 */
export function expansionMayCall(
  name: string, args: readonly Frozen<Expr>[], macros: { readonly macros: ReadonlyMap<string, readonly Frozen<MacroFact>[]> },
  isTarget: (name: string) => boolean, memo: Map<string, boolean>,
): boolean {
  // Whether some macro reachable from `root` through macro names in bodies makes a target call directly.
  const mayCall = (root: string): boolean => {
    const known = memo.get(root);
    if (known !== undefined) return known;
    const visited = new Set<string>();
    const pending = [root];
    let found = false;
    while (pending.length && !found) {
      const macro = pending.pop()!;
      if (visited.has(macro)) continue;
      visited.add(macro);
      const settled = memo.get(macro);
      if (settled !== undefined) {
        found = settled;
        continue;
      }
      for (const def of macros.macros.get(macro) ?? []) {
        if (def.params === null) continue;
        if (def.body.includes('##')) found = true;
        for (const id of identifiers(def.body)) {
          if (found) break;
          if (isTarget(id)) found = true;
          else if (id !== macro && !visited.has(id) && isFunctionMacro(id)) pending.push(id);
        }
        if (found) break;
      }
    }
    // Nothing reachable from the root makes such a call: nothing reachable from what it visited does either.
    if (found) memo.set(root, true);
    else for (const v of visited) memo.set(v, false);
    return found;
  };
  const isFunctionMacro = (id: string) => (macros.macros.get(id) ?? []).some((d) => d.params !== null);
  if (mayCall(name)) return true;
  const matters = (id: string) => isTarget(id) || (isFunctionMacro(id) && mayCall(id));
  return args.some((a) => exprNames(a, matters));
}

/** Whether some identifier in the text `render(e)` would give satisfies `test` (without building that text). */
function exprNames(e: Frozen<Expr> | null | undefined, test: (id: string) => boolean): boolean {
  if (!e) return false;
  switch (e.k) {
    case 'name': return test(e.name);
    case 'literal': case 'other': return identifiers(e.text).some(test);
    case 'member': return test(e.field) || exprNames(e.object, test);
    case 'call': return exprNames(e.callee, test) || e.args.some((a) => exprNames(a, test));
    case 'addr': case 'deref': case 'unary': return exprNames(e.of, test);
    case 'index': return exprNames(e.object, test) || exprNames(e.index, test);
    case 'binary': return exprNames(e.left, test) || exprNames(e.right, test);
    case 'sizeof': return identifiers(e.typeName).some(test);
    case 'offsetof': return identifiers(e.typeName).some(test) || identifiers(e.member).some(test);
    case 'concat': return e.parts.some((p) => exprNames(p, test));
    case 'init': return e.items.some((i) => exprNames(i, test));
  }
}

function identifiers(text: string): string[] {
  return text.match(/[A-Za-z_]\w*/g) ?? [];
}

/** Arguments are substituted as written (`render`): expansion is textual by nature. */
function expand(name: string, args: readonly string[], macros: MacroLookup, file: string, depth: number): string | null {
  if (depth > 4) return null;
  const def = macros.macro(name, file, 'function');
  if (!def) return null;
  const params = def.params ?? [];
  const body = def.body.replace(/\\\r?\n/g, ' ').replace(/\s+/g, '');
  // `&name ## _spec` pastes the argument into one identifier.
  const text = body.replace(/[A-Za-z_]\w*/g, (id) => {
    const i = params.indexOf(id);
    return i >= 0 ? args[i] ?? '' : id;
  }).replace(/##/g, '');
  // Expand nested function-like macro calls.
  let result = '';
  let pos = 0;
  const re = /([A-Za-z_]\w*)\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const inner = m[1];
    if (inner === name || !macros.macro(inner, file, 'function')) continue;
    const close = matchingParen(text, m.index + m[0].length - 1);
    if (close < 0) break;
    const innerArgs = splitTopLevelCommas(text.slice(m.index + m[0].length, close), 'expression');
    const expanded = expand(inner, innerArgs, macros, file, depth + 1);
    if (expanded === null) continue;
    result += text.slice(pos, m.index) + expanded;
    pos = close + 1;
    re.lastIndex = close + 1;
  }
  return result + text.slice(pos);
}

function findCreatorCalls(text: string): { creator: string; args: string[]; start: number; end: number }[] {
  const out: { creator: string; args: string[]; start: number; end: number }[] = [];
  const re = /\b(PyType_FromSpec|PyType_FromSpecWithBases|PyType_FromModuleAndSpec|PyType_FromMetaclass)\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const close = matchingParen(text, m.index + m[0].length - 1);
    if (close < 0) break;
    out.push({ creator: m[1], args: splitTopLevelCommas(text.slice(m.index + m[0].length, close), 'expression'), start: m.index, end: close + 1 });
  }
  return out;
}

/** Leading casts: an argument the call did not pass leaves only its cast behind (`(PyObject *)BASE`). */
function stripCast(s: string): string {
  return s.replace(/^(?:\((?:const)?\w+\*+\))+/, '').replace(/^\((.*)\)$/, '$1');
}

/** `X=(PyTypeObject*)PyType_From…(…)`, or through a local: `PyObject*type=PyType_From…;…;TP=(PyTypeObject*)type;`. */
function storedIn(text: string, start: number, end: number): string | null {
  // Only the tail matters; bounding it keeps these end-anchored patterns linear on long expansions.
  const before = text.slice(Math.max(0, start - 200), start).replace(/(?:\((?:const)?\w+\*+\))+$/, '');
  if (!before.endsWith('=')) return null;
  const m = /([\w>.\-[\]]+)=$/.exec(before);
  if (!m) return null;
  let target = m[1].replace(/^.*\*/, '');
  if (/^\w+$/.test(target)) {
    const copy = new RegExp(`([\\w>.\\-\\[\\]]+)=(?:\\((?:const)?\\w+\\*+\\))*${target}\\b(?!\\()`).exec(text.slice(end));
    if (copy) target = copy[1];
  }
  return target;
}
