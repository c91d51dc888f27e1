import { clearMissing } from '../../../src/rules/clear-missing.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

/** A GC heap type without tp_clear whose method `store` replaces its member `slot` (C using `self` and `arg`). */
const withoutClear = (store: string, extraSlots = '', extra = '') => `
typedef struct {
    PyObject_HEAD
    PyObject *slot;
} BoxObject;
${extra}
static int
box_traverse(BoxObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->slot);
    return 0;
}

static PyObject *
box_store(BoxObject *self, PyObject *arg)
{
    ${store}
    Py_RETURN_NONE;
}

static PyMethodDef box_methods[] = {
    {"store", (PyCFunction)box_store, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot box_slots[] = {
    {Py_tp_traverse, box_traverse},
    {Py_tp_methods, box_methods},${extraSlots}
    {0, NULL},
};

static PyType_Spec box_spec = {  /* spec */
    .name = "boxes.Box",
    .basicsize = sizeof(BoxObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = box_slots,
};
`;

const storesArgument = withoutClear('Py_XSETREF(self->slot, Py_NewRef(arg));');
const storesNewDict = withoutClear('Py_XSETREF(self->slot, PyDict_New());');
const storesNewListThroughLocal = withoutClear('PyObject *l = PyList_New(0);\n    if (l == NULL)\n        return NULL;\n    Py_XSETREF(self->slot, l);');
const storesInt = withoutClear('Py_XSETREF(self->slot, PyLong_FromLong(1));');
const dictOffsetMember = (store: string) => withoutClear(store, '\n    {Py_tp_members, box_members},', `
static PyMemberDef box_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(BoxObject, slot), READONLY},
    {NULL},
};`);
const dictOffsetReplacedByArgument = dictOffsetMember('Py_XSETREF(self->slot, Py_NewRef(arg));');
const writableNewDict = withoutClear('Py_XSETREF(self->slot, PyDict_New());', '\n    {Py_tp_members, box_members},', `
static PyMemberDef box_members[] = {
    {"slot", T_OBJECT, offsetof(BoxObject, slot), 0, NULL},
    {NULL},
};`);

ruleTester(clearMissing, {
  valid: [
    { name: 'a member only ever assigned a new dict', code: storesNewDict },
    { name: 'a member only ever assigned a new list, through a local', code: storesNewListThroughLocal },
    { name: 'a member only ever assigned a new int', code: storesInt },
    { name: 'the __dictoffset__ member, replaced with a new dict', code: dictOffsetMember('Py_XSETREF(self->slot, PyDict_New());') },
  ],
  invalid: [
    { name: 'a member replaced with the argument', code: storesArgument, errors: [{ messageId: 'missing', line: lineOf(storesArgument, '/* spec */') }] },
    {
      name: 'the __dictoffset__ member replaced with the argument', code: dictOffsetReplacedByArgument,
      errors: [{ messageId: 'missing', line: lineOf(dictOffsetReplacedByArgument, '/* spec */') }],
    },
    {
      name: 'a new dict in a writable T_OBJECT member (Python code can store anything)', code: writableNewDict,
      errors: [{ messageId: 'missing', line: lineOf(writableNewDict, '/* spec */') }],
    },
  ],
});
