// Finds CPython interpreters (3.9 and newer) together with their C headers, for the end-to-end tests.
//
// Sources, first match per minor version wins:
//   1. pyenv: `pyenv root` (or $PYENV_ROOT, ~/.pyenv) → versions/3.X.Y/bin/python3 and include/python3.X
//   2. `python3-config --includes`, paired with python3.X / python3 of the same version on PATH
//   3. python3.X on PATH that reports an INCLUDEPY directory holding Python.h
//
// CAPI_GC_E2E_PYTHONS=3.12,3.9 restricts the run to those versions.
// CAPI_GC_REQUIRE_PYTHON=1 (set by CI) turns "nothing found" from a skip into a failure.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface PythonInstall {
  /** Minor version, e.g. '3.12'. */
  version: string;
  minor: number;
  /** Full version when known, e.g. '3.12.1'. */
  fullVersion: string;
  executable: string;
  /** The directory holding Python.h. */
  includeDir: string;
  source: 'pyenv' | 'python3-config' | 'PATH';
}

export const MIN_MINOR = 9;
/** Newest minor version the fixtures are written for; newer ones are used too when found. */
export const MAX_TESTED_MINOR = 13;

function capture(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
  } catch {
    return null;
  }
}

function hasPythonH(dir: string): boolean {
  return existsSync(path.join(dir, 'Python.h'));
}

function pyenvRoot(): string | null {
  const candidates = [capture('pyenv', ['root']), process.env['PYENV_ROOT'], path.join(homedir(), '.pyenv')];
  for (const c of candidates) {
    if (c && existsSync(path.join(c, 'versions'))) return c;
  }
  return null;
}

function fromPyenv(): PythonInstall[] {
  const root = pyenvRoot();
  if (root === null) return [];
  const versionsDir = path.join(root, 'versions');
  const found: PythonInstall[] = [];
  let entries: string[];
  try {
    entries = readdirSync(versionsDir);
  } catch {
    return [];
  }
  for (const entry of entries) {
    // Plain CPython releases only: skips 3.13.0t (free-threaded), pypy3.10-…, miniconda…, 3.14-dev.
    const m = /^3\.(\d+)\.(\d+)$/.exec(entry);
    if (!m) continue;
    const minor = Number(m[1]);
    if (minor < MIN_MINOR) continue;
    const prefix = path.join(versionsDir, entry);
    const includeDir = path.join(prefix, 'include', `python3.${minor}`);
    const executable = [path.join(prefix, 'bin', `python3.${minor}`), path.join(prefix, 'bin', 'python3')].find((p) =>
      existsSync(p),
    );
    if (!executable || !hasPythonH(includeDir)) continue;
    found.push({ version: `3.${minor}`, minor, fullVersion: entry, executable, includeDir, source: 'pyenv' });
  }
  // Keep the newest patch release of each minor version.
  const patch = (p: PythonInstall): number => Number(p.fullVersion.split('.')[2]);
  const best = new Map<number, PythonInstall>();
  for (const p of found) {
    const seen = best.get(p.minor);
    if (!seen || patch(p) > patch(seen)) best.set(p.minor, p);
  }
  return [...best.values()];
}

