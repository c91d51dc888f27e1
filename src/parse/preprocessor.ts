// Chooses which branch of each #if/#ifdef/#ifndef/#elif/#else the analysis sees, and blanks the rest.
// Blanking keeps every character offset and newline, so tree-sitter positions still point into the original text.
//
// Conditions are evaluated in three-valued logic: a macro the configuration does not know is "unknown", and an
// unknown condition keeps the first branch (tree-sitter cannot parse two branches that each open a brace).

export interface MacroEnvironment {
  /** Macros known to be defined, with their value ("" for a bare definition). */
  readonly defined: ReadonlyMap<string, string>;
  /** Macros known not to be defined. Anything in neither set is unknown. */
  readonly undefined: ReadonlySet<string>;
}

export interface PreprocessResult {
  text: string;
  /** Conditions that depended on macros the configuration did not know, with the line of the directive. */
  unknownConditions: { line: number; condition: string; macros: string[] }[];
  /** Malformed input the analysis worked around (an unterminated comment, an #if with no #endif). */
  notes: { line: number; message: string }[];
  /**
   * The macro names whose definition in the environment was read (not overridden by the file's own #define or
   * #undef at that point): another environment that agrees on these gives the same result.
   */
  consulted: ReadonlySet<string>;
}

/** Whether two environments agree on every name in `names`: preprocessing a file that consulted them is the same. */
export function environmentsAgree(a: MacroEnvironment, b: MacroEnvironment, names: Iterable<string>): boolean {
  for (const n of names) {
    if (a.defined.get(n) !== b.defined.get(n) || a.defined.has(n) !== b.defined.has(n) || a.undefined.has(n) !== b.undefined.has(n)) return false;
  }
  return true;
}

/** The macros seen from one point of a file: the environment's, overridden by the file's own #define and #undef. */
class MacroScope {
  /** The file's own: a value, or null after #undef. */
  private readonly own = new Map<string, string | null>();
  readonly consulted = new Set<string>();
  readonly defined: MacroValues;
  readonly undefined: MacroNames;

  constructor(env: MacroEnvironment) {
    const { own, consulted } = this;
    this.defined = {
      has(name) {
        if (own.has(name)) return own.get(name) !== null;
        consulted.add(name);
        return env.defined.has(name);
      },
      get(name) {
        if (own.has(name)) return own.get(name) ?? undefined;
        consulted.add(name);
        return env.defined.get(name);
      },
    };
    this.undefined = {
      has(name) {
        if (own.has(name)) return own.get(name) === null;
        consulted.add(name);
        return env.undefined.has(name);
      },
    };
  }

  define(name: string, value: string): void {
    this.own.set(name, value);
  }

  undefine(name: string): void {
    this.own.set(name, null);
  }
}

type MacroValues = Pick<ReadonlyMap<string, string>, 'has' | 'get'>;
type MacroNames = Pick<ReadonlySet<string>, 'has'>;

type Tri = bigint | undefined; // undefined = unknown

interface Frame {
  parentActive: boolean;
  active: boolean;
  /** Some branch of this conditional was already chosen (or may have been, for unknown conditions). */
  decided: boolean;
  line: number;
  sawElse: boolean;
}

const DIRECTIVE = /^[ \t]*#[ \t]*(\w+)?/;

