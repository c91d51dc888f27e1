// Finding the C files under the paths the user gave.

import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

export interface DiscoveredFile {
  /** Absolute path. */
  path: string;
  /** Path as shown to the user: relative to the working directory. */
  display: string;
}

export interface DiscoveryProblem {
  path: string;
  message: string;
  /** The user named a path that cannot be used at all. */
  fatal?: boolean;
  /** Only information: nothing the user gave went unanalysed (a folder with no C files in it). */
  informational?: boolean;
}

export interface DiscoveryOptions {
  cwd: string;
  /** Extra glob patterns (gitignore syntax) to leave out. */
  exclude?: readonly string[];
}

const SOURCE_EXTENSIONS = /\.(c|h)$/i;
const SKIPPED_DIRECTORIES = new Set([
  '.git', '.hg', '.svn', 'node_modules', '__pycache__', '.tox', '.nox', '.venv', 'venv', '.eggs', '.mypy_cache',
  'build', 'dist', '.pytest_cache', '.capi-gc-cache',
]);

export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel.split(sep).join('/');
}

export function discoverFiles(paths: readonly string[], options: DiscoveryOptions): {
  files: DiscoveredFile[];
  problems: DiscoveryProblem[];
} {
  const files: DiscoveredFile[] = [];
  const problems: DiscoveryProblem[] = [];
  const seenReal = new Set<string>();
  const exclude = ignore().add([...(options.exclude ?? [])]);

  for (const given of paths) {
    const abs = resolve(options.cwd, given);
    let stats: Stats;
    try {
      stats = statSync(abs);
    } catch (error) {
      problems.push({ path: given, message: describeFsError(error, 'no such file or directory'), fatal: true });
      continue;
    }
    if (stats.isFile()) {
      // A file named explicitly is analysed whatever its extension or ignore rules say.
      addFile(abs, given);
    } else if (stats.isDirectory()) {
      const before = files.length;
      // A folder named explicitly is searched even when a .gitignore above it ignores it (a venv's include/,
      // pyenv's versions/): the user asked for it. Rules inside it still apply.
      walkDirectory(abs, abs, gitignoreChain(abs).filter((g) => !isIgnored(abs, true, [g])));
      if (files.length === before) problems.push({ path: given, message: 'no .c or .h files found', informational: true });
    } else {
      problems.push({ path: given, message: 'not a regular file or directory' });
    }
  }
  return { files, problems };

  function addFile(abs: string, shown?: string): void {
    let real: string;
    try {
      real = realpathSync(abs);
    } catch (error) {
      problems.push({ path: displayPath(abs, options.cwd), message: describeFsError(error, 'cannot resolve path') });
      return;
    }
    if (seenReal.has(real)) return;
    seenReal.add(real);
    files.push({ path: abs, display: shown && !shown.startsWith('/') ? shown.split(sep).join('/').replace(/^\.\//, '') : displayPath(abs, options.cwd) });
  }

  function walkDirectory(dir: string, root: string, ignores: { base: string; rules: Ignore }[]): void {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seenReal.has(real)) return; // symlink loop or a folder given twice
    seenReal.add(real);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      problems.push({ path: displayPath(dir, options.cwd), message: describeFsError(error, 'cannot read directory') });
      return;
    }
    const local = readGitignore(dir);
    const chain = local ? [...ignores, { base: dir, rules: local }] : ignores;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = statSync(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir && SKIPPED_DIRECTORIES.has(entry.name)) continue;
      if (isIgnored(full, isDir, chain) || exclude.ignores(relativeForIgnore(root, full, isDir))) continue;
      if (isDir) walkDirectory(full, root, chain);
      else if (isFile && SOURCE_EXTENSIONS.test(entry.name)) addFile(full);
    }
  }
}

function relativeForIgnore(base: string, full: string, isDir: boolean): string {
  const rel = relative(base, full).split(sep).join('/');
  return isDir ? rel + '/' : rel;
}

function isIgnored(full: string, isDir: boolean, chain: { base: string; rules: Ignore }[]): boolean {
  for (const { base, rules } of chain) {
    const rel = relativeForIgnore(base, full, isDir);
    if (rel && !rel.startsWith('..') && rules.ignores(rel)) return true;
  }
  return false;
}

function readGitignore(dir: string): Ignore | null {
  try {
    const text = readFileSync(join(dir, '.gitignore'), 'utf8');
    return ignore().add(text);
  } catch {
    return null;
  }
}

/** .gitignore files of the folders above a given folder, up to the repository root, apply too. */
function gitignoreChain(dir: string): { base: string; rules: Ignore }[] {
  const chain: { base: string; rules: Ignore }[] = [];
  let current = resolve(dir, '..');
  for (let i = 0; i < 50; i++) {
    const rules = readGitignore(current);
    if (rules) chain.unshift({ base: current, rules });
    try {
      if (statSync(join(current, '.git')).isDirectory() || statSync(join(current, '.git')).isFile()) break;
    } catch {
      // keep going up
    }
    const parent = resolve(current, '..');
    if (parent === current) break;
    current = parent;
  }
  return chain;
}

export function describeFsError(error: unknown, fallback: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    default: return code ? `${fallback} (${code})` : fallback;
  }
}
