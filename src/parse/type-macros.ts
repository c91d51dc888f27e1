// A project's own macros that declare type objects, specs, slot tables or module definitions:
//
//     #define DEFINE_TYPE(NAME, PREFIX) static PyTypeObject NAME##_Type = { …, .tp_name = "m." #NAME, … }
//     DEFINE_TYPE(Pair, pair);
//
// tree-sitter sees only the invocation, so the type would not exist for the model. Such invocations are expanded
// in the text before parsing, as the C preprocessor would (`#` stringizes, `##` pastes, nested project macros are
// expanded), and only these: every other macro stays as written. The expansion is put on the invocation's first
// line and the invocation's line breaks follow it, so every line after it keeps its number.

import { matchingParen, splitTopLevelCommas } from './c-text.js';

export interface MacroDefinition {
  name: string;
  params: string[];
  /** The last parameter is `...` (`__VA_ARGS__`). */
  variadic: boolean;
  body: string;
  file: string;
  line: number;
}

export interface TypeMacroTable {
  /** Macros whose body defines a PyTypeObject, PyType_Spec, PyType_Slot[] or PyModuleDef. */
  readonly declaring: ReadonlyMap<string, readonly MacroDefinition[]>;
  /** Every function-like macro of the project, for invocations nested in a declaring macro's body. */
  readonly all: ReadonlyMap<string, readonly MacroDefinition[]>;
}

export const NO_TYPE_MACROS: TypeMacroTable = { declaring: new Map(), all: new Map() };

const DECLARES_TYPE_OBJECT = /\b(?:PyTypeObject|PyType_Spec|PyType_Slot|PyModuleDef)\b[^;{}()=]*=\s*\{/;
const DEFINE = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(([^)]*)\)/;

/** The function-like macros the sources define, and which of them declare type objects. */
export function typeDefiningMacros(sources: readonly { file: string; text: string }[]): TypeMacroTable {
  const all = new Map<string, MacroDefinition[]>();
  const declaring = new Map<string, MacroDefinition[]>();
  for (const source of sources) {
    // Cheap test first: most files define no macro that declares a type object.
    if (!source.text.includes('#') || !/define/.test(source.text)) continue;
    for (const def of functionLikeMacros(source.text, source.file)) {
      push(all, def.name, def);
      if (DECLARES_TYPE_OBJECT.test(def.body)) push(declaring, def.name, def);
    }
  }
  if (!declaring.size) return NO_TYPE_MACROS;
  return { declaring, all };
}

function functionLikeMacros(text: string, file: string): MacroDefinition[] {
  const out: MacroDefinition[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = DEFINE.exec(lines[i]);
    if (!m) continue;
    let full = lines[i];
    const first = i;
    while (/\\\r?$/.test(full) && i + 1 < lines.length) full = full.replace(/\\\r?$/, ' ') + lines[++i];
    const rawParams = m[2].split(',').map((p) => p.trim()).filter((p) => p !== '');
    const variadic = rawParams.length > 0 && rawParams[rawParams.length - 1].endsWith('...');
    const params = rawParams.map((p) => (p === '...' ? '__VA_ARGS__' : p.replace(/\.\.\.$/, '').trim()));
    const body = stripComments(full.slice(full.indexOf(m[0]) + m[0].length)).trim();
    out.push({ name: m[1], params, variadic, body, file, line: first + 1 });
  }
  return out;
}

export interface ExpansionResult {
  text: string;
  /** Invocations that could not be expanded, with why (said once per invocation). */
  notes: { line: number; message: string }[];
}

/** Expands the invocations of type-declaring macros in one file's (preprocessed) text. */
export function expandTypeMacros(text: string, file: string, table: TypeMacroTable): ExpansionResult {
  const notes: ExpansionResult['notes'] = [];
  if (!table.declaring.size) return { text, notes };
  const names = [...table.declaring.keys()].filter((n) => text.includes(n));
  if (!names.length) return { text, notes };
  const code = codeOnly(text);
  const re = new RegExp(`\\b(?:${names.map(escapeRegExp).join('|')})\\s*\\(`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const name = /^\w+/.exec(m[0])![0];
    const open = m.index + m[0].length - 1;
    const close = matchingParen(code, open);
    if (close < 0) break;
    const line = lineOf(text, m.index);
    const def = pickDefinition(table.declaring.get(name)!, file);
    if (!def) {
      notes.push({ line, message: `${name}() is defined differently in several files; the type it declares was not analysed` });
      continue;
    }
    const args = splitTopLevelCommas(text.slice(open + 1, close), 'preprocessor');
    const expanded = expandMacro(def, args, table, file, [name]);
    if (expanded === null) {
      notes.push({ line, message: `${name}() could not be expanded (wrong number of arguments or nesting too deep); the type it declares was not analysed` });
      continue;
    }
    const invocation = text.slice(m.index, close + 1);
    const breaks = invocation.replace(/[^\n]/g, '');
    out += text.slice(last, m.index) + expanded.replace(/\r?\n/g, ' ') + breaks;
    last = close + 1;
    re.lastIndex = close + 1;
  }
  return { text: out + text.slice(last), notes };
}

