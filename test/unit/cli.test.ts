import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { ALL_RULES } from '../../src/rules/index.js';

const CLI = join(REPO_ROOT, 'dist', 'capi-gc.mjs');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const NO_GC = `
typedef struct { PyObject_HEAD PyObject *x; } FooObject;
static PyType_Slot foo_slots[] = { {0, NULL} };
static PyType_Spec foo_spec = {
    .name = "m.Foo",
    .basicsize = sizeof(FooObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = foo_slots,
};
`;
const IMMUTABLE_EMPTY = `
typedef struct { PyObject_HEAD } BarObject;
static PyType_Slot bar_slots[] = { {0, NULL} };
static PyType_Spec bar_spec = { "m.Bar", sizeof(BarObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, bar_slots };
`;

function withDir(files: Record<string, string>, body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-cli-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('text output is GCC-style with a summary line; exit 1 on errors', () => {
  withDir({ 'foo.c': NO_GC }, (dir) => {
    const r = run(['check', '.'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^foo\.c:7:14: error: heap type m\.Foo lacks Py_TPFLAGS_HAVE_GC.* \[gc-flag-missing\]$/m);
    assert.match(r.stderr, /1 file\(s\), 1 type\(s\), 0 module\(s\): 1 error\(s\), 0 warning\(s\), 0 note\(s\)/);
  });
});

test('JSON output keeps the versioned contract', () => {
  withDir({ 'foo.c': NO_GC, 'bar.c': IMMUTABLE_EMPTY }, (dir) => {
    const r = run(['check', '.', '--format', 'json'], dir);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.version, 1);
    assert.equal(doc.tool.name, 'capi-gc');
    assert.match(doc.tool.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(Object.keys(doc.summary).sort(), ['files', 'findings', 'modules', 'seconds', 'types', 'unparsed']);
    assert.equal(doc.summary.files, 2);
    assert.equal(doc.summary.types, 2);
    assert.equal(doc.summary.findings, 2);
    const keys = ['rule', 'severity', 'message', 'file', 'line', 'column', 'type', 'typeKind', 'spec', 'function', 'member', 'module'];
    for (const f of doc.findings) assert.deepEqual(Object.keys(f), keys);
    const foo = doc.findings.find((f: { type: string }) => f.type === 'm.Foo');
    assert.deepEqual(
      { rule: foo.rule, severity: foo.severity, file: foo.file, line: foo.line, column: foo.column, typeKind: foo.typeKind, spec: foo.spec, module: foo.module },
      { rule: 'gc-flag-missing', severity: 'error', file: 'foo.c', line: 7, column: 14, typeKind: 'heap', spec: 'foo_spec', module: 'm' },
    );
    const bar = doc.findings.find((f: { type: string }) => f.type === 'm.Bar');
    assert.equal(bar.severity, 'note');
  });
});

test('notes alone exit 0; --fail-on note makes them fail', () => {
  withDir({ 'bar.c': IMMUTABLE_EMPTY }, (dir) => {
    assert.equal(run(['check', '.'], dir).code, 0);
    assert.equal(run(['check', '.', '--fail-on', 'note'], dir).code, 1);
    assert.equal(run(['check', '.', '--fail-on', 'warning'], dir).code, 0);
  });
});

test('usage errors and missing paths exit 2, other paths are still analysed', () => {
  withDir({ 'foo.c': NO_GC }, (dir) => {
    assert.equal(run(['check', '--format', 'xml'], dir).code, 2);
    assert.equal(run(['check', '--python-version', 'three'], dir).code, 2);
    assert.equal(run(['check', '--select', 'no-such-rule'], dir).code, 2);
    assert.equal(run(['frobnicate'], dir).code, 2);
    const r = run(['check', 'missing.c', 'foo.c'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.c: no such file or directory/);
    assert.match(r.stdout, /foo\.c:7:14: error/);
  });
});

test('configuration comes from pyproject.toml; a broken one is a clear error', () => {
  withDir({ 'foo.c': NO_GC, 'pyproject.toml': '[project]\nrequires-python = ">=3.10"\n[tool.capi-gc]\nignore = ["gc-flag-missing"]\n' }, (dir) => {
    assert.equal(run(['check', '.'], dir).code, 0);
  });
  withDir({ 'foo.c': NO_GC, 'pyproject.toml': '[tool.capi-gc]\nignore = "gc-flag-missing"\n' }, (dir) => {
    const r = run(['check', '.'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ignore must be a list of strings/);
  });
  withDir({ 'foo.c': NO_GC, 'pyproject.toml': '[tool.capi-gc\n' }, (dir) => {
    const r = run(['check', '.'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read configuration/);
  });
});

test('rules lists every rule and prints its page', () => {
  const list = run(['rules'], REPO_ROOT);
  assert.equal(list.code, 0);
  assert.equal(ALL_RULES.length, 15);
  for (const id of ALL_RULES.map((r) => r.id)) {
    assert.match(list.stdout, new RegExp(`^${id} `, 'm'));
    const page = run(['rules', id], REPO_ROOT);
    assert.equal(page.code, 0);
    assert.match(page.stdout, new RegExp(`^# ${id}`, 'm'));
    assert.match(page.stdout, /## Example/);
    assert.match(page.stdout, /## Use instead/);
    assert.match(page.stdout, /## How to suppress/);
  }
});

test('the bundled example reports its four intended defects', () => {
  const r = run(['check', 'examples/', '--format', 'json'], REPO_ROOT);
  const doc = JSON.parse(r.stdout);
  const got = doc.findings.map((f: { rule: string; type: string }) => `${f.type} ${f.rule}`).sort();
  assert.deepEqual(got, [
    'leaky.Event instances-not-tracked',
    'leaky.Node traverse-type-not-visited',
    'leaky.Record gc-alloc-mismatch',
    'leaky.View gc-flag-missing',
  ]);
});

test('verify --run: usage errors exit 2 before anything runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-run-'));
  try {
    const marker = join(dir, 'ran');
    const cmd = `touch ${marker}`;
    for (const [args, words] of [
      [['verify', '--run', cmd], /--run needs --python/],
      [['verify', 'mod', '--python', 'python3', '--run', cmd], /takes no module name/],
      [['verify', '--python', 'python3', '--run', '  '], /--run needs a command/],
      [['verify', '--python', 'python3', '--run', cmd, '--format', 'xml'], /--format must be text, json, sarif or github/],
      [['verify', '--python', join(dir, 'no-such-python'), '--run', cmd], /cannot run/],
      [['check', '.', '--run', cmd], /--run needs --python/],
    ] as const) {
      const r = run([...args], dir);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, words);
      assert.equal(r.stdout, '');
    }
    assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'the command never ran');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bin is one bundled module when esbuild is installed (Node loads one file instead of eighty)', () => {
  let esbuildPresent = true;
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch {
    esbuildPresent = false;
  }
  const bin = readFileSync(CLI, 'utf8');
  assert.ok(bin.startsWith('#!/usr/bin/env node\n'), 'the bin starts with its interpreter line');
  if (!esbuildPresent) return;
  assert.doesNotMatch(bin, /from ["']\.\/src\//, 'the bundle does not import the compiled modules');
  assert.match(bin, /function linkModel\(/, 'the model code is inside the bundle');
});

test('capi-gc finds its own files from the package root, whichever entry point runs', async () => {
  const { PACKAGE_ROOT, fromPackage, COMPILED_SOURCES } = await import('../../src/paths.js');
  assert.equal(PACKAGE_ROOT, REPO_ROOT);
  assert.ok(readFileSync(fromPackage('src', 'runtime', 'probe.py'), 'utf8').length > 0);
  assert.ok(readFileSync(join(COMPILED_SOURCES, 'pool', 'extract-worker.js'), 'utf8').length > 0);
  // The bundle, one folder higher, finds the same files: its rule pages and version come from the package.
  const r = run(['rules', 'gc-flag-missing'], tmpdir());
  assert.match(r.stdout, /^# gc-flag-missing/);
});
