// Writing the report (or a baseline) to a file: checked before the analysis starts, so a bad path fails at once,
// then written atomically (a temporary file in the same folder, renamed over the target) by write-file-atomic, so a
// reader or a failed run never sees half a file.

import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export class OutputError extends Error {}

/** Files a report must never replace: C sources and headers, and the project's own configuration. */
const PROTECTED_NAME = /\.(c|h|cc|cpp|cxx|hh|hpp|hxx|inc|pyx|pxd|py)$|^(pyproject\.toml|setup\.cfg|\.pre-commit-config\.yaml|package\.json)$/i;

/** True when `text` is a capi-gc baseline (what `--write-baseline` may replace). */
function isBaselineText(text: string): boolean {
  try {
    const doc = JSON.parse(text.replace(/^\uFEFF/, '')) as { tool?: unknown } | null;
    return !!doc && typeof doc === 'object' && doc.tool === 'capi-gc';
  } catch {
    return false;
  }
}

/**
 * Says what is wrong with writing to `path`, or null when it can be written: its folder exists, it is no folder,
 * and it is not a file of the user's that a report would destroy (a C source or header, pyproject.toml …; for a
 * baseline, any existing file that is not a capi-gc baseline).
 */
export function checkOutputPath(path: string, cwd: string, what: string, kind: 'report' | 'baseline' = 'report'): string | null {
  const abs = resolve(cwd, path);
  let exists = false;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) return `${what} ${path} is a directory; give a file name`;
    exists = true;
  } catch {
    // Does not exist yet: fine, if its folder does.
  }
  if (exists) {
    if (PROTECTED_NAME.test(basename(abs))) {
      return `${what} ${path} is one of your project's files (a source, header or configuration file); capi-gc never writes over it: give another name`;
    }
    if (kind === 'baseline') {
      let text: string | null = null;
      try {
        text = readFileSync(abs, 'utf8');
      } catch {
        // Unreadable: the write will say why it fails.
      }
      if (text !== null && text.trim() !== '' && !isBaselineText(text)) {
        return `${what} ${path} exists and is not a capi-gc baseline; capi-gc never writes over it: remove it or give another name`;
      }
    }
  }
  const dir = dirname(abs);
  try {
    if (!statSync(dir).isDirectory()) return `${what} ${path}: ${dirname(path)} is not a directory`;
  } catch {
    return `${what} ${path}: the folder ${dirname(path)} does not exist (create it first)`;
  }
  return null;
}

/** Says why `path` must not be written because the run analysed it (a file given on the command line), or null. */
export function inputClash(path: string, cwd: string, what: string, analysed: Iterable<string>): string | null {
  const abs = resolve(cwd, path);
  for (const file of analysed) {
    if (resolve(cwd, file) === abs) return `${what} ${path} is a file this run analyses; capi-gc never writes over it: give another name (nothing was written)`;
  }
  return null;
}

export async function writeOutputFile(path: string, cwd: string, text: string, what: string): Promise<void> {
  try {
    await writeFileAtomic(resolve(cwd, path), text, { encoding: 'utf8' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOENT' ? 'its folder does not exist' : e.code === 'ENOSPC' ? 'no space left on the device' : e.message;
    throw new OutputError(`cannot write ${what} ${path}: ${why} (nothing was written)`);
  }
}
