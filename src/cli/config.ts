// `[tool.capi-gc]` in pyproject.toml, and `requires-python` as the oldest supported version.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { isKnownRuleId, unknownRuleMessage } from '../rules/ids.js';

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
  /** `cache-dir`, resolved against the folder of the pyproject.toml that names it. */
  cacheDir?: string;
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

export function loadConfig(path: string | null, start?: string): FileConfig {
  if (!path) {
    const legacy = start ? findLegacy(start) : null;
    return legacy ? { path: null, pythonVersion: legacy.version, pythonVersionSource: legacy.source } : { path: null };
  }
  let doc: Record<string, unknown>;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    doc = parseToml(text) as Record<string, unknown>;
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
  if (!config.pythonVersion) {
    const legacy = legacyPythonRequires(dirname(path));
    if (legacy) {
      config.pythonVersion = legacy.version;
      config.pythonVersionSource = legacy.source;
    }
  }
  const tool = (doc.tool as Record<string, unknown> | undefined)?.['capi-gc'] as Record<string, unknown> | undefined;
  if (!tool) return config;
  for (const key of ['select', 'ignore']) {
    const ids = tool[key];
    if (!Array.isArray(ids)) continue;
    for (const id of ids) if (typeof id === 'string' && !isKnownRuleId(id)) throw new ConfigError(`${path}: [tool.capi-gc] ${key}: ${unknownRuleMessage(id)}`);
  }
  const known = new Set(['python-version', 'ignore', 'select', 'exclude', 'define', 'undefine', 'fail-on', 'verify', 'cache-dir']);
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
    const raw = tool['python-version'];
    if (typeof raw !== 'string') {
      // TOML reads `3.10` as the number 3.1: only a string says which version was meant.
      const written = /^\s*python-version\s*=\s*([^\s#]+)/m.exec(text)?.[1] ?? String(raw);
      throw new ConfigError(`${path}: [tool.capi-gc] python-version = ${written} is a TOML number, not a version (3.10 would be read as 3.1): write it as a string, python-version = "${written}"`);
    }
    const v = parsePythonVersion(raw);
    if (typeof v === 'string') throw new ConfigError(`${path}: [tool.capi-gc] python-version ${v}`);
    config.pythonVersion = v;
    config.pythonVersionSource = `python-version in ${path}`;
  }
  config.ignore = strings('ignore');
  config.select = strings('select');
  config.exclude = strings('exclude');
  config.define = strings('define');
  config.undefine = strings('undefine');
  if (tool.verify !== undefined) config.verify = verifyTable(path, tool.verify);
  if (tool['cache-dir'] !== undefined) {
    const dir = tool['cache-dir'];
    if (typeof dir !== 'string' || dir.trim() === '') throw new ConfigError(`${path}: [tool.capi-gc] cache-dir must be a folder name (a string)`);
    config.cacheDir = resolve(dirname(path), dir);
  }
  if (tool['fail-on'] !== undefined) {
    const f = String(tool['fail-on']);
    if (f !== 'error' && f !== 'warning' && f !== 'note') throw new ConfigError(`${path}: [tool.capi-gc] fail-on must be error, warning or note`);
    config.failOn = f;
  }
  return config;
}

/** Oldest and newest Python versions whose C API capi-gc describes. */
export const SUPPORTED_VERSIONS = { oldest: { major: 3, minor: 6 }, newest: { major: 3, minor: 15 } };

/** `"3.10"` → 3.10; otherwise what is wrong with it, to follow the option's name in a message. */
export function parsePythonVersion(s: string): { major: number; minor: number } | string {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  if (!m) return `must look like "3.9", not "${s}"`;
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  const { oldest, newest } = SUPPORTED_VERSIONS;
  const key = (x: { major: number; minor: number }) => x.major * 100 + x.minor;
  if (key(v) < key(oldest) || key(v) > key(newest) || m[2].length > 2) {
    return `must be a Python version from ${oldest.major}.${oldest.minor} to ${newest.major}.${newest.minor}, not "${s}"`;
  }
  return v;
}

/**
 * `python_requires` from setup.cfg (`[options]`) or the literal `python_requires=">=3.9"` in setup.py, for
 * projects whose pyproject.toml (if any) has no requires-python.
 */
export function legacyPythonRequires(dir: string): { version: { major: number; minor: number }; source: string } | null {
  const cfg = join(dir, 'setup.cfg');
  if (existsSync(cfg)) {
    const m = /^\s*python_requires\s*=\s*(.+)$/m.exec(readText(cfg));
    const v = m ? oldestFromRequiresPython(m[1].trim().replace(/^["']|["']$/g, '')) : null;
    if (v) return { version: v, source: `python_requires "${m![1].trim()}" in ${cfg}` };
  }
  const py = join(dir, 'setup.py');
  if (existsSync(py)) {
    const m = /python_requires\s*=\s*(['"])([^'"]+)\1/.exec(readText(py));
    const v = m ? oldestFromRequiresPython(m[2]) : null;
    if (v) return { version: v, source: `python_requires "${m![2]}" in ${py}` };
  }
  return null;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function findLegacy(start: string): ReturnType<typeof legacyPythonRequires> {
  let dir = resolve(start);
  for (let i = 0; i < 64; i++) {
    const found = legacyPythonRequires(dir);
    if (found) return found;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
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