/** The definition a file sees: its own, or the one every other file agrees on. */
function pickDefinition(defs: readonly MacroDefinition[], file: string): MacroDefinition | null {
  const own = defs.find((d) => d.file === file);
  if (own) return own;
  return defs.every((d) => d.body === defs[0].body && d.params.join() === defs[0].params.join()) ? defs[0] : null;
}

const MAX_DEPTH = 8;

function expandMacro(def: MacroDefinition, args: string[], table: TypeMacroTable, file: string, expanding: string[]): string | null {
  if (expanding.length > MAX_DEPTH) return null;
  if (args.length === 1 && args[0].trim() === '' && def.params.length === 0) args = [];
  const fixed = def.variadic ? def.params.length - 1 : def.params.length;
  if (def.variadic ? args.length < fixed : args.length !== fixed) return null;
  const values = new Map<string, string>();
  def.params.forEach((p, i) => values.set(p, def.variadic && i === fixed ? args.slice(fixed).join(',') : (args[i] ?? '').trim()));
  const tokens = tokenize(def.body);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '#' && values.has(nextToken(tokens, i) ?? '')) {
      const j = nextIndex(tokens, i);
      out.push(stringize(values.get(tokens[j])!));
      i = j;
      continue;
    }
    out.push(values.has(t) ? values.get(t)! : t);
  }
  const pasted = paste(out);
  return rescan(pasted, table, file, expanding);
}

/** `a ## b` → `ab`, white space around `##` dropped. */
function paste(tokens: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== '##') {
      out.push(tokens[i]);
      continue;
    }
    while (out.length && /^\s+$/.test(out[out.length - 1])) out.pop();
    let j = i + 1;
    while (j < tokens.length && /^\s+$/.test(tokens[j])) j++;
    const left = out.pop() ?? '';
    out.push(left + (tokens[j] ?? ''));
    i = j;
  }
  return out.join('');
}

/** Project macros invoked in an expansion are expanded in turn (not the ones being expanded: no recursion). */
function rescan(text: string, table: TypeMacroTable, file: string, expanding: string[]): string | null {
  let out = '';
  let last = 0;
  const re = /\b([A-Za-z_]\w*)\s*\(/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1];
    const defs = table.all.get(name);
    if (!defs || expanding.includes(name)) continue;
    const def = pickDefinition(defs, file);
    if (!def) continue;
    const open = m.index + m[0].length - 1;
    const close = matchingParen(text, open);
    if (close < 0) break;
    const expanded = expandMacro(def, splitTopLevelCommas(text.slice(open + 1, close), 'preprocessor'), table, file, [...expanding, name]);
    if (expanded === null) return null;
    out += text.slice(last, m.index) + expanded;
    last = close + 1;
    re.lastIndex = close + 1;
  }
  return out + text.slice(last);
}

const TOKEN = /\s+|[A-Za-z_]\w*|\d[\w.]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|##|[^\s\w]/gy;

function tokenize(body: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(body); m; m = TOKEN.exec(body)) out.push(/^\s+$/.test(m[0]) ? ' ' : m[0]);
  return out;
}

function nextIndex(tokens: string[], i: number): number {
  let j = i + 1;
  while (j < tokens.length && tokens[j] === ' ') j++;
  return j;
}

function nextToken(tokens: string[], i: number): string | undefined {
  return tokens[nextIndex(tokens, i)];
}

function stringize(arg: string): string {
  return `"${arg.trim().replace(/\s+/g, ' ').replace(/(["\\])/g, '\\$1')}"`;
}

/** The text with comments, string and character literals and preprocessor lines blanked (same length). */
function codeOnly(text: string): string {
  const out = text.split('');
  let i = 0;
  let lineStart = true;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (lineStart && c === '#') {
      // A directive, with its continuation lines.
      while (i < text.length && text[i] !== '\n') {
        if (text[i] === '\\' && text[i + 1] === '\n') i++;
        else out[i] = ' ';
        i++;
      }
      continue;
    }
    if (c !== ' ' && c !== '\t' && c !== '\r') lineStart = false;
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let k = i; k < stop; k++) if (text[k] !== '\n') out[k] = ' ';
      i = stop;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') out[i++] = ' ';
      continue;
    }
    if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < text.length && text[k] !== c && text[k] !== '\n') k += text[k] === '\\' ? 2 : 1;
      for (let x = i; x <= Math.min(k, text.length - 1); x++) if (text[x] !== '\n') out[x] = ' ';
      i = k + 1;
      continue;
    }
    i++;
  }
  return out.join('');
}

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
