import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSources } from '../../src/analyze.js';
import { analyzeText, HEAP_TYPE_RULES, REPO_ROOT } from '../helpers.js';
import { isGcType, traverseOf, traverseVisitsType } from '../../src/model/gc.js';
import { isStoredIn } from '../../src/model/link.js';

const V39 = { major: 3, minor: 9 };
const heapOnly = (text: string) => analyzeText(text, 'snippet.c', V39, HEAP_TYPE_RULES);

test('positional static type: comments and #ifdef branches do not shift fields', async () => {
  const r = await heapOnly(`
typedef struct { PyObject_HEAD PyObject *a; } CodeObject;
static int code_traverse(CodeObject *self, visitproc visit, void *arg) { Py_VISIT(self->a); return 0; }
PyTypeObject Code_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    "m.code",                           /* tp_name */
    sizeof(CodeObject),                 /* tp_basicsize */
    0,                                  /* tp_itemsize */
    0,                                  /* tp_dealloc */
    0, 0, 0, 0, 0, 0, 0,                /* tp_vectorcall_offset .. tp_as_number */
    0, 0, 0, 0, 0, 0, 0,                /* tp_as_sequence .. tp_as_buffer */
#ifdef Py_GIL_DISABLED
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,  /* tp_flags */
#else
    Py_TPFLAGS_DEFAULT,                 /* tp_flags */
#endif
    0,                                  /* tp_doc */
    (traverseproc)code_traverse,        /* tp_traverse */
};`);
  const t = r.model.types[0];
  assert.equal(t.kind, 'static');
  assert.equal(t.name, 'm.code');
  assert.deepEqual([...t.flags.names], ['Py_TPFLAGS_DEFAULT']);
  assert.equal(t.slots.get('tp_traverse')?.function, 'code_traverse');
  assert.equal(t.struct?.names.includes('CodeObject'), true);
});

test('designated static type after PyVarObject_HEAD_INIT without a comma', async () => {
  const r = await heapOnly(`
static PyTypeObject Foo_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "m.Foo",
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
};`);
  const t = r.model.types[0];
  assert.equal(t.name, 'm.Foo');
  assert.ok(t.flags.names.has('Py_TPFLAGS_HAVE_GC'));
  assert.deepEqual(r.findings.map((f) => f.rule), ['traverse-missing']);
});

test('flags from a macro in another file, names from concatenated macros', async () => {
  const r = await analyzeSources([
    { file: 'flags.h', text: '#define MODNAME "pkg._m"\n#define FOO_FLAGS (Py_TPFLAGS_DEFAULT | \\\n   Py_TPFLAGS_HAVE_GC)\n' },
    { file: 'm.c', text: 'static PyType_Slot s[] = {{0, NULL}};\nstatic PyType_Spec foo_spec = { .name = MODNAME ".Foo", .flags = FOO_FLAGS, .slots = s };\n' },
  ], { cwd: REPO_ROOT, pythonVersion: V39, select: HEAP_TYPE_RULES });
  const t = r.model.types[0];
  assert.equal(t.name, 'pkg._m.Foo');
  assert.equal(t.module, 'pkg._m');
  assert.ok(t.flags.names.has('Py_TPFLAGS_HAVE_GC'));
  assert.deepEqual(r.findings.map((f) => f.rule), ['traverse-missing']);
});

test('an undefined flags macro makes the answer unknown, not an error', async () => {
  const r = await heapOnly('static PyType_Slot s[] = {{0, NULL}};\nstatic PyType_Spec foo_spec = { "m.Foo", 0, 0, PROJECT_FLAGS, s };\n');
  assert.equal(isGcType(r.model, r.model.types[0]).answer, 'unknown');
  assert.deepEqual(r.findings, []);
});

