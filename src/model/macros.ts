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
  for (const fn of functions) {
    for (const call of fn.calls) {
      const macro = calleeName(call.callee);
      if (!macro || !creatingMacros.has(macro)) continue;
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
