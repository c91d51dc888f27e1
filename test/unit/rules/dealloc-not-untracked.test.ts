import { deallocNotUntracked } from '../../../src/rules/dealloc-not-untracked.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const withDealloc = (body: string) => `
typedef struct {
    PyObject_HEAD
    PyObject *child;
} NodeObject;

static int node_traverse(NodeObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->child);
    return 0;
}

static int node_clear(NodeObject *self) {
    Py_CLEAR(self->child);
    return 0;
}

static void
node_dealloc(NodeObject *self)  /* dealloc */
{
    PyTypeObject *tp = Py_TYPE(self);
${body}
    Py_DECREF(tp);
}

static PyType_Slot node_slots[] = {
    {Py_tp_traverse, node_traverse},
    {Py_tp_clear, node_clear},
    {Py_tp_dealloc, node_dealloc},
    {0, NULL},
};

static PyType_Spec node_spec = {
    .name = "tree.Node",
    .basicsize = sizeof(NodeObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = node_slots,
};
`;

const late = withDealloc('    node_clear(self);\n    PyObject_GC_UnTrack(self);\n    tp->tp_free((PyObject *)self);');
const never = withDealloc('    Py_CLEAR(self->child);\n    tp->tp_free((PyObject *)self);');

ruleTester(deallocNotUntracked, {
  valid: [{ name: 'untracks first', code: withDealloc('    PyObject_GC_UnTrack(self);\n    node_clear(self);\n    tp->tp_free((PyObject *)self);') }],
  invalid: [
    { name: 'clears before untracking', code: late, errors: [{ messageId: 'untracksLate', line: lineOf(late, '/* dealloc */') }] },
    { name: 'never untracks', code: never, errors: [{ messageId: 'neverUntracks', line: lineOf(never, '/* dealloc */') }] },
  ],
});
