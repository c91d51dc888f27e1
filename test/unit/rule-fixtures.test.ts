// Every fixture under test/fixtures/rules/<rule-id>/ declares the findings it must produce with comments on the
// reported line (see test/expectations.ts). A fixture with no such comment
// must produce no finding at all. A folder holding several files is analysed as one extension.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFixture, FIXTURES, REPO_ROOT } from '../helpers.js';
import { expectationKeys, readExpectations, key } from '../expectations.js';

const RULES_DIR = join(FIXTURES, 'rules');

interface Case {
  name: string;
  paths: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  let ruleDirs: string[] = [];
  try {
    ruleDirs = readdirSync(RULES_DIR).sort();
  } catch {
    return out;
  }
  for (const rule of ruleDirs) {
    const dir = join(RULES_DIR, rule);
    if (!statSync(dir).isDirectory()) continue;
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) out.push({ name: `${rule}/${entry}/`, paths: [full] });
      else if (/\.c$/.test(entry)) out.push({ name: `${rule}/${entry}`, paths: [full] });
    }
  }
  return out;
}

function expectedFindings(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p)) if (/\.[ch]$/.test(e)) files.push(join(p, e));
    } else files.push(p);
  }
  return expectationKeys(files.flatMap(readExpectations));
}

const all = cases();
test('rule fixtures exist', () => {
  assert.ok(all.length > 0, `no fixtures under ${RULES_DIR}`);
});

for (const c of all) {
  test(`fixture ${c.name}`, async () => {
    const result = await analyzeFixture(c.paths);
    assert.deepEqual(result.problems.filter((p) => /failed and was skipped/.test(p.message)), [], 'no rule crashed');
    const actual = result.findings.map((f) => key(join(REPO_ROOT, f.file), f.line, f.severity, f.rule)).sort();
    assert.deepEqual(actual, expectedFindings(c.paths), result.findings.map((f) => `${f.file}:${f.line}: ${f.message}`).join('\n'));
  });
}
