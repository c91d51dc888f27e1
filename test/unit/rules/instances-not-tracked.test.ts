import { instancesNotTracked } from '../../../src/rules/instances-not-tracked.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const factory = (afterInit: string) => `
typedef struct {
    PyObject_HEAD
    PyObject *peer;
} LinkObject;

typedef struct {
    PyTypeObject *LinkType;
} link_state;

static int link_traverse(LinkObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->peer);
    return 0;
}

static PyType_Slot link_slots[] = {
    {Py_tp_traverse, link_traverse},
    {0, NULL},
};

static PyType_Spec link_spec = {
    .name = "chain.Link",
    .basicsize = sizeof(LinkObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = link_slots,
};

static PyObject *
make_link(PyObject *module, PyObject *peer)
{
    link_state *st = PyModule_GetState(module);
    LinkObject *self = PyObject_GC_New(LinkObject, st->LinkType);  /* alloc */
    if (self == NULL) {
        return NULL;
    }
    self->peer = Py_NewRef(peer);
${afterInit}
    return (PyObject *)self;
}

static PyMethodDef chain_methods[] = {
    {"make_link", make_link, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static int chain_exec(PyObject *module) {
    link_state *st = PyModule_GetState(module);
    st->LinkType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &link_spec, NULL);
    return st->LinkType == NULL ? -1 : 0;
}
`;

const untracked = factory('');

/** make_link tracks; fresh_link gets a link through `*out` from a helper that allocates with the module's macro. */
const outParam = (callerTracks: string) => factory('    PyObject_GC_Track(self);').replace('/* alloc */', '').replace('static PyMethodDef chain_methods', `
#define NEW_LINK(st) PyObject_GC_New(LinkObject, (st)->LinkType)

static int
new_link(link_state *st, LinkObject **out)
{
    LinkObject *op = NEW_LINK(st);  /* macro alloc */
    if (op == NULL) {
        return -1;
    }
    op->peer = NULL;
    *out = op;
    return 0;
}

static PyObject *
fresh_link(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    LinkObject *link;
    if (new_link(PyModule_GetState(module), &link) < 0) {
        return NULL;
    }
${callerTracks}
    return (PyObject *)link;
}

static PyMethodDef chain_methods`).replace('{"make_link", make_link, METH_O, NULL},', '{"make_link", make_link, METH_O, NULL},\n    {"fresh_link", fresh_link, METH_NOARGS, NULL},');
const outParamUntracked = outParam('');

ruleTester(instancesNotTracked, {
  valid: [
    { name: 'tracked after init', code: factory('    PyObject_GC_Track(self);') },
    { name: 'allocated through the module\'s macro, handed out through *out, tracked by the caller', code: outParam('    PyObject_GC_Track(link);') },
  ],
  invalid: [
    { name: 'returned to Python untracked', code: untracked, errors: [{ messageId: 'notTracked', line: lineOf(untracked, '/* alloc */') }] },
    {
      name: 'allocated through the module\'s macro, handed out through *out, never tracked',
      code: outParamUntracked,
      errors: [{ messageId: 'notTracked', line: lineOf(outParamUntracked, '/* macro alloc */') }],
    },
  ],
});
