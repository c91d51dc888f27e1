// Shared test helpers: repository paths and running the analysis on fixtures.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePaths, analyzeSources, type AnalysisResult } from '../src/analyze.js';

/** The repository root: tests run from dist/, fixtures stay in the source tree. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the tests');
    dir = parent;
  }
  return dir;
})();

export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

export function analyzeFixture(paths: string[], pythonVersion = { major: 3, minor: 9 }): Promise<AnalysisResult> {
  return analyzePaths(paths, { cwd: REPO_ROOT, pythonVersion });
}

/** The rules of the three heap-type conditions (issue 2), for tests about those alone. */
export const HEAP_TYPE_RULES = ['gc-flag-missing', 'traverse-missing', 'traverse-type-not-visited', 'instances-not-tracked', 'gc-alloc-mismatch'];

export function analyzeText(
  text: string,
  file = 'snippet.c',
  pythonVersion = { major: 3, minor: 9 },
  select: readonly string[] = [],
): Promise<AnalysisResult> {
  return analyzeSources([{ file, text }], { cwd: REPO_ROOT, pythonVersion, select });
}