test('types created by a helper function and by a macro are linked with their storage and bases', async () => {
  const r = await heapOnly(`
typedef struct { PyTypeObject *Base; PyTypeObject *Sub; PyTypeObject *Other; } state;
#define CREATE(TP, SPEC, BASE) do { PyObject *t = PyType_FromModuleAndSpec(m, SPEC, (PyObject *)BASE); \\
    if (t == NULL) return -1; TP = (PyTypeObject *)t; } while (0)
static PyTypeObject *add(PyObject *m, PyType_Spec *spec) { return (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL); }
static PyType_Slot base_slots[] = { {0, NULL} };
static PyType_Spec base_spec = { "m.Base", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, base_slots };
static PyType_Spec sub_spec = { "m.Sub", 0, 0, Py_TPFLAGS_DEFAULT, base_slots };
static PyType_Spec other_spec = { "m.Other", 0, 0, Py_TPFLAGS_DEFAULT, base_slots };
static int exec(PyObject *m) {
    state *st = PyModule_GetState(m);
    st->Base = add(m, &base_spec);
    CREATE(st->Sub, &sub_spec, st->Base);
    CREATE(st->Other, &other_spec, &PyExc_Exception);
    return 0;
}`);
  const byName = new Map(r.model.types.map((t) => [t.name, t]));
  assert.ok(isStoredIn(byName.get('m.Base')!, { k: 'field', field: 'Base' }));
  assert.ok(isStoredIn(byName.get('m.Sub')!, { k: 'field', field: 'Sub' }));
  const sub = byName.get('m.Sub')!;
  assert.equal(sub.bases[0].kind, 'model');
  assert.equal(isGcType(r.model, sub).answer, 'yes');
  const other = byName.get('m.Other')!;
  assert.equal(traverseOf(r.model, other).kind, 'inherited-builtin');
  // Base has GC and no traverse; Sub inherits from it (and so has none either); Other inherits Exception's.
  assert.deepEqual(r.findings.map((f) => `${f.type} ${f.rule}`).sort(), [
    'm.Base traverse-missing', 'm.Other traverse-type-not-visited', 'm.Sub traverse-missing',
  ]);
});

test('delegation: to a named base traverse, through PyType_GetSlot, through tp_base', async () => {
  const r = await heapOnly(`
typedef struct { PyObject_HEAD PyObject *a; } BaseObject;
typedef struct { BaseObject base; PyObject *b; } SubObject;
typedef struct { PyTypeObject *Base; PyTypeObject *Sub1; PyTypeObject *Sub2; PyTypeObject *Sub3; } state;
static int base_traverse(BaseObject *self, visitproc visit, void *arg) {
    PyTypeObject *tp = Py_TYPE(self);
    Py_VISIT(tp);
    Py_VISIT(self->a);
    return 0;
}
static int sub1_traverse(SubObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->b);
    return base_traverse((BaseObject *)self, visit, arg);
}
static int sub2_traverse(SubObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->b);
    traverseproc base = (traverseproc)PyType_GetSlot(((state *)PyType_GetModuleState(Py_TYPE(self)))->Base, Py_tp_traverse);
    return base((PyObject *)self, visit, arg);
}
static int sub3_traverse(SubObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->b);
    return Py_TYPE(self)->tp_base->tp_traverse((PyObject *)self, visit, arg);
}
static PyType_Slot base_slots[] = { {Py_tp_traverse, base_traverse}, {0, NULL} };
static PyType_Slot sub1_slots[] = { {Py_tp_traverse, sub1_traverse}, {0, NULL} };
static PyType_Slot sub2_slots[] = { {Py_tp_traverse, sub2_traverse}, {0, NULL} };
static PyType_Slot sub3_slots[] = { {Py_tp_traverse, sub3_traverse}, {0, NULL} };
#define F (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE)
static PyType_Spec base_spec = { "m.Base", sizeof(BaseObject), 0, F, base_slots };
static PyType_Spec sub1_spec = { "m.Sub1", sizeof(SubObject), 0, F, sub1_slots };
static PyType_Spec sub2_spec = { "m.Sub2", sizeof(SubObject), 0, F, sub2_slots };
static PyType_Spec sub3_spec = { "m.Sub3", sizeof(SubObject), 0, F, sub3_slots };
static int exec(PyObject *m) {
    state *st = PyModule_GetState(m);
    st->Base = (PyTypeObject *)PyType_FromModuleAndSpec(m, &base_spec, NULL);
    st->Sub1 = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sub1_spec, (PyObject *)st->Base);
    st->Sub2 = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sub2_spec, (PyObject *)st->Base);
    st->Sub3 = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sub3_spec, (PyObject *)st->Base);
    return 0;
}`);
  for (const t of r.model.types) {
    const tr = traverseOf(r.model, t);
    assert.equal(tr.kind, 'own');
    if (tr.kind === 'own' && tr.fn) assert.equal(traverseVisitsType(r.model, tr.fn, t).answer, 'yes', t.name ?? '');
  }
  assert.deepEqual(r.findings, []);
});

