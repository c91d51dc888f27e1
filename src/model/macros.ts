// Seeing through function-like macros that create types: `CREATE_TYPE(st->Foo, &foo_spec, base)` and the like.
// The macro's body is expanded textually (parameters substituted, nested macros expanded) and searched for
// PyType_From* calls; nothing else in macro bodies is interpreted.

import type { FunctionFact, MacroFact, TypeCreationFact } from './facts.js';
import type { Frozen } from './model.js';

type Macros = ReadonlyMap<string, readonly Frozen<MacroFact>[]>;

import { TYPE_CREATORS as CREATOR_ARGS } from './capi.js';

export function creationsThroughMacros(
  functions: Iterable<FunctionFact>,
  macros: Macros,
): TypeCreationFact[] {
  const out: TypeCreationFact[] = [];
  const creatingMacros = new Set<string>();
  for (const [name, defs] of macros) {
    if (defs.some((m) => m.params !== null && /PyType_From|[A-Z_]{3,}\s*\(/.test(m.body))) creatingMacros.add(name);
  }
  if (!creatingMacros.size) return out;
  for (const fn of functions) {
    for (const call of fn.calls) {
      if (!creatingMacros.has(call.callee)) continue;
      const expanded = expand(call.callee, call.args, macros, fn.file, 0);
      if (!expanded || !expanded.includes('PyType_From')) continue;
      for (const found of findCreatorCalls(expanded)) {
        const layout = CREATOR_ARGS[found.creator];
        const arg = (i: number | null) => (i === null ? null : stripCast(found.args[i] ?? '') || null);
        const spec = arg(layout.spec) ?? '';
        let bases = arg(layout.bases);
        if (bases === 'NULL' || bases === '0') bases = null;
        out.push({
          file: fn.file, creator: found.creator, specExpression: spec,
          spec: /^&?\w+$/.test(spec) ? spec.replace(/^&/, '') : null,
          bases, module: arg(layout.module), storedIn: storedIn(expanded, found.start, found.end),
          inFunction: fn.name, line: call.line, column: call.column,
        });
      }
    }
  }
  return out;
}

/** The body of a function-like macro call with its arguments substituted (white space removed), or null. */
export function expandMacroCall(name: string, args: readonly string[], macros: Macros, file: string): string | null {
  return expand(name, args, macros, file, 0);
}

function expand(name: string, args: readonly string[], macros: Macros, file: string, depth: number): string | null {
  if (depth > 4) return null;
  const defs = macros.get(name)?.filter((m) => m.params !== null);
  if (!defs?.length) return null;
  const def = defs.find((m) => m.file === file) ?? defs[0];
  const params = def.params ?? [];
  const body = def.body.replace(/\\\r?\n/g, ' ').replace(/\s+/g, '');
  const text = body.replace(/[A-Za-z_]\w*/g, (id) => {
    const i = params.indexOf(id);
    return i >= 0 ? args[i] ?? '' : id;
  });
  // Expand nested function-like macro calls.
  let result = '';
  let pos = 0;
  const re = /([A-Za-z_]\w*)\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const inner = m[1];
    if (!macros.get(inner)?.some((d) => d.params !== null) || inner === name) continue;
    const close = matchingParen(text, m.index + m[0].length - 1);
    if (close < 0) break;
    const innerArgs = splitArgs(text.slice(m.index + m[0].length, close));
    const expanded = expand(inner, innerArgs, macros, file, depth + 1);
    if (expanded === null) continue;
    result += text.slice(pos, m.index) + expanded;
    pos = close + 1;
    re.lastIndex = close + 1;
  }
  return result + text.slice(pos);
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Splits a comma-separated argument list at the top level of parentheses, brackets and braces. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function findCreatorCalls(text: string): { creator: string; args: string[]; start: number; end: number }[] {
  const out: { creator: string; args: string[]; start: number; end: number }[] = [];
  const re = /\b(PyType_FromSpec|PyType_FromSpecWithBases|PyType_FromModuleAndSpec|PyType_FromMetaclass)\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const close = matchingParen(text, m.index + m[0].length - 1);
    if (close < 0) break;
    out.push({ creator: m[1], args: splitArgs(text.slice(m.index + m[0].length, close)), start: m.index, end: close + 1 });
  }
  return out;
}

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
