// What capi-gc knows about CPython's own types when they are used as bases.

export interface BuiltinType {
  gc: boolean;
  /** Its tp_traverse visits Py_TYPE(self) (only subtype_traverse does, for heap subtypes). */
  traverseVisitsType: boolean;
}

const GC_CONTAINERS = [
  'PyType_Type', 'PyDict_Type', 'PyList_Type', 'PyTuple_Type', 'PySet_Type', 'PyFrozenSet_Type', 'PyProperty_Type',
  'PyModule_Type', 'PyFunction_Type', 'PyCFunction_Type', 'PyMethod_Type', 'PyStaticMethod_Type', 'PyClassMethod_Type',
  'PyODict_Type', 'PyDictKeys_Type', 'PyDictItems_Type', 'PyDictValues_Type', 'PyCell_Type', 'PySuper_Type',
];

const NON_GC = [
  'PyBaseObject_Type', 'PyLong_Type', 'PyFloat_Type', 'PyComplex_Type', 'PyUnicode_Type', 'PyBytes_Type',
  'PyBool_Type', 'PyByteArray_Type', 'PyRange_Type', 'PyMemoryView_Type', 'PyCapsule_Type', 'PySlice_Type',
];

export function builtinBase(expression: string): (BuiltinType & { name: string }) | null {
  const name = expression.replace(/^&/, '').replace(/^\(PyObject\*\)|^\(PyTypeObject\*\)/, '');
  if (/^PyExc_\w+$/.test(name)) return { name, gc: true, traverseVisitsType: false };
  if (GC_CONTAINERS.includes(name)) return { name, gc: true, traverseVisitsType: false };
  if (NON_GC.includes(name)) return { name, gc: false, traverseVisitsType: false };
  return null;
}

/** Slot functions from the C API that are fine as a heap type's traverse: they visit the type. */
export const TYPE_VISITING_TRAVERSES = new Set(['_PyObject_VisitType', 'PyObject_VisitType']);

export const TRACKING_CALLS = new Set(['PyObject_GC_Track', '_PyObject_GC_TRACK']);

export const PY_OBJECT_TYPES = new Set([
  'PyObject', 'PyTypeObject', 'PyHeapTypeObject', 'PyVarObject', 'PyListObject', 'PyDictObject', 'PyTupleObject',
  'PySetObject', 'PyLongObject', 'PyFloatObject', 'PyUnicodeObject', 'PyBytesObject', 'PyByteArrayObject',
  'PyFrameObject', 'PyCodeObject', 'PyFunctionObject', 'PyModuleObject', 'PyBaseExceptionObject',
  'PyMemoryViewObject', 'PyCFunctionObject', 'PyMethodObject', 'PyWeakReference', 'PyComplexObject',
  'PySliceObject', 'PyGenObject', 'PyCellObject', 'PyASCIIObject', 'PyCompactUnicodeObject',
]);

/** Object types that cannot reference other objects: a member of such a type never needs a visit to break a cycle. */
export const LEAF_OBJECT_TYPES = new Set([
  'PyLongObject', 'PyFloatObject', 'PyUnicodeObject', 'PyBytesObject', 'PyByteArrayObject', 'PyComplexObject',
  'PyASCIIObject', 'PyCompactUnicodeObject',
]);
