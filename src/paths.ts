// Where capi-gc's own files are. Its compiled modules sit two folders below the package (dist/src/…), the bundled
// command one (dist/capi-gc.mjs): each finds the package the same way, by looking upwards for its package.json.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'capi-gc') return dir;
    } catch {
      // No package.json here, or not capi-gc's: look further up.
    }
    if (dirname(dir) === dir) return join(here, '..', '..');
  }
}

export const PACKAGE_ROOT = packageRoot();

/** A file or folder of the package: `fromPackage('docs', 'rules')`. */
export function fromPackage(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/** The compiled modules (what `tsc` writes), whichever entry point is running. */
export const COMPILED_SOURCES = fromPackage('dist', 'src');
