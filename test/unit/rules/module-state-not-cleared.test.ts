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

ruleTester(moduleStateNotCleared, {
  valid: [{ name: 'm_clear clears every field', code: complete }],
  invalid: [
    { name: 'neither m_clear nor m_free', code: nothing, errors: [{ messageId: 'noClearNorFree', line: lineOf(nothing, '/* def */') }] },
    { name: 'm_clear forgets a field', code: partial, errors: [{ messageId: 'fieldNotReleased', line: lineOf(partial, '/* registry */') }] },
    { name: 'm_clear and m_free both forget it', code: both, errors: [{ messageId: 'fieldNotReleasedByEither', line: lineOf(both, '/* registry */') }] },
  ],
});