test('a traverse calling a function the analysis cannot see is undecided, not an error', async () => {
  const r = await heapOnly(`
typedef struct { PyObject_HEAD PyObject *a; } FooObject;
extern int shared_traverse(PyObject *self, visitproc visit, void *arg);
static int foo_traverse(FooObject *self, visitproc visit, void *arg) { return shared_traverse((PyObject *)self, visit, arg); }
static PyType_Slot s[] = { {Py_tp_traverse, foo_traverse}, {0, NULL} };
static PyType_Spec foo_spec = { "m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, s };`);
  assert.deepEqual(r.findings, []);
  const tr = traverseOf(r.model, r.model.types[0]);
  assert.ok(tr.kind === 'own' && tr.fn);
  if (tr.kind === 'own' && tr.fn) assert.equal(traverseVisitsType(r.model, tr.fn, r.model.types[0]).answer, 'unknown');
});

test('allocations map to their type through module state, clinic state, tp_new parameters and the struct', async () => {
  const r = await heapOnly(`
typedef struct { PyObject_HEAD PyObject *a; } FooObject;
typedef struct { PyTypeObject *FooType; } state;
static int foo_traverse(FooObject *self, visitproc visit, void *arg) { Py_VISIT(Py_TYPE(self)); Py_VISIT(self->a); return 0; }
static PyObject *foo_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    FooObject *self = PyObject_GC_New(FooObject, type);     /* tracked below */
    if (self == NULL) return NULL;
    self->a = NULL;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}
static FooObject *make_one(state *st) {
    return PyObject_GC_New(FooObject, st->FooType);
}
static PyObject *factory(PyObject *module, PyObject *unused) {
    FooObject *f = make_one(PyModule_GetState(module));
    if (f) PyObject_GC_Track((PyObject *)f);
    return (PyObject *)f;
}
static PyObject *broken(PyObject *module, PyObject *unused) {
    return (PyObject *)PyObject_New(FooObject, clinic_state()->FooType);
}
static PyMethodDef methods[] = { {"factory", factory, METH_NOARGS}, {"broken", broken, METH_NOARGS}, {NULL} };
static PyType_Slot s[] = { {Py_tp_traverse, foo_traverse}, {Py_tp_new, foo_new}, {0, NULL} };
static PyType_Spec foo_spec = { "m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, s };
static int exec(PyObject *m) {
    state *st = PyModule_GetState(m);
    st->FooType = (PyTypeObject *)PyType_FromModuleAndSpec(m, &foo_spec, NULL);
    return 0;
}`);
  const sites = r.model.allocations.map((a) => `${a.function.name} ${a.allocator} ${a.type.name}`).sort();
  assert.deepEqual(sites, ['broken new m.Foo', 'foo_new gc-new m.Foo', 'make_one gc-new m.Foo']);
  assert.deepEqual(r.findings.map((f) => `${f.function} ${f.rule}`), ['broken gc-alloc-mismatch']);
});