function interpreterVersion(executable: string): string | null {
  return capture(executable, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']);
}

function fromPython3Config(): PythonInstall[] {
  const out = capture('python3-config', ['--includes']);
  if (out === null) return [];
  const found: PythonInstall[] = [];
  for (const token of out.split(/\s+/)) {
    if (!token.startsWith('-I')) continue;
    const includeDir = token.slice(2);
    const m = /python3\.(\d+)/.exec(path.basename(includeDir));
    if (!m || !hasPythonH(includeDir)) continue;
    const minor = Number(m[1]);
    if (minor < MIN_MINOR || found.some((p) => p.minor === minor)) continue;
    for (const exe of [`python3.${minor}`, 'python3']) {
      const full = interpreterVersion(exe);
      if (full !== null && full.startsWith(`3.${minor}.`)) {
        found.push({ version: `3.${minor}`, minor, fullVersion: full, executable: exe, includeDir, source: 'python3-config' });
        break;
      }
    }
  }
  return found;
}

function fromPath(minors: number[]): PythonInstall[] {
  const found: PythonInstall[] = [];
  for (const minor of minors) {
    const exe = `python3.${minor}`;
    const out = capture(exe, [
      '-c',
      'import sys, sysconfig; print("%d.%d.%d" % sys.version_info[:3]); print(sysconfig.get_config_var("INCLUDEPY") or "")',
    ]);
    if (out === null) continue;
    const [full, includeDir] = out.split('\n');
    if (!full || !includeDir || !full.startsWith(`3.${minor}.`) || !hasPythonH(includeDir)) continue;
    found.push({ version: `3.${minor}`, minor, fullVersion: full, executable: exe, includeDir, source: 'PATH' });
  }
  return found;
}

let cached: PythonInstall[] | null = null;

/** Every usable CPython ≥ 3.9 with headers, one per minor version, oldest first. */
export function findPythons(): PythonInstall[] {
  if (cached !== null) return cached;
  const byMinor = new Map<number, PythonInstall>();
  const add = (list: PythonInstall[]): void => {
    for (const p of list) if (!byMinor.has(p.minor)) byMinor.set(p.minor, p);
  };
  add(fromPyenv());
  add(fromPython3Config());
  const missing: number[] = [];
  for (let minor = MIN_MINOR; minor <= MAX_TESTED_MINOR + 1; minor++) if (!byMinor.has(minor)) missing.push(minor);
  add(fromPath(missing));

  let list = [...byMinor.values()].sort((a, b) => a.minor - b.minor);
  const only = process.env['CAPI_GC_E2E_PYTHONS'];
  if (only) {
    const wanted = new Set(only.split(',').map((s) => s.trim()).filter(Boolean));
    list = list.filter((p) => wanted.has(p.version));
  }
  cached = list;
  return list;
}

export function findGcc(): string | null {
  return capture('gcc', ['--version']) === null ? null : 'gcc';
}

export interface Toolchain {
  pythons: PythonInstall[];
  gcc: string | null;
  /** Why the end-to-end tests cannot run here, or null when they can. */
  skipReason: string | null;
}

let announced = false;

/**
 * The interpreters to test against. When none can be used, either throws (CAPI_GC_REQUIRE_PYTHON=1, as in CI)
 * or prints one loud line naming what to install (unless `quiet`) and returns an empty list with `skipReason` set.
 */
export function requireOrSkip(options: { quiet?: boolean } = {}): Toolchain {
  const gcc = findGcc();
  const pythons = gcc === null ? [] : findPythons();
  let skipReason: string | null = null;
  if (gcc === null) {
    skipReason = 'SKIP e2e: gcc not found; install gcc (e.g. apt-get install build-essential) to build the fixture extensions';
  } else if (pythons.length === 0) {
    const filter = process.env['CAPI_GC_E2E_PYTHONS'];
    skipReason =
      `SKIP e2e: no CPython 3.${MIN_MINOR}-3.${MAX_TESTED_MINOR} headers found` +
      (filter ? ` (CAPI_GC_E2E_PYTHONS=${filter})` : '') +
      '; install pyenv versions (pyenv install 3.12) or python3-dev';
  }
  if (skipReason !== null) {
    if (process.env['CAPI_GC_REQUIRE_PYTHON'] === '1') {
      throw new Error(`CAPI_GC_REQUIRE_PYTHON=1 but the end-to-end tests cannot run: ${skipReason.replace(/^SKIP e2e: /, '')}`);
    }
    if (!announced && !options.quiet) {
      announced = true;
      console.log(`*** ${skipReason} ***`);
    }
  }
  return { pythons, gcc, skipReason };
}