export function preprocess(source: string, env: MacroEnvironment): PreprocessResult {
  const lines = splitLinesKeepingEnds(source);
  const out: string[] = [];
  const stack: Frame[] = [];
  const scope = new MacroScope(env);
  const unknownConditions: PreprocessResult['unknownConditions'] = [];
  const notes: PreprocessResult['notes'] = [];
  let active = true;
  let inBlockComment = false;
  /** Where the open block comment started: output line index and column. */
  let commentStart: { line: number; column: number } | null = null;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const m = inBlockComment ? null : DIRECTIVE.exec(line);
    if (!m) {
      out.push(active ? line : blank(line));
      const state = scanBlockComments(line, inBlockComment);
      inBlockComment = state.inComment;
      if (inBlockComment && state.openedAt >= 0) commentStart = { line: out.length - 1, column: state.openedAt };
      continue;
    }
    // Gather continuation lines of the directive.
    let directive = line;
    let j = i;
    while (/\\\r?\n$/.test(lines[j]) && j + 1 < lines.length) {
      j++;
      directive += lines[j];
    }
    const name = m[1] ?? '';
    const body = stripComments(directive.slice(m[0].length).replace(/\\\r?\n/g, ' ')).trim();
    const lineNo = i + 1;
    const conditional = ['if', 'ifdef', 'ifndef', 'elif', 'else', 'endif', 'elifdef', 'elifndef'].includes(name);

    if (conditional) {
      const evaluate = (kind: string): Tri => {
        const { value, unknownMacros } = evaluateDirective(kind, body, scope.defined, scope.undefined);
        if (value === undefined) unknownConditions.push({ line: lineNo, condition: `#${kind} ${body}`, macros: unknownMacros });
        return value;
      };
      switch (name) {
        case 'if':
        case 'ifdef':
        case 'ifndef': {
          const frame: Frame = { parentActive: active, active: false, decided: false, line: lineNo, sawElse: false };
          if (active && name === 'ifndef' && isIncludeGuard(body, lines, j + 1)) {
            // `#ifndef FOO_H` / `#define FOO_H`: an include guard, seen once per file, so its body is always in.
            frame.active = true;
            frame.decided = true;
          } else if (active) {
            const v = evaluate(name);
            frame.active = v === undefined ? true : v !== 0n;
            frame.decided = frame.active;
          }
          stack.push(frame);
          active = frame.active;
          break;
        }
        case 'elif':
        case 'elifdef':
        case 'elifndef': {
          const frame = stack[stack.length - 1];
          if (!frame) {
            notes.push({ line: lineNo, message: `#${name} without #if: ignored` });
            break;
          }
          if (frame.sawElse) {
            notes.push({ line: lineNo, message: `#${name} after #else (the #if is on line ${frame.line}): its branch was left out` });
            frame.active = false;
            active = false;
            break;
          }
          if (!frame.parentActive || frame.decided) {
            frame.active = false;
          } else {
            const v = evaluate(name === 'elif' ? 'if' : name.slice(2));
            frame.active = v === undefined ? true : v !== 0n;
            frame.decided = frame.active;
          }
          active = frame.active;
          break;
        }
        case 'else': {
          const frame = stack[stack.length - 1];
          if (!frame) {
            notes.push({ line: lineNo, message: '#else without #if: ignored' });
            break;
          }
          if (frame.sawElse) {
            notes.push({ line: lineNo, message: `a second #else for the #if on line ${frame.line}: its branch was left out` });
            frame.active = false;
            active = false;
            break;
          }
          frame.sawElse = true;
          frame.active = frame.parentActive && !frame.decided;
          frame.decided = true;
          active = frame.active;
          break;
        }
        case 'endif': {
          const frame = stack.pop();
          if (!frame) notes.push({ line: lineNo, message: '#endif without #if: ignored' });
          active = frame ? frame.parentActive : true;
          break;
        }
      }
      for (let k = i; k <= j; k++) out.push(blank(lines[k]));
    } else {
      if (active && name === 'define') {
        const dm = /^(\w+)(\()?\s*(.*)$/s.exec(body);
        if (dm && !dm[2]) scope.define(dm[1], dm[3].trim());
        else if (dm) scope.define(dm[1], '');
      } else if (active && name === 'undef') {
        const un = body.split(/\s+/)[0];
        if (un) scope.undefine(un);
      }
      for (let k = i; k <= j; k++) out.push(active ? lines[k] : blank(lines[k]));
    }
    i = j;
  }
  for (const frame of stack) {
    notes.push({ line: frame.line, message: 'this #if has no #endif: the rest of the file was read as inside it' });
  }
  if (inBlockComment && commentStart) {
    // tree-sitter would read what follows an unterminated comment as code: blank it, as a compiler would reject it.
    notes.push({ line: commentStart.line + 1, message: 'unterminated /* comment: the rest of the file is a comment and was not analysed' });
    const first = out[commentStart.line];
    out[commentStart.line] = first.slice(0, commentStart.column) + blank(first.slice(commentStart.column));
    for (let k = commentStart.line + 1; k < out.length; k++) out[k] = blank(out[k]);
  }
  return { text: out.join(''), unknownConditions, notes, consulted: scope.consulted };
}

