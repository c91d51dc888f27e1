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

const earlyBeforeVisit = withTraverse(`    if (self->label == NULL)
        return 0;  /* early */
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->label);`);
const earlyAfterVisit = withTraverse(`    Py_VISIT(Py_TYPE(self));
    if (self->label == NULL)
        return 0;
    Py_VISIT(self->label);`);
const errorReturnBeforeVisit = withTraverse(`    if (self->label) {
        int err = visit(self->label, arg);
        if (err)
            return err;
    }
    Py_VISIT(Py_TYPE(self));`);

/** A heap base with the given traverse body and a subtype spec that inherits it (sets no GC slot or flag). */
const baseAndSubtype = (body: string) => `${withTraverse(body)}
static PyType_Slot sub_slots[] = {
    {0, NULL},
};

static PyType_Spec sub_spec = {  /* subtype */
    .name = "labels.SubTag",
    .basicsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = sub_slots,
};

static int
labels_exec(PyObject *m)
{
    PyObject *base = PyType_FromModuleAndSpec(m, &tag_spec, NULL);
    if (base == NULL)
        return -1;
    PyObject *sub = PyType_FromModuleAndSpec(m, &sub_spec, base);
    if (sub == NULL)
        return -1;
    return 0;
}
`;
const subtypeOfNonVisiting = baseAndSubtype('    Py_VISIT(self->label);');
const subtypeOfEarlyReturn = baseAndSubtype('    if (!self->label)\n        return 0;  /* early */\n    Py_VISIT(Py_TYPE(self));');
const subtypeOfVisiting = baseAndSubtype('    Py_VISIT(Py_TYPE(self));\n    Py_VISIT(self->label);');

ruleTester(traverseTypeNotVisited, {
  valid: [
    { name: 'an early return after the type visit', code: earlyAfterVisit },
    { name: 'a nonzero visit result returned before the type visit', code: errorReturnBeforeVisit },
    { name: 'a subtype inheriting a traverse that visits the type', code: subtypeOfVisiting },
    { name: 'visits Py_TYPE(self)', code: unguarded },
    { name: 'visit guarded for 3.9+, 3.8 supported', code: guarded, pythonVersion: { major: 3, minor: 8 } },
  ],
  invalid: [
    { name: 'return 0 before the type visit', code: earlyBeforeVisit, errors: [{ messageId: 'returnsBeforeVisit', line: lineOf(earlyBeforeVisit, '/* early */') }] },
    {
      name: 'a subtype inheriting a traverse that never visits the type', code: subtypeOfNonVisiting,
      errors: [
        { messageId: 'notVisited', line: lineOf(subtypeOfNonVisiting, '/* traverse */') },
        { messageId: 'inheritedFunctionNotVisiting', line: lineOf(subtypeOfNonVisiting, '/* subtype */') },
      ],
    },
    {
      name: 'a subtype inheriting a traverse that returns early', code: subtypeOfEarlyReturn,
      errors: [
        { messageId: 'returnsBeforeVisit', line: lineOf(subtypeOfEarlyReturn, '/* early */') },
        { messageId: 'inheritedFunctionReturnsEarly', line: lineOf(subtypeOfEarlyReturn, '/* subtype */') },
      ],
    },
    { name: 'never visits the type', code: forgets, errors: [{ messageId: 'notVisited', line: lineOf(forgets, '/* traverse */') }] },
    {
      name: 'unguarded visit while 3.8 is supported', code: unguarded, pythonVersion: { major: 3, minor: 8 },
      errors: [{ messageId: 'visitedOn38', line: lineOf(unguarded, '/* traverse */') }],
    },
  ],
});