test('object members inside anonymous unions and nested struct values count', async () => {
  const r = await heapOnly(`
typedef struct {
    PyObject_HEAD
    int kind;
    union {
        struct { PyObject *result; } read_from;
        PyObject *allocated_buffer;
    };
} OvObject;
static PyType_Slot s[] = { {0, NULL} };
static PyType_Spec ov_spec = { "m.Ov", sizeof(OvObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, s };`);
  const names = r.model.types[0].struct!.members.map((m) => m.name);
  assert.deepEqual(names, ['ob', 'kind', 'read_from.result', 'allocated_buffer']);
  // Immutable but holding objects: an error, not the accepted-exemption note.
  assert.deepEqual(r.findings.map((f) => `${f.severity} ${f.rule}`), ['error gc-flag-missing']);
});

test('bases from a slot patched at run time and from a local holding a created type', async () => {
  const r = await heapOnly(`
static PyType_Slot str_slots[] = { {Py_tp_base, NULL}, {0, NULL} };
static PyType_Spec str_spec = { "m.Str", 0, 0, Py_TPFLAGS_DEFAULT, str_slots };
static PyType_Slot plain_slots[] = { {0, NULL} };
static PyType_Spec base_spec = { "m.Base", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, plain_slots };
static PyType_Spec sub_spec = { "m.Sub", 0, 0, Py_TPFLAGS_DEFAULT, plain_slots };
static int exec(PyObject *m) {
    str_slots[0].pfunc = &PyUnicode_Type;
    PyObject *str = PyType_FromModuleAndSpec(m, &str_spec, NULL);
    PyObject *base = PyType_FromSpec(&base_spec);
    PyObject *bases = PyTuple_Pack(1, base);
    PyObject *sub = PyType_FromSpecWithBases(&sub_spec, bases);
    return 0;
}`);
  const byName = new Map(r.model.types.map((t) => [t.name, t]));
  assert.equal(byName.get('m.Str')!.bases[0].kind, 'builtin');
  const subBase = byName.get('m.Sub')!.bases[0];
  assert.equal(subBase.kind === 'model' ? subBase.type.name : subBase.kind, 'm.Base');
  assert.deepEqual(r.findings.map((f) => f.type).sort(), ['m.Base', 'm.Str', 'm.Sub']);
});

test('a module clear that writes through a pointer parameter does not break the rule', async () => {
  const r = await analyzeSources([{ file: 'm.c', text: `
typedef struct { PyObject *error; } state;
static int get_value(PyObject *m, PyObject **value_addr) { *value_addr = PyObject_GetAttrString(m, "x"); log_value(0); return 0; }
static int m_clear(PyObject *m) {
    PyObject *v;
    state *st = PyModule_GetState(m);
    get_value(m, &v);
    Py_CLEAR(st->error);
    return 0;
}
static int m_traverse(PyObject *m, visitproc visit, void *arg) { Py_VISIT(((state *)PyModule_GetState(m))->error); return 0; }
static struct PyModuleDef def = { PyModuleDef_HEAD_INIT, .m_name = "m", .m_size = sizeof(state), .m_traverse = m_traverse, .m_clear = m_clear };
` }], { cwd: REPO_ROOT, pythonVersion: V39 });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.findings, []);
});

