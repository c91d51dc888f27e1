// Where capi-gc's own files are. Its compiled modules sit two folders below the package (dist/src/…), the bundled
// command one (dist/capi-gc.mjs): each finds the package the same way, looking upwards for the folder that holds
// package.json and the run-time probe (shipped in every install), whatever the package is named.

import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'runtime', 'probe.py'))) return dir;
    if (dirname(dir) === dir) break;
  }
  // The layouts this file is built into: dist/ (the bundle) and dist/src/ (the compiled modules).
  return basename(here) === 'dist' ? dirname(here) : join(here, '..', '..');
}

export const PACKAGE_ROOT = packageRoot();

/** A file or folder of the package: `fromPackage('docs', 'rules')`. */
export function fromPackage(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/** The compiled modules (what `tsc` writes), whichever entry point is running. */
export const COMPILED_SOURCES = fromPackage('dist', 'src');
