import { deallocTypeNotDecrefed } from '../../../src/rules/dealloc-type-not-decrefed.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const module = (dealloc: string, base = 'NULL', subtype = '') => `
typedef struct {
    PyObject_HEAD
    PyObject *tag;
} TagObject;

static int tag_traverse(TagObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->tag);
    return 0;
}

static int tag_clear(TagObject *self) {
    Py_CLEAR(self->tag);
    return 0;
}

static void
tag_dealloc(TagObject *self)  /* dealloc */
{
    PyObject_GC_UnTrack(self);
    (void)tag_clear(self);
${dealloc}
}

static PyType_Slot tag_slots[] = {
    {Py_tp_traverse, tag_traverse}, {Py_tp_clear, tag_clear}, {Py_tp_dealloc, tag_dealloc}, {0, NULL},
};
static PyType_Slot sub_slots[] = {{0, NULL}};

static PyType_Spec tag_spec = {"tags.Tag", sizeof(TagObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, tag_slots};
static PyType_Spec sub_spec = {"tags.Sub", 0, 0, Py_TPFLAGS_DEFAULT, sub_slots};  /* sub spec */

static int
tags_exec(PyObject *m)
{
    PyObject *tag = PyType_FromModuleAndSpec(m, &tag_spec, ${base});
    if (tag == NULL || PyModule_AddType(m, (PyTypeObject *)tag) < 0) {
        return -1;
    }
${subtype}
    return 0;
}
`;

const sub = '    PyObject *sub = PyType_FromModuleAndSpec(m, &sub_spec, tag);\n    if (sub == NULL || PyModule_AddType(m, (PyTypeObject *)sub) < 0) {\n        return -1;\n    }';
const objectHandoff = module('    PyBaseObject_Type.tp_dealloc((PyObject *)self);');
const exceptionHandoff = module('    ((PyTypeObject *)PyExc_Exception)->tp_dealloc((PyObject *)self);', 'PyExc_Exception');
const baseSlotHandoff = module('    destructor dealloc = Py_TYPE(self)->tp_base->tp_dealloc;\n    dealloc((PyObject *)self);', 'PyExc_Exception');
const shadowedFree = module('    freefunc free = (freefunc)PyType_GetSlot(Py_TYPE(self), Py_tp_free);\n    free(self);');
const inherited = module('    Py_TYPE(self)->tp_free((PyObject *)self);', 'NULL', sub);

ruleTester(deallocTypeNotDecrefed, {
  valid: [
    { name: 'releases the type after a static base dealloc', code: module('    PyTypeObject *tp = Py_TYPE(self);\n    PyBaseObject_Type.tp_dealloc((PyObject *)self);\n    Py_DECREF(tp);') },
    { name: 'a local free read from the type, then the decref', code: module('    PyTypeObject *tp = Py_TYPE(self);\n    freefunc free = tp->tp_free;\n    free(self);\n    Py_DECREF(tp);') },
    { name: 'a subtype inheriting a correct dealloc', code: module('    PyTypeObject *tp = Py_TYPE(self);\n    tp->tp_free((PyObject *)self);\n    Py_DECREF(tp);', 'NULL', sub) },
  ],
  invalid: [
    { name: 'ends in PyBaseObject_Type.tp_dealloc', code: objectHandoff, errors: [{ messageId: 'handsOffNotDecrefed', line: lineOf(objectHandoff, '/* dealloc */') }] },
    { name: 'ends in an exception type dealloc', code: exceptionHandoff, errors: [{ messageId: 'handsOffNotDecrefed', line: lineOf(exceptionHandoff, '/* dealloc */') }] },
    { name: 'ends in the tp_base dealloc, a static exception', code: baseSlotHandoff, errors: [{ messageId: 'handsOffNotDecrefed', line: lineOf(baseSlotHandoff, '/* dealloc */') }] },
    { name: 'frees through a local named free', code: shadowedFree, errors: [{ messageId: 'notDecrefed', line: lineOf(shadowedFree, '/* dealloc */') }] },
    {
      name: 'a subtype inherits the defective dealloc',
      code: inherited,
      errors: [
        { messageId: 'notDecrefed', line: lineOf(inherited, '/* dealloc */') },
        { messageId: 'inheritsNotDecrefed', line: lineOf(inherited, '/* sub spec */') },
      ],
    },
  ],
});
