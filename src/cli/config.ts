// `[tool.capi-gc]` in pyproject.toml, and `requires-python` as the oldest supported version.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';

export interface FileConfig {
  path: string | null;
  pythonVersion?: { major: number; minor: number };
  pythonVersionSource?: string;
  ignore?: string[];
  select?: string[];
  exclude?: string[];
  define?: string[];
  undefine?: string[];
  failOn?: 'error' | 'warning' | 'note';
  verify?: { python?: string; module?: string; path?: string[]; factories?: Record<string, string>; timeout?: number };
}

export class ConfigError extends Error {}

/** Finds the nearest pyproject.toml at or above `start`. */
export function findPyproject(start: string): string | null {
  let dir = resolve(start);
  for (let i = 0; i < 64; i++) {
    const candidate = join(dir, 'pyproject.toml');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
}

export function loadConfig(path: string | null): FileConfig {
  if (!path) return { path: null };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${path}: cannot read configuration: ${(error as Error).message.split('\n')[0]}`);
  }
  const config: FileConfig = { path };
  const project = doc.project as Record<string, unknown> | undefined;
  const requires = typeof project?.['requires-python'] === 'string' ? (project['requires-python'] as string) : undefined;
  if (requires) {
    const v = oldestFromRequiresPython(requires);
    if (v) {
      config.pythonVersion = v;
      config.pythonVersionSource = `requires-python "${requires}" in ${path}`;
    }
  }
  const tool = (doc.tool as Record<string, unknown> | undefined)?.['capi-gc'] as Record<string, unknown> | undefined;
  if (!tool) return config;
  const known = new Set(['python-version', 'ignore', 'select', 'exclude', 'define', 'undefine', 'fail-on', 'verify']);
  for (const key of Object.keys(tool)) {
    if (!known.has(key)) throw new ConfigError(`${path}: [tool.capi-gc] has an unknown key "${key}" (known: ${[...known].join(', ')})`);
  }
  const strings = (key: string): string[] | undefined => {
    const v = tool[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${path}: [tool.capi-gc] ${key} must be a list of strings`);
    return v as string[];
  };
  if (tool['python-version'] !== undefined) {
    const v = parsePythonVersion(String(tool['python-version']));
    if (!v) throw new ConfigError(`${path}: [tool.capi-gc] python-version must look like "3.9"`);
    config.pythonVersion = v;
    config.pythonVersionSource = `python-version in ${path}`;
  }
  config.ignore = strings('ignore');
  config.select = strings('select');
  config.exclude = strings('exclude');
  config.define = strings('define');
  config.undefine = strings('undefine');
  if (tool.verify !== undefined) config.verify = verifyTable(path, tool.verify);
  if (tool['fail-on'] !== undefined) {
    const f = String(tool['fail-on']);
    if (f !== 'error' && f !== 'warning' && f !== 'note') throw new ConfigError(`${path}: [tool.capi-gc] fail-on must be error, warning or note`);
    config.failOn = f;
  }
  return config;
}

export function parsePythonVersion(s: string): { major: number; minor: number } | null {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/** `>=3.9`, `>=3.9,<4`, `~=3.10`, `>3.8` → the oldest minor version allowed. */
export function oldestFromRequiresPython(spec: string): { major: number; minor: number } | null {
  let best: { major: number; minor: number } | null = null;
  for (const clause of spec.split(',')) {
    const m = /^\s*(>=|~=|==|>)\s*(\d+)\.(\d+)/.exec(clause);
    if (!m) continue;
    let v = { major: Number(m[2]), minor: Number(m[3]) };
    if (m[1] === '>') v = { major: v.major, minor: v.minor + 1 };
    if (!best || v.major * 100 + v.minor > best.major * 100 + best.minor) best = v;
  }
  return best;
}

/** `[tool.capi-gc.verify]`: python, module, path, timeout (seconds) and `factories = { "pkg.mod.Type" = "m.make()" }`. */
function verifyTable(path: string, v: unknown): NonNullable<FileConfig['verify']> {
  const bad = (what: string) => new ConfigError(`${path}: [tool.capi-gc.verify] ${what}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('must be a table');
  const t = v as Record<string, unknown>;
  const out: NonNullable<FileConfig['verify']> = {};
  for (const key of Object.keys(t)) {
    if (!['python', 'module', 'path', 'factories', 'timeout'].includes(key)) throw bad(`has an unknown key "${key}" (known: python, module, path, factories, timeout)`);
  }
  if (t.python !== undefined) {
    if (typeof t.python !== 'string') throw bad('python must be a string');
    out.python = t.python;
  }
  if (t.module !== undefined) {
    if (typeof t.module !== 'string') throw bad('module must be a string');
    out.module = t.module;
  }
  if (t.path !== undefined) {
    if (!Array.isArray(t.path) || !t.path.every((x) => typeof x === 'string')) throw bad('path must be a list of strings');
    out.path = t.path as string[];
  }
  if (t.timeout !== undefined) {
    if (typeof t.timeout !== 'number' || t.timeout <= 0) throw bad('timeout must be a positive number of seconds');
    out.timeout = t.timeout;
  }
  if (t.factories !== undefined) {
    if (typeof t.factories !== 'object' || t.factories === null || Array.isArray(t.factories)
      || !Object.values(t.factories).every((x) => typeof x === 'string')) throw bad('factories must map type names to Python expressions');
    out.factories = t.factories as Record<string, string>;
  }
  return out;
}
