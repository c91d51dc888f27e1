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

const withBase = (baseFlags: string, passBase: string, leafSlot = '') => `
typedef struct {
    PyObject_HEAD
    long id;
} NodeObject;

static int node_traverse(NodeObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static PyType_Slot node_slots[] = {
    {Py_tp_traverse, node_traverse},
    {0, NULL},
};

static PyType_Spec node_spec = {
    .name = "graph.Node",
    .basicsize = sizeof(NodeObject),
    .flags = ${baseFlags},  /* base */
    .slots = node_slots,
};

typedef struct {
    NodeObject base;
    PyObject *label;
} LeafObject;

static PyType_Slot leaf_slots[] = {
${leafSlot}    {0, NULL},
};

static PyType_Spec leaf_spec = {
    .name = "graph.Leaf",
    .basicsize = sizeof(LeafObject),
    .flags = Py_TPFLAGS_DEFAULT,  /* leaf */
    .slots = leaf_slots,
};

static PyObject *new_node_type(PyObject *m) {
    return PyType_FromModuleAndSpec(m, &node_spec, NULL);
}

static int graph_exec(PyObject *m) {
    PyObject *node = new_node_type(m);
    if (node == NULL) {
        return -1;
    }
${passBase}
    return leaf == NULL ? -1 : 0;
}
`;
const byLocal = '    PyObject *leaf = PyType_FromModuleAndSpec(m, &leaf_spec, node);';
const byPatchedSlot = '    leaf_slots[0].pfunc = node;\n    PyObject *leaf = PyType_FromModuleAndSpec(m, &leaf_spec, NULL);';
const nonGcBaseLocal = withBase('Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE', byLocal);
const tpBaseSlot = '    {Py_tp_base, NULL},\n';
const nonGcBaseSlot = withBase('Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE', byPatchedSlot, tpBaseSlot);
const gcBase = 'Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC';

ruleTester(gcFlagMissing, {
  valid: [
    { name: 'HAVE_GC in the flags', code: spec('Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC') },
    { name: 'HAVE_GC through a macro', code: '#define BOX_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC)\n' + spec('BOX_FLAGS') },
    { name: 'GC inherited from a base the module created, returned by a helper, passed in a local', code: withBase(gcBase, byLocal) },
    { name: 'GC inherited from a base the module created, in a Py_tp_base slot filled at run time', code: withBase(gcBase, byPatchedSlot, tpBaseSlot) },
  ],
  invalid: [
    { name: 'plain flags', code: plain, errors: [{ messageId: 'missing', line: lineOf(plain, '/* here */'), severity: 'error' }] },
    {
      name: 'a non-GC base the module created, passed in a local, gives no GC',
      code: nonGcBaseLocal,
      errors: [{ messageId: 'missing', line: lineOf(nonGcBaseLocal, '/* base */') }, { messageId: 'missing', line: lineOf(nonGcBaseLocal, '/* leaf */') }],
    },
    {
      name: 'a non-GC base the module created, in a Py_tp_base slot filled at run time, gives no GC',
      code: nonGcBaseSlot,
      errors: [{ messageId: 'missing', line: lineOf(nonGcBaseSlot, '/* base */') }, { messageId: 'missing', line: lineOf(nonGcBaseSlot, '/* leaf */') }],
    },
    { name: 'immutable without object members is a note', code: immutableEmpty, errors: [{ messageId: 'acceptedImmutable', line: lineOf(immutableEmpty, '/* here */'), severity: 'note' }] },
  ],
});
