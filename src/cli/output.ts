// Writing the report (or a baseline) to a file: checked before the analysis starts, so a bad path fails at once,
// then written atomically (a temporary file in the same folder, renamed over the target) by write-file-atomic, so a
// reader or a failed run never sees half a file.

import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export class OutputError extends Error {}

/** Says what is wrong with writing to `path`, or null when it can be written (its folder exists, it is no folder). */
export function checkOutputPath(path: string, cwd: string, what: string): string | null {
  const abs = resolve(cwd, path);
  try {
    if (statSync(abs).isDirectory()) return `${what} ${path} is a directory; give a file name`;
  } catch {
    // Does not exist yet: fine, if its folder does.
  }
  const dir = dirname(abs);
  try {
    if (!statSync(dir).isDirectory()) return `${what} ${path}: ${dirname(path)} is not a directory`;
  } catch {
    return `${what} ${path}: the folder ${dirname(path)} does not exist (create it first)`;
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
