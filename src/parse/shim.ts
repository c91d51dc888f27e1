// Length-preserving rewrites of the CPython macros that tree-sitter-c cannot parse as written.
// Every replacement is exactly as long as the text it replaces and keeps every newline, so node offsets,
// rows and columns still point into the original file. The one exception is a project macro that declares a
// type object (parse/type-macros.ts): it is expanded, keeping every line number.

import { preprocess, type MacroEnvironment, type PreprocessResult } from './preprocessor.js';
import { expandTypeMacros, NO_TYPE_MACROS, type TypeMacroTable } from './type-macros.js';

export interface ShimResult {
  text: string;
  unknownConditions: PreprocessResult['unknownConditions'];
  notes: PreprocessResult['notes'];
  /** Environment macros the preprocessor read (PreprocessResult.consulted). */
  consulted: PreprocessResult['consulted'];
}

export function shimSource(source: string, env: MacroEnvironment, typeMacros: TypeMacroTable = NO_TYPE_MACROS, file = ''): ShimResult {
  const pre = preprocess(source, env);
  const expanded = expandTypeMacros(pre.text, file, typeMacros);
  return { text: rewriteMacros(expanded.text), unknownConditions: pre.unknownConditions, notes: [...pre.notes, ...expanded.notes], consulted: pre.consulted };
}

/** Attribute-like macros that only decorate a declaration: blanked so the declaration parses. */
const ATTRIBUTE_MACROS = [
  'Py_ALWAYS_INLINE', '_Py_NO_RETURN', 'Py_NO_INLINE', '_Py_HOT_FUNCTION', 'Py_NO_RETURN', '_Py_COLD',
  'Py_EXPORTED_SYMBOL', 'Py_LOCAL_SYMBOL', 'Py_IMPORTED_SYMBOL', 'CYTHON_UNUSED', 'CYTHON_INLINE',
  'XMLCALL', 'PTRCALL', 'Py_UNREACHABLE_ATTR',
];
const ATTRIBUTE_CALL_MACROS = ['Py_GCC_ATTRIBUTE', '_Py_NO_SANITIZE_ADDRESS', 'Py_DEPRECATED', '_Py_NO_SANITIZE_THREAD',
  'Py_ALIGNED', '_Py_ALIGNED_DEF', 'Py_ALIGNED'];

/** Statement-like macros commonly written without a trailing semicolon. */
const STATEMENT_CALL_MACROS = ['Py_TRASHCAN_BEGIN', 'Py_TRASHCAN_SAFE_BEGIN', 'Py_TRASHCAN_SAFE_END', 'Py_TRASHCAN_BEGIN_CONDITION'];

export function rewriteMacros(input: string): string {
  let s = input;
  s = s.replace(/\bPyObject_HEAD\b(\s*;)?/g, (m, semi: string | undefined) =>
    semi ? 'PyObject  ob ' + semi : 'PyObject  ob;');
  s = s.replace(/\bPyObject_VAR_HEAD\b(\s*;)?/g, (m, semi: string | undefined) =>
    semi ? 'PyVarObject   ob ' + semi : 'PyVarObject   ob;');
  s = s.replace(/\bPy_BEGIN_ALLOW_THREADS\b/g, (m) => '{'.padEnd(m.length));
  s = s.replace(/\bPy_END_ALLOW_THREADS\b/g, (m) => '}'.padStart(m.length));
  s = s.replace(/\bPy_(?:UN)?BLOCK_THREADS\b/g, (m) => ';'.padStart(m.length));
  s = s.replace(/\bPy_TRASHCAN_END\b/g, (m) => ';'.padStart(m.length));
  // Argument Clinic's `FOO_METHODDEF` entries expand to `{...},` and stand without a comma in method tables:
  // make room for the comma by dropping the final F (extraction reads `_METHODDE` back as `_METHODDEF`).
  s = s.replace(/^([ \t]*)(\w+_METHODDE)F([ \t]*)$/gm, (m, indent: string, name: string, trail: string) => `${indent}${name},${trail}`);
  for (const name of ATTRIBUTE_MACROS) {
    s = s.replace(new RegExp(`\\b${name}\\b`, 'g'), (m) => ' '.repeat(m.length));
  }
  s = rewriteCalls(s, ['PyVarObject_HEAD_INIT', 'PyObject_HEAD_INIT'], (call, args, after) => {
    const needsComma = !/^\s*[,}]/.test(after);
    const replacement = `{${args}}${needsComma ? ',' : ''}`;
    return replacement.padEnd(call.length);
  });
  s = rewriteCalls(s, ATTRIBUTE_CALL_MACROS, (call) => blankKeepingNewlines(call));
  s = rewriteCalls(s, STATEMENT_CALL_MACROS, (call, args, after) => {
    if (/^\s*;/.test(after)) return call;
    // Drop the last character of the macro name to make room for the missing semicolon.
    const open = call.indexOf('(');
    return call.slice(0, open - 1) + call.slice(open) + ';';
  });
  return s;
}

function blankKeepingNewlines(s: string): string {
  return s.replace(/[^\r\n]/g, ' ');
}

/**
 * Finds `NAME(args)` with balanced parentheses and replaces the whole call with what `replace` returns,
 * which must be exactly as long.
 */
function rewriteCalls(
  s: string,
  names: string[],
  replace: (call: string, args: string, after: string) => string,
): string {
  const re = new RegExp(`\\b(?:${names.join('|')})\\s*\\(`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const open = m.index + m[0].length - 1;
    let depth = 0;
    let end = -1;
    for (let i = open; i < s.length; i++) {
      const c = s[i];
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        end = i + 1;
        break;
      }
    }
    if (end < 0) break;
    const call = s.slice(m.index, end);
    const args = s.slice(open + 1, end - 1);
    const replacement = replace(call, args, s.slice(end, end + 40));
    if (replacement.length !== call.length) throw new Error(`shim changed the length of ${call}`);
    out += s.slice(last, m.index) + replacement;
    last = end;
    re.lastIndex = end;
  }
  return out + s.slice(last);
}
