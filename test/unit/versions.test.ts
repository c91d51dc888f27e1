import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText, HEAP_TYPE_RULES } from '../helpers.js';

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
