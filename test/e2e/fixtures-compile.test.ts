// Every C fixture (test/fixtures/rules/** and test/fixtures/e2e/) must compile against the CPython headers
// found (`gcc -fsyntax-only`), so that the fixtures stay realistic. A fixture that needs newer headers says so:
//   /* fixture-requires: Python 3.10 headers (…) */
// and one that is not meant to compile at all says `fixture-requires: nothing (does not compile)`.
// Skips, like the e2e tests, when gcc or headers are missing (unless CAPI_GC_REQUIRE_PYTHON=1).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { requireOrSkip } from './pythons.js';
import { fromRoot, mapLimit, repoRoot, runProcess } from './repo.js';

function cFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...cFiles(p));
    else if (entry.endsWith('.c')) out.push(p);
  }
  return out;
}

interface Requirement {
  minMinor: number;
  compiles: boolean;
}

function requirement(file: string): Requirement {
  const text = readFileSync(file, 'utf8');
  if (/fixture-requires:\s*nothing/.test(text)) return { minMinor: 0, compiles: false };
  const m = /fixture-requires:\s*Python\s*3\.(\d+)/.exec(text);
  return { minMinor: m ? Number(m[1]) : 0, compiles: true };
}

const files = [...cFiles(fromRoot('test', 'fixtures', 'rules')), ...cFiles(fromRoot('test', 'fixtures', 'e2e'))];
// Quiet: e2e.test.ts already prints the one SKIP line.
const toolchain = requireOrSkip({ quiet: true });

describe('C fixtures compile against the CPython headers', () => {
  it('there are fixtures', () => {
    assert.ok(files.length > 0);
  });

  if (toolchain.skipReason !== null) {
    it('gcc -fsyntax-only on every fixture', { skip: toolchain.skipReason.replace(/^SKIP e2e: /, '') }, () => {});
    return;
  }

  for (const py of toolchain.pythons) {
    it(`every fixture compiles with CPython ${py.version} headers`, { timeout: 180_000 }, async () => {
      const failures = (
        await mapLimit(files, 8, async (file) => {
          const req = requirement(file);
          if (!req.compiles || py.minor < req.minMinor) return null;
          const r = await runProcess('gcc', ['-fsyntax-only', '-w', `-I${py.includeDir}`, file]);
          return r.code === 0 ? null : `${path.relative(repoRoot(), file)}:\n${r.stderr.trim().split('\n').slice(0, 6).join('\n')}`;
        })
      ).filter((x): x is string => x !== null);
      assert.deepEqual(failures, [], `fixtures that do not compile against ${py.includeDir}`);
    });
  }
});
