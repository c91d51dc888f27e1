// The watch records of `verify --run` as findings, and their merge with static findings (`check --run`), from
// records written the way src/runtime/bootstrap/sitecustomize.py writes them (one per process).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../src/rules/rule.js';
import {
  mergeWatch, parseFaultDump, subinterpreterGrowth, SUBINTERPRETER_GROWTH_BLOCKS, watchFindings,
  type WatchedProcess, type WatchRecord, type WatchRun, type WatchedType,
} from '../../src/runtime/watch.js';

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

const emptyWitnesses = (): WatchedProcess['witnesses'] => ({ freed: new Set(), cleared: new Set() });

function proc(token: string, over: Partial<WatchedProcess> = {}): WatchedProcess {
  return { token, record: null, argv: ['t.py'], fault: '', phase: null, witnesses: emptyWitnesses(), ...over };
}

test('a faulthandler dump: the signal and the crashing thread\'s frames, most recent first', () => {
  const dump = parseFaultDump([
    'Fatal Python error: Segmentation fault', '',
    'Thread 0x00007f0000000001 (most recent call first):', '  File "/x/other.py", line 3 in spin', '',
    'Current thread 0x00007f0000000002 (most recent call first):',
    '  File "/x/m.py", line 12 in crash', '  File "/x/t.py", line 40 in <module>', '',
    'Extension modules: m (total: 1)',
  ].join('\n'));
  assert.deepEqual(dump, { signal: 'SIGSEGV (Segmentation fault)', frames: [
    { file: '/x/m.py', line: 12, func: 'crash' }, { file: '/x/t.py', line: 40, func: '<module>' },
  ] });
  assert.equal(parseFaultDump('Fatal Python error: Aborted\n')!.signal, 'SIGABRT (Aborted)');
  assert.equal(parseFaultDump(''), null);
});

test('a crash: from the dump, with the phase and the types being made; without a dump only from a fatal exit status', () => {
  const crashed = proc('1-a', {
    fault: 'Fatal Python error: Aborted\n\nCurrent thread 0x1 (most recent call first):\n  File "/nonexistent/t.py", line 7 in <module>\n',
    phase: { phase: 'check', detail: 'm.Bad', young: ['m.Good', 'm.Bad'] },
  });
  const f = watchFindings({ exitCode: 134, signal: null, records: [], processes: [crashed], unreadable: [] }, '/', 'python t.py');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.rule, 'runtime-crash');
  assert.equal(f[0]!.type, 'm.Bad');
  assert.equal(f[0]!.line, 7);
  assert.match(f[0]!.message, /crashed with SIGABRT \(Aborted\) while capi-gc checked an instance of m\.Bad .*being made\): m\.Good, m\.Bad; Python stack \(most recent call first\): nonexistent\/t\.py:7 in <module>/);
  // No dump: a crash only when the command died from a fatal signal and one process wrote no record.
  const quiet = proc('2-b', { phase: { phase: 'run', detail: '', young: [] } });
  assert.equal(watchFindings({ exitCode: 139, signal: null, records: [], processes: [quiet], unreadable: [] }, '/', 'c').length, 1);
  assert.equal(watchFindings({ exitCode: 0, signal: null, records: [], processes: [quiet], unreadable: [] }, '/', 'c').length, 0);
  assert.equal(watchFindings({ exitCode: 139, signal: null, records: [], processes: [quiet, proc('3-c')], unreadable: [] }, '/', 'c').length, 0,
    'two processes without a record: which one crashed is not known');
});

test('the Py_Finalize witness: a leak only for a multi-phase module cleared alive and never freed, on a calibrated version', () => {
  const modules = [
    { name: 'leaky', file: '/p/leaky.so', witness: 'k:1', multi_phase: true },
    { name: 'late', file: '/p/late.so', witness: 'k:2', multi_phase: true }, // cleared, then freed by the last collection
    { name: 'single', file: '/p/single.so', witness: 'k:3', multi_phase: false },
    { name: 'unknown', file: '/p/unknown.so', witness: 'k:4', multi_phase: true }, // never finalized: no evidence
  ];
  const witnesses = { freed: new Set(['k:2']), cleared: new Set(['k:1', 'k:2', 'k:3']) };
  const findingsOn = (python: string, fault = ''): string[] => {
    const r: WatchRecord = { ...record([]), python, token: 'k', modules };
    return watchFindings({ exitCode: 0, signal: null, records: [r], processes: [proc('k', { record: r, witnesses, fault })], unreadable: [] }, '/p', 'c')
      .map((f) => `${f.rule} ${f.module}`);
  };
  assert.deepEqual(findingsOn('3.12.1'), ['runtime-leak leaky']);
  assert.deepEqual(findingsOn('3.14.0'), [], 'not calibrated there');
  assert.deepEqual(findingsOn('3.12.1', 'Fatal Python error: Segmentation fault\n'), ['runtime-crash null'], 'a crash in Py_Finalize proves nothing of the witness');
});

test('subinterpreter rounds: steady growth past the threshold against the control, median', () => {
  assert.equal(subinterpreterGrowth({ rounds: 3, blocks: [2183, 2183, 2190], control_blocks: [1842, 1842, 1842], refs: [], control_refs: [] }), 341);
  assert.equal(subinterpreterGrowth({ rounds: 3, blocks: [1844, 1846, 1844], control_blocks: [1842, 1842, 1842], refs: [], control_refs: [] }), null);
  assert.equal(subinterpreterGrowth({ rounds: 3, blocks: [3000, 1844, 3000], control_blocks: [1842, 1842, 1842], refs: [], control_refs: [] }), null, 'not steady');
  assert.ok(SUBINTERPRETER_GROWTH_BLOCKS >= 50);
});
