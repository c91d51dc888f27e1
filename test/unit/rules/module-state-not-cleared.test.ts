import { moduleStateNotCleared } from '../../../src/rules/module-state-not-cleared.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const moduleWith = (functions: string, slots: string) => `
typedef struct {
    PyObject *ErrorType;  /* error */
    PyObject *registry;  /* registry */
} hub_state;

static int hub_traverse(PyObject *module, visitproc visit, void *arg) {
    hub_state *st = PyModule_GetState(module);
    Py_VISIT(st->ErrorType);
    Py_VISIT(st->registry);
    return 0;
}
${functions}
static struct PyModuleDef hub_module = {  /* def */
    PyModuleDef_HEAD_INIT,
    .m_name = "hub",
    .m_size = sizeof(hub_state),
    .m_traverse = hub_traverse,
${slots}
};
`;

const clearOne = `
static int hub_clear(PyObject *module) {
    hub_state *st = PyModule_GetState(module);
    Py_CLEAR(st->ErrorType);
    return 0;
}
`;
const freeOne = `
static void hub_free(void *module) {
    hub_state *st = PyModule_GetState((PyObject *)module);
    Py_CLEAR(st->ErrorType);
}
`;

const nothing = moduleWith('', '');
const partial = moduleWith(clearOne, '    .m_clear = hub_clear,');
const both = moduleWith(clearOne + freeOne, '    .m_clear = hub_clear,\n    .m_free = hub_free,');
const complete = moduleWith(`
static int hub_clear(PyObject *module) {
    hub_state *st = PyModule_GetState(module);
    Py_CLEAR(st->ErrorType);
    Py_CLEAR(st->registry);
    return 0;
}
`, '    .m_clear = hub_clear,');

const freeOnly = (creation: string) => `
typedef struct {
    PyObject *callback;
} tree_state;

static PyObject *tree_visit(PyObject *module, PyObject *node) {
    Py_RETURN_NONE;
}

static PyMethodDef visit_def = {"visit", tree_visit, METH_O, NULL};

static int tree_exec(PyObject *module) {
    tree_state *st = PyModule_GetState(module);
    st->callback = ${creation};
    return st->callback == NULL ? -1 : 0;
}

static void tree_free(void *module) {
    tree_state *st = PyModule_GetState((PyObject *)module);
    Py_CLEAR(st->callback);
}

static struct PyModuleDef tree_module = {  /* def */
    PyModuleDef_HEAD_INIT,
    .m_name = "tree",
    .m_size = sizeof(tree_state),
    .m_slots = tree_slots,
    .m_free = tree_free,
};
`;
const freeOnlyBoundFunction = freeOnly('PyCFunction_NewEx(&visit_def, module, NULL)');
const freeOnlyMethod = freeOnly('PyCMethod_New(&visit_def, module, NULL, NULL)');

ruleTester(moduleStateNotCleared, {
  valid: [
    { name: 'm_clear clears every field', code: complete },
    { name: 'm_free alone, a function bound to nothing', code: freeOnly('PyCFunction_NewEx(&visit_def, NULL, NULL)') },
    { name: 'm_free alone, a type created with the module (type_clear breaks that cycle)', code: freeOnly('PyType_FromModuleAndSpec(module, &node_spec, NULL)') },
    { name: 'm_free alone, a list (list_clear breaks that cycle)', code: freeOnly('PyList_New(0)') },
  ],
  invalid: [
    { name: 'neither m_clear nor m_free', code: nothing, errors: [{ messageId: 'noClearNorFree', line: lineOf(nothing, '/* def */') }] },
    { name: 'm_clear forgets a field', code: partial, errors: [{ messageId: 'fieldNotReleased', line: lineOf(partial, '/* registry */') }] },
    {
      name: 'm_free alone, a function bound to the module in the state',
      code: freeOnlyBoundFunction,
      errors: [{ messageId: 'freeWithoutClear', line: lineOf(freeOnlyBoundFunction, '/* def */'), severity: 'warning' }],
    },
    {
      name: 'm_free alone, a method bound to the module (PyCMethod_New)',
      code: freeOnlyMethod,
      errors: [{ messageId: 'freeWithoutClear', line: lineOf(freeOnlyMethod, '/* def */'), severity: 'warning' }],
    },
    { name: 'm_clear and m_free both forget it', code: both, errors: [{ messageId: 'fieldNotReleasedByEither', line: lineOf(both, '/* registry */') }] },
  ],
});
