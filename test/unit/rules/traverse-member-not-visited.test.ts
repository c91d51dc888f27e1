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

ruleTester(traverseMemberNotVisited, {
  valid: [{ name: 'every member visited', code: all }],
  invalid: [
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
