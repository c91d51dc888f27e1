import { gcFlagMissing } from '../../../src/rules/gc-flag-missing.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const spec = (flags: string, fields = 'PyObject *payload;') => `
typedef struct {
    PyObject_HEAD
    ${fields}
} BoxObject;

static int box_traverse(BoxObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static PyType_Slot box_slots[] = {
    {Py_tp_traverse, box_traverse},
    {0, NULL},
};

static PyType_Spec box_spec = {
    .name = "crate.Box",
    .basicsize = sizeof(BoxObject),
    .flags = ${flags},
    .slots = box_slots,
};
`;

const plain = `
typedef struct {
    PyObject_HEAD
    PyObject *payload;
} BoxObject;

static PyType_Slot box_slots[] = {
    {0, NULL},
};

static PyType_Spec box_spec = {
    .name = "crate.Box",
    .basicsize = sizeof(BoxObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,  /* here */
    .slots = box_slots,
};
`;

const immutableEmpty = `
typedef struct {
    PyObject_HEAD
    long count;
} CounterObject;

static PyType_Slot counter_slots[] = {
    {0, NULL},
};

static PyType_Spec counter_spec = {
    .name = "crate.Counter",
    .basicsize = sizeof(CounterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,  /* here */
    .slots = counter_slots,
};
`;

ruleTester(gcFlagMissing, {
  valid: [
    { name: 'HAVE_GC in the flags', code: spec('Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC') },
    { name: 'HAVE_GC through a macro', code: '#define BOX_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC)\n' + spec('BOX_FLAGS') },
  ],
  invalid: [
    { name: 'plain flags', code: plain, errors: [{ messageId: 'missing', line: lineOf(plain, '/* here */'), severity: 'error' }] },
    { name: 'immutable without object members is a note', code: immutableEmpty, errors: [{ messageId: 'acceptedImmutable', line: lineOf(immutableEmpty, '/* here */'), severity: 'note' }] },
  ],
});
