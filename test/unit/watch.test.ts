// The watch records of `verify --run` as findings, and their merge with static findings (`check --run`), from
// records written the way src/runtime/bootstrap/sitecustomize.py writes them (one per process).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../src/rules/rule.js';
import { mergeWatch, watchFindings, type WatchRecord, type WatchRun, type WatchedType } from '../../src/runtime/watch.js';

function type(name: string, over: Partial<WatchedType> = {}): WatchedType {
  return {
    module: 'm', name, heap: true, gc: true, immutable: false, instances: 10, untracked: 0, type_not_visited: 0,
    members: [], alive_at_exit: 0, leaked: 0, leak_chain: null, ...over,
  };
}

function record(types: WatchedType[], pid = 1): WatchRecord {
  return { pid, python: '3.12.1', argv: ['t.py'], collect_rounds: [3, 0], modules: [{ name: 'm', file: '/work/x/m.so' }], types, errors: [] };
}

const run = (records: WatchRecord[]): WatchRun => ({ exitCode: 0, signal: null, records, unreadable: [] });

test('each defect counted in the records is one finding with its rule id, located at the module file', () => {
  const findings = watchFindings(run([record([
    type('m.Good', { members: [{ attribute: 'x', checked: 5, not_visited: 0 }], refs_unaccounted: 1 }),
    type('m.Leaky', { refs_unaccounted: 49 }),
    type('m.Unmeasured', { refs_unaccounted: null }),
    type('m.NoGc', { gc: false }),
    type('m.Frozen', { gc: false, immutable: true }),
    type('m.Untracked', { untracked: 4 }),
    type('m.NoType', { type_not_visited: 10 }),
    type('m.Hidden', { members: [{ attribute: 'x', checked: 5, not_visited: 5 }], leaked: 2, leak_chain: ['list'] }),
    type('m.Static', { heap: false, gc: false }),
  ])]), '/work/x', 'python t.py');
  const got = findings.map((f) => `${f.rule} ${f.type}${f.member ? '.' + f.member : ''} ${f.severity}`).sort();
  assert.deepEqual(got, [
    'dealloc-type-not-decrefed m.Leaky error',
    'gc-flag-missing m.Frozen note',
    'gc-flag-missing m.NoGc error',
    'instances-not-tracked m.Untracked error',
    'runtime-leak m.Hidden error',
    'traverse-member-not-visited m.Hidden.x error',
    'traverse-type-not-visited m.NoType error',
  ]);
  for (const f of findings) {
    assert.equal(f.file, 'm.so');
    assert.match(f.message, /seen while running `python t\.py` on Python 3\.12\.1, 1 process\)$/);
  }
  const leak = findings.find((f) => f.rule === 'runtime-leak')!;
  assert.match(leak.message, /2 instance\(s\) of m\.Hidden .*\(2 round\(s\)\).*held by: list/);
});

test('counts from several processes add up; a defect seen in one process is reported once', () => {
  const findings = watchFindings(run([record([type('m.U', { untracked: 2 })], 1), record([type('m.U', { untracked: 3 })], 2), record([type('m.U')], 3)]), '/', 'cmd');
  assert.equal(findings.length, 1);
  assert.match(findings[0]!.message, /^5 of the instances .* 3 processes\)$/);
});

test('check --run: confirmed by the test suite, not exercised (with what was seen), found at run time only', () => {
  const base: Omit<Finding, 'rule' | 'type'> = { severity: 'error', message: 'static', file: 'm.c', line: 3, column: 1, typeKind: 'heap', spec: null, function: null, member: null, module: 'm' };
  const statics: Finding[] = [
    { ...base, rule: 'instances-not-tracked', type: 'Untracked' },
    { ...base, rule: 'clear-missing', type: 'Untracked' },
    { ...base, rule: 'gc-flag-missing', type: 'Never' },
    { ...base, rule: 'gc-flag-missing', type: 'NoInstances' },
  ];
  const r = run([record([type('m.Untracked', { untracked: 1, leaked: 1 }), type('m.NoInstances', { instances: 0, gc: true })])]);
  const merged = mergeWatch(statics, r, watchFindings(r, '/', 'cmd'));
  const verdicts = merged.map((f) => `${f.rule} ${f.type}: ${f.runtime?.verdict}`);
  assert.deepEqual(verdicts, [
    'instances-not-tracked Untracked: confirmed by the test suite',
    'clear-missing Untracked: not exercised',
    'gc-flag-missing Never: not exercised',
    'gc-flag-missing NoInstances: not exercised',
    'runtime-leak m.Untracked: found at run time only',
  ]);
  assert.match(merged[0]!.message, /^static \[confirmed by the test suite: 1 of the instances/);
  assert.match(merged[1]!.message, /10 instance\(s\) of m\.Untracked were seen; none showed it/);
  assert.match(merged[2]!.message, /never imported a module with type Never/);
  assert.match(merged[3]!.message, /no instance of m\.NoInstances was seen/);
});
