import { traverseTypeNotVisited } from '../../../src/rules/traverse-type-not-visited.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const withTraverse = (body: string) => `
typedef struct {
    PyObject_HEAD
    PyObject *label;
} TagObject;

static int
tag_traverse(TagObject *self, visitproc visit, void *arg)  /* traverse */
{
${body}
    return 0;
}

static int tag_clear(TagObject *self) {
    Py_CLEAR(self->label);
    return 0;
}

static PyType_Slot tag_slots[] = {
    {Py_tp_traverse, tag_traverse},
    {Py_tp_clear, tag_clear},
    {0, NULL},
};

static PyType_Spec tag_spec = {
    .name = "labels.Tag",
    .basicsize = sizeof(TagObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = tag_slots,
};
`;

const forgets = withTraverse('    Py_VISIT(self->label);');
const guarded = withTraverse(`#if PY_VERSION_HEX >= 0x03090000
    Py_VISIT(Py_TYPE(self));
#endif
    Py_VISIT(self->label);`);
const unguarded = withTraverse('    Py_VISIT(Py_TYPE(self));\n    Py_VISIT(self->label);');

ruleTester(traverseTypeNotVisited, {
  valid: [
    { name: 'visits Py_TYPE(self)', code: unguarded },
    { name: 'visit guarded for 3.9+, 3.8 supported', code: guarded, pythonVersion: { major: 3, minor: 8 } },
  ],
  invalid: [
    { name: 'never visits the type', code: forgets, errors: [{ messageId: 'notVisited', line: lineOf(forgets, '/* traverse */') }] },
    {
      name: 'unguarded visit while 3.8 is supported', code: unguarded, pythonVersion: { major: 3, minor: 8 },
      errors: [{ messageId: 'visitedOn38', line: lineOf(unguarded, '/* traverse */') }],
    },
  ],
});