test('code the analysis cannot see is undecided: no finding, and one "not understood" line for each', async () => {
  const r = await analyzeSources([{ file: 'opaque.c', text: `
typedef struct { PyObject_HEAD PyObject *x; PyObject *y; } FooObject;
static int Foo_traverse(PyObject *op, visitproc visit, void *arg) {
    FooObject *self = (FooObject *)op;
    Py_VISIT(Py_TYPE(op));
    PROJECT_VISIT_MEMBERS(self);        /* a macro from a header not given */
    return 0;
}
static int Foo_clear(PyObject *op) { FooObject *self = (FooObject *)op; Py_CLEAR(self->x); Py_CLEAR(self->y); return 0; }
static void Foo_dealloc(PyObject *op) {
    FooObject *self = (FooObject *)op;
    PyObject_GC_UnTrack(op);
    Py_CLEAR(self->x);
    Py_CLEAR(self->y);
    PyTypeObject *tp = Py_TYPE(op);
    tp->tp_free(op);
    project_release_type(tp);           /* defined in another library */
}
static PyObject *make(PyObject *module, PyObject *unused) {
    FooObject *p = PyObject_GC_New(FooObject, Foo_Type);
    project_track(p);                   /* defined in another library */
    return (PyObject *)p;
}
static PyTypeObject *Foo_Type;
static PyMethodDef methods[] = {{"make", make, METH_NOARGS, NULL}, {NULL}};
static PyType_Slot Foo_slots[] = {{Py_tp_traverse, Foo_traverse}, {Py_tp_clear, Foo_clear}, {Py_tp_dealloc, Foo_dealloc}, {0, 0}};
static PyType_Spec Foo_spec = {"m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, Foo_slots};
static int exec(PyObject *m) { Foo_Type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Foo_spec, NULL); return 0; }
` }], { cwd: REPO_ROOT, pythonVersion: V39 });
  assert.deepEqual(r.findings, []);
  const said = r.uncertainties.map((u) => u.message).join('\n');
  assert.match(said, /which members Foo_traverse\(\) visits: it calls PROJECT_VISIT_MEMBERS\(\)/);
  assert.match(said, /whether Foo_dealloc\(\) releases the type of m\.Foo: it calls project_release_type\(\)/);
  assert.match(said, /whether m\.Foo allocated in make\(\) is tracked: make\(\) hands it to project_track\(\)/);
});

test('types created in a loop over a file-level table of specs', async () => {
  const r = await heapOnly(`
static PyType_Slot s[] = { {0, NULL} };
static PyType_Spec a_spec = { "m.A", 0, 0, Py_TPFLAGS_DEFAULT, s };
static PyType_Spec b_spec = { "m.B", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, s };
static PyType_Spec *specs[] = { &a_spec, &b_spec };
static int exec(PyObject *m) {
    for (size_t i = 0; i < 2; i++) {
        PyObject *t = PyType_FromModuleAndSpec(m, specs[i], NULL);
        if (t == NULL) return -1;
    }
    return 0;
}`);
  assert.deepEqual(r.model.types.map((t) => `${t.name} ${t.creations.length}`), ['m.A 1', 'm.B 1']);
  assert.deepEqual(r.findings.map((f) => `${f.type} ${f.rule}`).sort(), ['m.A gc-flag-missing', 'm.B traverse-missing']);
  assert.deepEqual(r.uncertainties, []);
});

test('PyGetSetDef tables: positional and designated entries, casts dropped, the sentinel skipped', async () => {
  const r = await analyzeText(`
static PyGetSetDef a_getset[] = {
    {"x", (getter)a_get_x, (setter)a_set_x, "doc", NULL},
    {"y", a_get_y, NULL},
    {.name = "z", .set = a_set_z},
    {NULL},
};`);
  const tables = r.model.files.flatMap((f) => f.getsetTables);
  assert.deepEqual(tables.map((t) => t.name), ['a_getset']);
  assert.deepEqual(tables[0].entries, [
    { name: 'x', getter: 'a_get_x', setter: 'a_set_x' },
    { name: 'y', getter: 'a_get_y', setter: null },
    { name: 'z', getter: null, setter: 'a_set_z' },
  ]);
});

test('PyMemberDef entries keep the attribute name (the __dictoffset__ entry names the dict member)', async () => {
  const r = await analyzeText(`
typedef struct { PyObject_HEAD PyObject *dict; } FooObject;
static PyMemberDef foo_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(FooObject, dict), READONLY},
    {NULL},
};`);
  const entries = r.model.files.flatMap((f) => f.memberTables).flatMap((t) => t.entries);
  assert.deepEqual(entries, [{ name: '__dictoffset__', field: 'dict', writable: false, objectType: false }]);
});
