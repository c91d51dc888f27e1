// Paths as code scanning and GitHub annotations need them: relative to the root of the repository, which is where
// GitHub resolves them (github/codeql-action reads a relative SARIF URI as relative to the checkout, whatever its
// uriBaseId), not to the folder capi-gc ran in: `cd ext && capi-gc check .` in a monorepo must name `ext/src/a.c`.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The nearest folder at or above `cwd` holding `.git` (a folder, or a file in a worktree or submodule), else cwd. */
export function repositoryRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}

/** `file` (relative to cwd, or absolute) relative to `root` with `/`, or null when it lies outside `root`. */
export function rootRelative(file: string, cwd: string, root: string): string | null {
  const rel = relative(root, resolve(cwd, file));
  if (!rel || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}
