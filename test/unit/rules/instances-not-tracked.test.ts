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

ruleTester(instancesNotTracked, {
  valid: [{ name: 'tracked after init', code: factory('    PyObject_GC_Track(self);') }],
  invalid: [{ name: 'returned to Python untracked', code: untracked, errors: [{ messageId: 'notTracked', line: lineOf(untracked, '/* alloc */') }] }],
});
