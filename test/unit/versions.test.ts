import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText, HEAP_TYPE_RULES } from '../helpers.js';
import { analyzeSources } from '../../src/analyze.js';

const MODULE = (guard: string) => `
typedef struct { PyObject_HEAD PyObject *x; } FooObject;
static int foo_traverse(FooObject *self, visitproc visit, void *arg) {
#if ${guard}
    Py_VISIT(Py_TYPE(self));
#endif
    Py_VISIT(self->x);
    return 0;
}
static PyType_Slot foo_slots[] = { {Py_tp_traverse, foo_traverse}, {0, NULL} };
static PyType_Spec foo_spec = { "m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, foo_slots };
`;

const rulesOf = async (text: string, minor: number) =>
  (await analyzeText(text, 'm.c', { major: 3, minor }, HEAP_TYPE_RULES)).findings.map((f) => f.rule);

test('a visit guarded for 3.9+ satisfies every supported version, including 3.8 support', async () => {
  const src = MODULE('PY_VERSION_HEX >= 0x03090000');
  assert.deepEqual(await rulesOf(src, 8), []);
  assert.deepEqual(await rulesOf(src, 9), []);
  assert.deepEqual(await rulesOf(src, 13), []);
});

test('a visit guarded for 3.12+ is missing on 3.9-3.11', async () => {
  const src = MODULE('PY_VERSION_HEX >= 0x030C0000');
  assert.deepEqual(await rulesOf(src, 9), ['traverse-type-not-visited']);
  assert.deepEqual(await rulesOf(src, 11), ['traverse-type-not-visited']);
  assert.deepEqual(await rulesOf(src, 12), []);
});

test('suppression comments silence one rule on the reported line or the line above', async () => {
  const src = `
typedef struct { PyObject_HEAD } FooObject;
static PyType_Slot foo_slots[] = { {0, NULL} };
static PyType_Spec foo_spec = {
    .name = "m.Foo",
    // capi-gc: ignore[gc-flag-missing]
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = foo_slots,
};
static PyType_Spec bar_spec = {
    .name = "m.Bar",
    .flags = Py_TPFLAGS_DEFAULT, /* capi-gc: ignore[traverse-missing] */
    .slots = foo_slots,
};`;
  const r = await analyzeText(src, 'snippet.c', { major: 3, minor: 9 }, HEAP_TYPE_RULES);
  assert.deepEqual(r.findings.map((f) => `${f.type} ${f.rule}`), ['m.Bar gc-flag-missing']);
});

test('supporting 3.8, an unguarded visit of the type is reported; a guarded one is not', async () => {
  const unguarded = MODULE('1');
  const r = await analyzeText(unguarded, 'm.c', { major: 3, minor: 8 }, HEAP_TYPE_RULES);
  assert.deepEqual(r.findings.map((f) => f.rule), ['traverse-type-not-visited']);
  assert.match(r.findings[0].message, /on Python 3\.8 too .*#if PY_VERSION_HEX >= 0x03090000/);
  assert.deepEqual(await rulesOf(unguarded, 9), []);
  assert.deepEqual(await rulesOf(MODULE('PY_VERSION_HEX >= 0x03090000'), 8), []);
});

test('no model of 3.12 is built for managed-dict-not-visited where no text names Py_TPFLAGS_MANAGED_DICT; where one does, it reports', async () => {
  // A file whose text differs for 3.12 (the guard), and a managed-dict type whose traverse misses the dict.
  const versioned = MODULE('PY_VERSION_HEX >= 0x030C0000');
  const managed = `
typedef struct { PyObject_HEAD } BarObject;
static int bar_traverse(BarObject *self, visitproc visit, void *arg) { Py_VISIT(Py_TYPE(self)); return 0; }
static PyType_Slot bar_slots[] = { {Py_tp_traverse, bar_traverse}, {0, NULL} };
static PyType_Spec bar_spec = { "m.Bar", sizeof(BarObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_MANAGED_DICT, bar_slots };
`;
  const versionsPrepared = async (sources: { file: string; text: string }[]) => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'capi-gc-versions-'));
    try {
      const r = await analyzeSources(sources, { cwd: cacheDir, pythonVersion: { major: 3, minor: 9 }, jobs: 0, cacheDir });
      const entries = readdirSync(cacheDir).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(join(cacheDir, n), 'utf8')));
      return { rules: r.findings.map((f) => f.rule).sort(), versions: entries.map((e) => e.prepared.versions.length), rulesRun: r.rulesRun };
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  };
  const without = await versionsPrepared([{ file: 'm.c', text: versioned }]);
  assert.deepEqual(without.versions, [1], 'only the 3.9 preparation');
  assert.deepEqual(without.rules, ['traverse-type-not-visited']);
  assert.ok(without.rulesRun?.includes('managed-dict-not-visited'), 'the rule still counts as run: its answer is known');
  const withManaged = await versionsPrepared([{ file: 'm.c', text: versioned }, { file: 'bar.c', text: managed }]);
  assert.deepEqual(withManaged.versions, [2, 2], 'both files prepared for 3.9 and 3.12');
  assert.deepEqual(withManaged.rules, ['managed-dict-not-visited', 'traverse-type-not-visited']);
});

test('a flag name pasted together by a project macro (Py_TPFLAGS_##F) still gets its 3.12 model and its finding', async () => {
  const pasted = `
#define DEFINE_TYPE(N, F) \\
  static PyType_Slot N##_slots[] = { {Py_tp_traverse, N##_traverse}, {0, NULL} }; \\
  static PyType_Spec N##_spec = { "m." #N, sizeof(N##Object), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_##F, N##_slots };
typedef struct { PyObject_HEAD } BarObject;
static int Bar_traverse(BarObject *self, visitproc visit, void *arg) { Py_VISIT(Py_TYPE(self)); return 0; }
DEFINE_TYPE(Bar, MANAGED_DICT)
`;
  const r = await analyzeSources([{ file: 'bar.c', text: pasted }], { cwd: tmpdir(), pythonVersion: { major: 3, minor: 9 }, jobs: 0 });
  assert.deepEqual(r.findings.map((f) => f.rule), ['managed-dict-not-visited']);
});
