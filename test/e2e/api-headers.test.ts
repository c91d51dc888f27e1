// What capi-gc finds must not depend on which other files it is given: CPython's own headers (a pyenv or venv
// include/ folder, or a checkout's Include/) among the inputs are the C API, never extension code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePaths } from '../../src/analyze.js';
import type { Finding } from '../../src/rules/rule.js';
import { FIXTURES, REPO_ROOT } from '../helpers.js';
import { requireOrSkip } from './pythons.js';

const FIXTURE_SETS = [
  join(REPO_ROOT, 'examples'),
  join(FIXTURES, 'api-headers'),
  join(FIXTURES, 'rules'),
  join(FIXTURES, 'e2e'),
  join(FIXTURES, 'e2e-protocol'),
];

function key(f: Finding): string {
  return [f.rule, f.severity, f.file, f.line, f.column, f.spec, f.member, f.function, f.message].join('|');
}

async function findingsOf(paths: string[], cwd: string, minor: number): Promise<string[]> {
  const r = await analyzePaths(paths, { cwd, pythonVersion: { major: 3, minor } });
  return r.findings.map(key);
}

const toolchain = requireOrSkip({ quiet: true });

for (const python of toolchain.pythons) {
  test(`fixtures give the same findings alone and together with CPython ${python.fullVersion}'s include/ folder`, async () => {
    for (const set of FIXTURE_SETS) {
      const alone = await findingsOf([set], REPO_ROOT, python.minor);
      const withHeaders = await findingsOf([set, python.includeDir], REPO_ROOT, python.minor);
      assert.ok(alone.length > 0, `${set} has findings to compare`);
      assert.deepEqual(withHeaders, alone, `${set} with ${python.includeDir}`);
    }
  });

  test(`a checkout laid out like CPython's (Include/ beside Modules/) checked at its root, with ${python.fullVersion}'s headers`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'capi-gc-checkout-'));
    try {
      cpSync(python.includeDir, join(root, 'Include'), { recursive: true });
      cpSync(join(FIXTURES, 'e2e'), join(root, 'Modules'), { recursive: true });
      cpSync(join(FIXTURES, 'api-headers', 'vendored'), join(root, 'Modules', 'shapes'), { recursive: true });
      const atRoot = await findingsOf(['.'], root, python.minor);
      const modulesOnly = await findingsOf(['Modules'], root, python.minor);
      assert.ok(modulesOnly.length >= 5, 'the fixture defects are found');
      assert.deepEqual(atRoot, modulesOnly);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

if (toolchain.skipReason) test('C-API headers of installed Pythons', { skip: toolchain.skipReason }, () => {});
