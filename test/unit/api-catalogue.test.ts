// The C-API catalogue decides what CPython's names mean for each target version, whatever the inputs define.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyzePaths } from '../../src/analyze.js';
import { apiHeaderFiles, apiMacroEnvironment, versionHex } from '../../src/model/capi.js';
import { macroEnvironmentFor, preprocess } from '../../src/parse/preprocessor.js';
import { FIXTURES, REPO_ROOT } from '../helpers.js';

const VENDORED = join(FIXTURES, 'api-headers', 'vendored');

function envFor(minor: number) {
  const v = { major: 3, minor };
  return macroEnvironmentFor(v, new Map(), new Set(), apiMacroEnvironment(v));
}

function kept(src: string, minor: number): string[] {
  return preprocess(src, envFor(minor)).text.split('\n').map((l) => l.trim()).filter(Boolean);
}

test('PY_VERSION_HEX of a target X.Y is its final release, so alpha and beta guards hold', () => {
  assert.equal(versionHex({ major: 3, minor: 9 }), 0x030900f0);
  const src = [
    '#if PY_VERSION_HEX >= 0x030900A4', 'ALPHA', '#endif',
    '#if PY_VERSION_HEX >= 0x030900f0', 'FINAL', '#endif',
    '#if PY_VERSION_HEX < 0x030900B1', 'BEFORE_BETA', '#endif',
    '#if PY_VERSION_HEX >= 0x030A0000', 'NEXT', '#endif', '',
  ].join('\n');
  assert.deepEqual(kept(src, 9), ['ALPHA', 'FINAL']);
  assert.deepEqual(kept(src, 10), ['ALPHA', 'FINAL', 'NEXT']);
});

test('compatibility fallbacks of C-API macros are read as they compile for the target', () => {
  const src = [
    '#ifndef Py_TPFLAGS_IMMUTABLETYPE', 'FALLBACK_IMMUTABLE', '#endif',
    '#ifdef Py_TPFLAGS_MANAGED_DICT', 'HAS_MANAGED_DICT', '#endif',
    '#if !defined(Py_NewRef)', 'FALLBACK_NEWREF', '#endif',
    '#ifdef PyType_FromModuleAndSpec', 'A_FUNCTION_IS_NO_MACRO', '#endif', '',
  ].join('\n');
  assert.deepEqual(kept(src, 9), ['FALLBACK_IMMUTABLE', 'FALLBACK_NEWREF']);
  assert.deepEqual(kept(src, 10), []);
  assert.deepEqual(kept(src, 12), ['HAS_MANAGED_DICT']);
  assert.deepEqual(preprocess(src, envFor(12)).unknownConditions, []);
});

test('include guards are not unknown macros; macro chains resolve to any depth; a cycle is unknown', () => {
  const chain = ['#define V0 0x030C0000', ...Array.from({ length: 30 }, (_, i) => `#define V${i + 1} V${i}`)];
  const src = [
    '#ifndef MY_HEADER_H', '/* guard */', '#define MY_HEADER_H', 'GUARDED',
    ...chain, '#if PY_VERSION_HEX >= V30', 'CHAINED', '#endif',
    '#define LOOP_A LOOP_B', '#define LOOP_B LOOP_A', '#if LOOP_A', 'LOOPED', '#endif',
    '#endif', '',
  ].join('\n');
  const r = preprocess(src, envFor(12));
  const lines = r.text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('/*'));
  assert.deepEqual(lines, ['GUARDED', 'CHAINED', 'LOOPED']);
  assert.deepEqual(r.unknownConditions.map((c) => c.line), [41]);
  assert.deepEqual(kept(src.replace('PY_VERSION_HEX >= V30', 'PY_VERSION_HEX >= V30 + 0x00010000'), 12).includes('CHAINED'), false);
});

test('CPython\'s Include/, installed include/python3.X/ and pythoncapi_compat.h are C-API headers; extension headers are not', () => {
  const files = [
    'Include/Python.h', 'Include/object.h', 'Include/patchlevel.h', 'Include/cpython/object.h', 'Include/internal/pycore_gc.h',
    'Modules/_foo.c', 'Modules/foo.h', 'venv/include/python3.12/Python.h', 'vendor/pythoncapi_compat.h',
    'src/include/mylib.h', 'other/Python.h',
  ];
  assert.deepEqual([...apiHeaderFiles(files)].sort(), [
    'Include/Python.h', 'Include/cpython/object.h', 'Include/internal/pycore_gc.h', 'Include/object.h', 'Include/patchlevel.h',
    'vendor/pythoncapi_compat.h', 'venv/include/python3.12/Python.h',
  ]);
});

for (const minor of [9, 10, 11, 12, 13]) {
  test(`a vendored compatibility header changes nothing (Python 3.${minor})`, async () => {
    const cfg = { cwd: REPO_ROOT, pythonVersion: { major: 3, minor } };
    const withHeaders = await analyzePaths([VENDORED], cfg);
    const sourceOnly = await analyzePaths([join(VENDORED, 'src')], cfg);
    const summary = (r: typeof withHeaders) => r.findings.map((f) => `${f.rule} ${f.type}`);
    assert.deepEqual(summary(withHeaders), ['gc-flag-missing shapes.Handle', 'traverse-type-not-visited shapes.Bag']);
    assert.deepEqual(summary(sourceOnly), summary(withHeaders));
    assert.deepEqual(withHeaders.apiHeaders.map((f) => f.replace(/.*\//, '')), ['pythoncapi_compat.h']);
  });
}
