import { traverseMemberNotVisited } from '../../../src/rules/traverse-member-not-visited.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const pair = (traverseBody: string) => `
typedef struct {
    PyObject_HEAD
    PyObject *left;  /* left */
    PyObject *right;  /* right */
    PyUnicodeObject *name;  /* name */
} PairObject;

static int
pair_traverse(PairObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
${traverseBody}
    return 0;
}

static int pair_clear(PairObject *self) {
    Py_CLEAR(self->left);
    Py_CLEAR(self->right);
    Py_CLEAR(self->name);
    return 0;
}

static PyType_Slot pair_slots[] = {
    {Py_tp_traverse, pair_traverse},
    {Py_tp_clear, pair_clear},
    {0, NULL},
};

static PyType_Spec pair_spec = {
    .name = "twins.Pair",
    .basicsize = sizeof(PairObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = pair_slots,
};
`;

const all = pair('    Py_VISIT(self->left);\n    Py_VISIT(self->right);\n    Py_VISIT(self->name);');
const forgetsRight = pair('    Py_VISIT(self->left);\n    Py_VISIT(self->name);');
const forgetsName = pair('    Py_VISIT(self->left);\n    Py_VISIT(self->right);');
const earlyReturn = pair(`    if (self->left == NULL) {
        return 0;
    }
    Py_VISIT(self->left);
    Py_VISIT(self->right);
    Py_VISIT(self->name);`);

/** `pair` with a tp_new that stores `store` (C using `self` and the parameter `arg`) into `right`. */
const storing = (store: string) => `${forgetsRight}
static PyObject *
pair_new(PyTypeObject *type, PyObject *arg, PyObject *kwds)
{
    PairObject *self = (PairObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    ${store}
    return (PyObject *)self;
}
`;
const storesInt = storing('self->right = PyLong_FromLong(7);');
const storesNone = storing('self->right = Py_NewRef(Py_None);');
const storesLocalString = storing('PyObject *s = PyUnicode_FromString("x");\n    if (s == NULL)\n        return NULL;\n    self->right = s;');
const storesParameter = storing('Py_INCREF(arg);\n    self->right = arg;');
const storesCallResult = storing('self->right = PyObject_GetAttrString(arg, "x");');
const storesThroughAddress = storing('if (!PyArg_ParseTuple(arg, "O", &self->right))\n        return NULL;');

ruleTester(traverseMemberNotVisited, {
  valid: [{ name: 'every member visited', code: all }],
  invalid: [
    ...[['a new int', storesInt], ['Py_NewRef(Py_None)', storesNone], ['a local holding a new str', storesLocalString]].map(([name, code]) => ({
      name: `a member only ever holding ${name} is a warning`, code,
      errors: [{ messageId: 'atomicNotVisited' as const, line: lineOf(code, '/* right */'), severity: 'warning' as const }],
    })),
    ...[['a parameter', storesParameter], ['an arbitrary call', storesCallResult], ['a call given its address', storesThroughAddress]].map(([name, code]) => ({
      name: `a member assigned from ${name} stays an error`, code,
      errors: [{ messageId: 'notVisited' as const, line: lineOf(code, '/* right */'), severity: 'error' as const }],
    })),
    { name: 'an object member never visited', code: forgetsRight, errors: [{ messageId: 'notVisited', line: lineOf(forgetsRight, '/* right */'), severity: 'error' }] },
    { name: 'a string member never visited is a warning', code: forgetsName, errors: [{ messageId: 'leafNotVisited', line: lineOf(forgetsName, '/* name */'), severity: 'warning' }] },
    {
      name: 'visits skipped by an early return', code: earlyReturn,
      errors: [
        { messageId: 'skippedByEarlyReturn', line: lineOf(earlyReturn, '/* right */'), severity: 'error' },
        { messageId: 'skippedByEarlyReturn', line: lineOf(earlyReturn, '/* name */'), severity: 'warning' },
      ],
    },
  ],
});
