import { gcAllocMismatch } from '../../../src/rules/gc-alloc-mismatch.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const staticType = (flags: string, free: string, dealloc: string) => `
typedef struct {
    PyObject_HEAD
    PyObject *item;
} CellObject;

static int cell_traverse(CellObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->item);
    return 0;
}

static void
cell_dealloc(CellObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->item);
${dealloc}
}

static PyTypeObject Cell_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cells.Cell",
    .tp_basicsize = sizeof(CellObject),
    .tp_dealloc = (destructor)cell_dealloc,
    .tp_flags = ${flags},
    .tp_traverse = (traverseproc)cell_traverse,
    .tp_free = ${free},  /* free slot */
};
`;

const gc = 'Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC';
const plain = 'Py_TPFLAGS_DEFAULT';
const wrongSlot = staticType(gc, 'PyObject_Del', '    Py_TYPE(self)->tp_free((PyObject *)self);');
const wrongSlotPlain = staticType(plain, 'PyObject_GC_Del', '    Py_TYPE(self)->tp_free((PyObject *)self);');
const wrongCall = staticType(gc, 'PyObject_GC_Del', '    PyObject_Del(self);  /* free call */');

ruleTester(gcAllocMismatch, {
  valid: [{ name: 'GC type freed with PyObject_GC_Del', code: staticType(gc, 'PyObject_GC_Del', '    Py_TYPE(self)->tp_free((PyObject *)self);') }],
  invalid: [
    { name: 'GC type with PyObject_Del in tp_free', code: wrongSlot, errors: [{ messageId: 'gcTpFree', line: lineOf(wrongSlot, '/* free slot */') }] },
    { name: 'non-GC type with PyObject_GC_Del in tp_free', code: wrongSlotPlain, errors: [{ messageId: 'nonGcTpFree', line: lineOf(wrongSlotPlain, '/* free slot */') }] },
    { name: 'GC type freed with PyObject_Del in tp_dealloc', code: wrongCall, errors: [{ messageId: 'gcFreedWithoutHeader', line: lineOf(wrongCall, '/* free call */') }] },
  ],
});

const subclassable = (flags: string, dealloc: string, extra = '    .tp_new = PyType_GenericNew,') => `
typedef struct {
    PyObject_HEAD
    double x;
} PointObject;

static void
point_dealloc(PointObject *self)
{
${dealloc}
}

static PyTypeObject Point_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shapes.Point",
    .tp_basicsize = sizeof(PointObject),
    .tp_dealloc = (destructor)point_dealloc,
    .tp_flags = ${flags},
${extra}
};
`;

const base = 'Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE';
const fixedDel = subclassable(base, '    PyObject_Del(self);  /* free call */');
const fixedFree = subclassable(base, '    PyObject_Free((PyObject *)self);  /* free call */');

ruleTester(gcAllocMismatch, {
  valid: [
    { name: 'subclassable type freed through tp_free', code: subclassable(base, '    Py_TYPE(self)->tp_free((PyObject *)self);') },
    { name: 'PyObject_Del in a type that is not subclassable', code: subclassable(plain, '    PyObject_Del(self);') },
    { name: 'subclassable type without tp_new: no instance of a subclass can exist', code: subclassable(base, '    PyObject_Del(self);', '') },
    { name: 'a buffer the object owns freed with PyObject_Free', code: subclassable(base, '    PyObject_Free(self->buffer);\n    Py_TYPE(self)->tp_free((PyObject *)self);').replace('double x;', 'double x;\n    char *buffer;') },
  ],
  invalid: [
    { name: 'subclassable type freed with PyObject_Del', code: fixedDel, errors: [{ messageId: 'subclassFreedWithFixedFree', line: lineOf(fixedDel, '/* free call */') }] },
    { name: 'subclassable type freed with PyObject_Free', code: fixedFree, errors: [{ messageId: 'subclassFreedWithFixedFree', line: lineOf(fixedFree, '/* free call */') }] },
  ],
});