/** The next non-blank line after `#ifndef NAME` defines NAME: an include guard. */
function isIncludeGuard(body: string, lines: readonly string[], from: number): boolean {
  const name = body.split(/\s+/)[0];
  if (!name || !/^\w+$/.test(name)) return false;
  for (let k = from; k < lines.length && k < from + 20; k++) {
    const text = stripComments(lines[k]).trim();
    if (!text) continue;
    const m = /^#\s*define\s+(\w+)/.exec(text);
    return !!m && m[1] === name;
  }
  return false;
}

function splitLinesKeepingEnds(s: string): string[] {
  const lines = s.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

function blank(line: string): string {
  return line.replace(/[^\r\n]/g, ' ');
}

function stripComments(s: string): string {
  return s.replace(/\/\*.*?\*\//gs, ' ').replace(/\/\/.*$/s, '');
}

/** Block-comment state after `line`; `openedAt` is the column of a `/*` on this line still open at its end, else -1. */
function scanBlockComments(line: string, inComment: boolean): { inComment: boolean; openedAt: number } {
  let i = 0;
  let state = inComment;
  let openedAt = -1;
  while (i < line.length) {
    if (state) {
      const end = line.indexOf('*/', i);
      if (end < 0) return { inComment: true, openedAt };
      state = false;
      openedAt = -1;
      i = end + 2;
    } else {
      const lineComment = line.indexOf('//', i);
      const start = line.indexOf('/*', i);
      const quote = line.indexOf('"', i);
      if (start < 0) return { inComment: false, openedAt: -1 };
      if (lineComment >= 0 && lineComment < start) return { inComment: false, openedAt: -1 };
      if (quote >= 0 && quote < start) {
        const close = line.indexOf('"', quote + 1);
        if (close < 0) return { inComment: false, openedAt: -1 };
        i = close + 1;
        continue;
      }
      state = true;
      openedAt = start;
      i = start + 2;
    }
  }
  return { inComment: state, openedAt };
}

// ---------------------------------------------------------------------------------------------------------------
// #if expression evaluation

function evaluateDirective(
  kind: string,
  body: string,
  defined: MacroValues,
  undefinedSet: MacroNames,
): { value: Tri; unknownMacros: string[] } {
  const unknownMacros: string[] = [];
  if (kind === 'ifdef' || kind === 'ifndef') {
    const name = body.split(/\s+/)[0] ?? '';
    let v: Tri;
    if (defined.has(name)) v = 1n;
    else if (undefinedSet.has(name)) v = 0n;
    else {
      unknownMacros.push(name);
      return { value: undefined, unknownMacros };
    }
    return { value: kind === 'ifdef' ? v : v === 0n ? 1n : 0n, unknownMacros };
  }
  try {
    const tokens = tokenize(body);
    const parser = new ExprParser(tokens, defined, undefinedSet, unknownMacros, 0);
    const value = parser.parseConditional();
    if (parser.pos !== tokens.length) return { value: undefined, unknownMacros: unknownMacros.length ? unknownMacros : [body] };
    return { value, unknownMacros };
  } catch {
    return { value: undefined, unknownMacros: unknownMacros.length ? unknownMacros : [body] };
  }
}

const TOKEN = /\s*(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|'(?:\\.|[^'])'|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>!~&|^?:(),])/y;

function tokenize(s: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(s);
    if (!m) throw new Error(`cannot tokenize #if expression near "${s.slice(pos, pos + 10)}"`);
    tokens.push(m[1]);
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

class ExprParser {
  pos = 0;
  constructor(
    private readonly tokens: string[],
    private readonly defined: MacroValues,
    private readonly undefinedSet: MacroNames,
    private readonly unknownMacros: string[],
    private readonly depth: number,
    private readonly expanding: ReadonlySet<string> = new Set(),
    /**
     * The value of each macro already read in this condition, with the unknown names it met: `#define M1 (M0+M0)`,
     * `#define M2 (M1+M1)` … would otherwise be read 2^k times (a 600-byte file held the run for minutes).
     */
    private readonly memo: Map<string, { value: Tri; unknown: readonly string[] }> = new Map(),
  ) {}

  parseConditional(): Tri {
    const cond = this.parseBinary(1);
    if (this.tokens[this.pos] === '?') {
      this.pos++;
      const a = this.parseConditional();
      this.expect(':');
      const b = this.parseConditional();
      if (cond === undefined) return a === b ? a : undefined;
      return cond !== 0n ? a : b;
    }
    return cond;
  }

  private parseBinary(minPrec: number): Tri {
    let left = this.parseUnary();
    for (;;) {
      const op = this.tokens[this.pos];
      const prec = op !== undefined ? BINARY_PRECEDENCE[op] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.pos++;
      const right = this.parseBinary(prec + 1);
      left = applyBinary(op, left, right);
    }
  }

  private parseUnary(): Tri {
    const t = this.tokens[this.pos];
    if (t === '!' || t === '-' || t === '+' || t === '~') {
      this.pos++;
      const v = this.parseUnary();
      if (v === undefined) return undefined;
      if (t === '!') return v === 0n ? 1n : 0n;
      if (t === '-') return -v;
      if (t === '~') return ~v;
      return v;
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Tri {
    const t = this.tokens[this.pos++];
    if (t === undefined) throw new Error('unexpected end of #if expression');
    if (t === '(') {
      const v = this.parseConditional();
      this.expect(')');
      return v;
    }
    if (/^\d/.test(t)) return BigInt(t.replace(/[uUlL]+$/, ''));
    if (t.startsWith("'")) return BigInt(t.length === 3 ? t.charCodeAt(1) : 0);
    if (t === 'defined') {
      let name = this.tokens[this.pos++];
      if (name === '(') {
        name = this.tokens[this.pos++];
        this.expect(')');
      }
      if (name === undefined) throw new Error('defined without a name');
      if (this.defined.has(name)) return 1n;
      if (this.undefinedSet.has(name)) return 0n;
      this.unknownMacros.push(name);
      return undefined;
    }
    if (/^[A-Za-z_]/.test(t)) {
      if (this.tokens[this.pos] === '(') {
        // A function-like macro in a condition (e.g. __has_attribute(x)): cannot evaluate.
        this.skipParenthesised();
        this.unknownMacros.push(t);
        return undefined;
      }
      if (this.defined.has(t)) {
        const value = this.defined.get(t) ?? '';
        if (value === '' ) return 0n;
        const seen = this.memo.get(t);
        if (seen) {
          this.unknownMacros.push(...seen.unknown);
          return seen.value;
        }
        // A macro that expands to itself (directly or through others) has no value (in any context: what reaches a
        // cycle is unknown wherever it is read, so the values kept are the same whichever use read them first).
        if (this.expanding.has(t) || this.depth > 200) return undefined;
        const before = this.unknownMacros.length;
        let v: Tri;
        try {
          const tokens = tokenize(value);
          const sub = new ExprParser(tokens, this.defined, this.undefinedSet, this.unknownMacros, this.depth + 1, new Set([...this.expanding, t]), this.memo);
          const read = sub.parseConditional();
          v = sub.pos === tokens.length ? read : undefined;
        } catch {
          v = undefined;
        }
        this.memo.set(t, { value: v, unknown: this.unknownMacros.slice(before) });
        return v;
      }
      if (this.undefinedSet.has(t)) return 0n;
      this.unknownMacros.push(t);
      return undefined;
    }
    throw new Error(`unexpected token ${t}`);
  }

  private skipParenthesised(): void {
    let depth = 0;
    while (this.pos < this.tokens.length) {
      const t = this.tokens[this.pos++];
      if (t === '(') depth++;
      else if (t === ')' && --depth === 0) return;
    }
  }

  private expect(t: string): void {
    if (this.tokens[this.pos] !== t) throw new Error(`expected ${t}`);
    this.pos++;
  }
}

function applyBinary(op: string, a: Tri, b: Tri): Tri {
  if (op === '&&') {
    if (a === 0n || b === 0n) return 0n;
    if (a === undefined || b === undefined) return undefined;
    return 1n;
  }
  if (op === '||') {
    if ((a !== undefined && a !== 0n) || (b !== undefined && b !== 0n)) return 1n;
    if (a === undefined || b === undefined) return undefined;
    return 0n;
  }
  if (a === undefined || b === undefined) return undefined;
  switch (op) {
    case '|': return a | b;
    case '^': return a ^ b;
    case '&': return a & b;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '<': return a < b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '<<': return a << b;
    case '>>': return a >> b;
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0n ? undefined : a / b;
    case '%': return b === 0n ? undefined : a % b;
  }
  return undefined;
}

/**
 * The macro environment of a build for the given Python version on Linux, plus the user's own definitions.
 * `api` says which C-API macros exist for that version (from the model's C-API catalogue), so that
 * `#ifndef Py_TPFLAGS_IMMUTABLETYPE` compatibility fallbacks read as they compile for the target.
 */
export function macroEnvironmentFor(
  pythonVersion: { major: number; minor: number },
  userDefines: ReadonlyMap<string, string> = new Map(),
  userUndefines: ReadonlySet<string> = new Set(),
  api: { defined: ReadonlyMap<string, string>; undefined: ReadonlySet<string> } = { defined: new Map(), undefined: new Set() },
): MacroEnvironment {
  // The final release of X.Y: `#if PY_VERSION_HEX >= 0x030900A4` (an alpha of 3.9) holds for a 3.9 target.
  const hex = ((pythonVersion.major << 24) | (pythonVersion.minor << 16) | 0xF0) >>> 0;
  const defined = new Map<string, string>([
    ...api.defined,
    ['PY_VERSION_HEX', `0x${hex.toString(16).padStart(8, '0')}`],
    ['PY_MAJOR_VERSION', String(pythonVersion.major)],
    ['PY_MINOR_VERSION', String(pythonVersion.minor)],
    ['PY_MICRO_VERSION', '0'],
    ['PY_RELEASE_LEVEL', '0xF'],
    ['PY_RELEASE_LEVEL_FINAL', '0xF'],
    ['__linux__', '1'],
    ['__GNUC__', '12'],
    ['__STDC__', '1'],
    ['__STDC_VERSION__', '201112L'],
  ]);
  const undefinedSet = new Set<string>([
    ...api.undefined,
    'Py_LIMITED_API', 'Py_GIL_DISABLED', 'MS_WINDOWS', '_WIN32', '_WIN64', '_MSC_VER', '__APPLE__', '__cplusplus',
    'Py_DEBUG', 'Py_TRACE_REFS', 'PYPY_VERSION', '__CYGWIN__', '__MINGW32__', 'Py_REF_DEBUG',
  ]);
  for (const [k, v] of userDefines) {
    defined.set(k, v);
    undefinedSet.delete(k);
  }
  for (const k of userUndefines) {
    defined.delete(k);
    undefinedSet.add(k);
  }
  return { defined, undefined: undefinedSet };
}
