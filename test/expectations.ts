// Expected findings written into fixtures as comments (the convention test/unit/rule-fixtures.test.ts also reads).
//
//   // expect: gc-flag-missing                      an error on this line
//   // expect: gc-flag-missing, traverse-missing    several findings on this line
//   // expect-note: gc-flag-missing                 a note-severity finding
//   // expect-warning: some-rule                    a warning
//
// A file with no expect comment must produce no finding at all.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding, Severity } from './e2e/cli.js';
import { repoRoot } from './e2e/repo.js';

export interface Expectation {
  file: string; // absolute
  line: number; // 1-based
  rule: string;
  severity: Severity;
}

const EXPECT_RE = /\/\/\s*expect(?:-(note|warning|error))?:\s*([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)/g;

export function readExpectations(file: string): Expectation[] {
  const out: Expectation[] = [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  lines.forEach((text, i) => {
    for (const m of text.matchAll(EXPECT_RE)) {
      const severity = (m[1] ?? 'error') as Severity;
      for (const rule of m[2]!.split(',').map((s) => s.trim())) {
        out.push({ file, line: i + 1, rule, severity });
      }
    }
  });
  return out;
}

/** `file:line severity rule`, with the file relative to the repository root, for readable diffs. */
export function key(file: string, line: number, severity: string, rule: string): string {
  return `${path.relative(repoRoot(), file)}:${line} ${severity} ${rule}`;
}

export function expectationKeys(expectations: Expectation[]): string[] {
  return expectations.map((e) => key(e.file, e.line, e.severity, e.rule)).sort();
}

export function findingKeys(findings: Finding[]): string[] {
  return findings.map((f) => key(path.resolve(repoRoot(), f.file), f.line, f.severity, f.rule)).sort();
}
