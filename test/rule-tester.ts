// A RuleTester in the manner of ESLint's: a rule, C sources it must accept, and sources with the message ids (and
// lines) it must report. Each case runs the real pipeline (analyzeSources) on the in-memory source with only that
// rule selected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSources, type AnalysisResult } from '../src/analyze.js';
import type { Rule, Severity } from '../src/rules/rule.js';
import { REPO_ROOT } from './helpers.js';

type Version = { major: number; minor: number };

export interface ValidCase {
  code: string;
  name?: string;
  /** Oldest supported Python (default 3.9). */
  pythonVersion?: Version;
}

export interface ExpectedError<MessageId extends string = string> {
  messageId: MessageId;
  /** 1-based line of the finding, checked when given. */
  line?: number;
  /** Checked when given. */
  severity?: Severity;
}

export interface InvalidCase<MessageId extends string = string> extends ValidCase {
  /** In the order the findings appear in the file. */
  errors: ExpectedError<MessageId>[];
}

export interface RuleTests<MessageId extends string = string> {
  valid: (string | ValidCase)[];
  invalid: InvalidCase<MessageId>[];
}

const DEFAULT_VERSION: Version = { major: 3, minor: 9 };

export function ruleTester<MessageId extends string>(rule: Rule<MessageId>, tests: RuleTests<NoInfer<MessageId>>): void {
  tests.valid.forEach((item, i) => {
    const c = typeof item === 'string' ? { code: item } : item;
    test(`${rule.id} valid ${c.name ?? `#${i + 1}`}`, async () => {
      const result = await run(rule, c);
      assert.deepEqual(result.findings.map((f) => `${f.line}: ${f.message}`), [], 'no finding');
    });
  });
  tests.invalid.forEach((c, i) => {
    test(`${rule.id} invalid ${c.name ?? `#${i + 1}`}`, async () => {
      const result = await run(rule, c);
      const shown = result.findings.map((f) => `${f.line} ${f.severity} ${f.messageId}: ${f.message}`).join('\n');
      assert.equal(result.findings.length, c.errors.length, `${c.errors.length} finding(s) expected, got:\n${shown}`);
      c.errors.forEach((expected, j) => {
        const f = result.findings[j];
        assert.equal(f.rule, rule.id);
        assert.equal(f.messageId, expected.messageId, shown);
        assert.ok(Object.hasOwn(rule.messages, expected.messageId), `${rule.id} declares message ${expected.messageId}`);
        if (expected.line !== undefined) assert.equal(f.line, expected.line, shown);
        if (expected.severity !== undefined) assert.equal(f.severity, expected.severity, shown);
      });
    });
  });
}

async function run(rule: Rule, c: ValidCase): Promise<AnalysisResult> {
  const result = await analyzeSources([{ file: 'case.c', text: c.code }], {
    cwd: REPO_ROOT, pythonVersion: c.pythonVersion ?? DEFAULT_VERSION, select: [rule.id],
  });
  assert.deepEqual(result.problems.filter((p) => /failed and was skipped/.test(p.message)), [], 'the rule did not crash');
  return result;
}

/** The 1-based line of the first line of `code` containing `marker`: keeps expected lines next to the C. */
export function lineOf(code: string, marker: string): number {
  const i = code.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker ${marker} not in the case`);
  return i + 1;
}
