import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbeCommand } from '../../src/runtime/driver.js';
import { runtimeFindings, verdictFor } from '../../src/runtime/findings.js';
import type { RuntimeReport, RuntimeType } from '../../src/runtime/verify.js';
import type { Finding } from '../../src/rules/rule.js';

/** A stand-in interpreter: prints protocol lines, then does what the test asks (crash, hang, exit). */
function fakePython(dir: string, body: string): string {
  const path = join(dir, 'fake-python');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('a probe killed by a signal is a crash in the step that was running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-rt-'));
  try {
    const python = fakePython(dir, [
      `echo '{"event":"step","step":"instance","status":"start"}'`,
      `echo '{"event":"step","step":"instance","status":"done"}'`,
      `echo '{"event":"step","step":"drop","status":"start"}'`,
      'kill -SEGV $$',
    ].join('\n'));
    const run = await runProbeCommand(['type', 'm', 'T'], { python, paths: [], timeoutMs: 10_000, cwd: dir });
    assert.equal(run.crashedAt, 'drop');
    assert.equal(run.signal, 'SIGSEGV');
    assert.equal(run.lines.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a probe that hangs is stopped at the timeout and reported, never blocking capi-gc', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-rt-'));
  try {
    const python = fakePython(dir, `echo '{"event":"step","step":"collect_with_instance","status":"start"}'\nexec sleep 30`);
    const started = Date.now();
    const run = await runProbeCommand(['type', 'm', 'T'], { python, paths: [], timeoutMs: 500, cwd: dir });
    assert.ok(Date.now() - started < 10_000);
    assert.equal(run.timedOut, true);
    assert.equal(run.crashedAt, 'collect_with_instance');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing interpreter is a problem, not an exception', async () => {
  const run = await runProbeCommand(['list', 'm'], { python: '/nonexistent/python3', paths: [], timeoutMs: 2_000, cwd: tmpdir() });
  assert.equal(run.lines.length, 0);
  assert.match(run.stderr, /cannot run \/nonexistent\/python3/);
});

function rtType(over: Partial<RuntimeType>): RuntimeType {
  return {
    name: 'm.Thing', qualname: 'Thing', heap: true, gc: true, immutable: false, managedDict: false,
    instance: { ok: true, via: 'call', error: null }, tracked: true, typeInReferents: true,
    refcountDelta: { value: 0, n: 100 }, selfCycleCollected: { value: true, via: 'payload' }, collectInDealloc: true, crash: null,
    memberVisits: [], factoryError: null, lazy: false, ...over,
  };
}

function report(types: RuntimeType[], over: Partial<RuntimeReport> = {}): RuntimeReport {
  return {
    python: '3.12.1', module: 'm', file: '/tmp/m.so', multiPhase: true, importError: null, types,
    fresh: [{ variant: 'plain', supported: true, moduleCollected: true, typesLeft: [] }], freshCrash: null, problem: null,
    interpreterProblem: null, unknownFactories: [], factoryErrors: [], ...over,
  };
}

function staticFinding(rule: string, type = 'm.Thing'): Finding {
  return { rule, severity: 'error', message: 'x', file: 'm.c', line: 1, column: 1, type, typeKind: 'heap', spec: 's', function: null, member: null, module: 'm' };
}

test('run-time facts become findings; a correct module yields none', () => {
  assert.deepEqual(runtimeFindings(report([rtType({})]), 'm.so'), []);
  const bad = report([
    rtType({ name: 'm.A', gc: false, tracked: false, typeInReferents: null }),
    rtType({ name: 'm.B', typeInReferents: false }),
    rtType({ name: 'm.C', tracked: false, instance: { ok: true, via: 'factory', error: null } }),
    rtType({ name: 'm.D', refcountDelta: { value: 100, n: 100 } }),
    rtType({ name: 'm.E', crash: { step: 'drop', signal: 'SIGSEGV', timedOut: false } }),
  ], { fresh: [{ variant: 'plain', supported: true, moduleCollected: false, typesLeft: [] }] });
  const got = runtimeFindings(bad, 'm.so').map((f) => `${f.type} ${f.rule}`);
  assert.deepEqual(got, [
    'm.A gc-flag-missing', 'm.B traverse-type-not-visited', 'm.C instances-not-tracked',
    'm.D dealloc-type-not-decrefed', 'm.E runtime-crash', 'null runtime-leak',
  ]);
  const imp = runtimeFindings(report([], { importError: 'SystemError: type m.T has the Py_TPFLAGS_HAVE_GC flag but has no traverse function' }), 'm.so');
  assert.deepEqual(imp.map((f) => f.rule), ['traverse-missing']);
});

test('each static finding gets a verdict with its evidence', () => {
  const r = report([rtType({ typeInReferents: false, refcountDelta: { value: 3, n: 100 } })]);
  assert.equal(verdictFor(staticFinding('traverse-type-not-visited'), r).verdict, 'confirmed at run time');
  assert.equal(verdictFor(staticFinding('dealloc-type-not-decrefed'), r).verdict, 'not observed');
  assert.equal(verdictFor(staticFinding('gc-flag-missing', 'm.Other'), r).verdict, 'not testable');
  assert.match(verdictFor(staticFinding('gc-flag-missing'), r).evidence, /has Py_TPFLAGS_HAVE_GC on Python 3\.12\.1/);
  const leaking = report([rtType({})], { fresh: [{ variant: 'with_instance', supported: true, moduleCollected: false, typesLeft: [], type: 'Thing' }] });
  assert.equal(verdictFor(staticFinding('module-state-not-traversed'), leaking).verdict, 'confirmed at run time');
});
