// The C-API catalogue: what CPython's own names mean, per Python version. Everything the model knows about the
// C API comes from here, whatever definitions of these names the analysed files contain: CPython's `Include/`,
// a venv's headers or a vendored compatibility header are the C API, not part of the extension.

import type { Expr } from './facts.js';
import { calleeName, isArrowSlot } from './expr.js';

export type PyVersion = readonly [number, number];

const ALWAYS: PyVersion = [2, 0];

/** Is `version` at least `since`? */
export function atLeast(version: { major: number; minor: number }, since: PyVersion): boolean {
  return version.major * 100 + version.minor >= since[0] * 100 + since[1];
}

// ---------------------------------------------------------------------------------------------------------------
// type flags

export interface FlagInfo {
  bit: number;
  since: PyVersion;
  /** Removed in this version (the macro no longer exists from then on). */
  until?: PyVersion;
}

export const TYPE_FLAGS: Readonly<Record<string, FlagInfo>> = {
  Py_TPFLAGS_MANAGED_WEAKREF: { bit: 3, since: [3, 12] },
  Py_TPFLAGS_MANAGED_DICT: { bit: 4, since: [3, 12] },
  Py_TPFLAGS_SEQUENCE: { bit: 5, since: [3, 10] },
  Py_TPFLAGS_MAPPING: { bit: 6, since: [3, 10] },
  Py_TPFLAGS_DISALLOW_INSTANTIATION: { bit: 7, since: [3, 10] },
  Py_TPFLAGS_IMMUTABLETYPE: { bit: 8, since: [3, 10] },
  Py_TPFLAGS_HEAPTYPE: { bit: 9, since: ALWAYS },
  Py_TPFLAGS_BASETYPE: { bit: 10, since: ALWAYS },
  Py_TPFLAGS_HAVE_VECTORCALL: { bit: 11, since: [3, 12] },
  _Py_TPFLAGS_HAVE_VECTORCALL: { bit: 11, since: [3, 8] },
  Py_TPFLAGS_READY: { bit: 12, since: ALWAYS },
  Py_TPFLAGS_READYING: { bit: 13, since: ALWAYS },
  Py_TPFLAGS_HAVE_GC: { bit: 14, since: ALWAYS },
  Py_TPFLAGS_HAVE_STACKLESS_EXTENSION: { bit: 15, since: ALWAYS },
  Py_TPFLAGS_METHOD_DESCRIPTOR: { bit: 17, since: [3, 8] },
  Py_TPFLAGS_HAVE_VERSION_TAG: { bit: 18, since: ALWAYS },
  Py_TPFLAGS_VALID_VERSION_TAG: { bit: 19, since: ALWAYS },
  Py_TPFLAGS_IS_ABSTRACT: { bit: 20, since: ALWAYS },
  _Py_TPFLAGS_MATCH_SELF: { bit: 22, since: [3, 10] },
  Py_TPFLAGS_ITEMS_AT_END: { bit: 23, since: [3, 12] },
  Py_TPFLAGS_LONG_SUBCLASS: { bit: 24, since: ALWAYS },
  Py_TPFLAGS_LIST_SUBCLASS: { bit: 25, since: ALWAYS },
  Py_TPFLAGS_TUPLE_SUBCLASS: { bit: 26, since: ALWAYS },
  Py_TPFLAGS_BYTES_SUBCLASS: { bit: 27, since: ALWAYS },
  Py_TPFLAGS_UNICODE_SUBCLASS: { bit: 28, since: ALWAYS },
  Py_TPFLAGS_DICT_SUBCLASS: { bit: 29, since: ALWAYS },
  Py_TPFLAGS_BASE_EXC_SUBCLASS: { bit: 30, since: ALWAYS },
  Py_TPFLAGS_TYPE_SUBCLASS: { bit: 31, since: ALWAYS },
  Py_TPFLAGS_HAVE_FINALIZE: { bit: 0, since: [3, 4] },
  Py_TPFLAGS_CHECKTYPES: { bit: 0, since: ALWAYS, until: [3, 0] },
};

/** Flags that are combinations of others. */
export const FLAG_COMBINATIONS: Readonly<Record<string, readonly string[]>> = {
  Py_TPFLAGS_DEFAULT: ['Py_TPFLAGS_HAVE_STACKLESS_EXTENSION', 'Py_TPFLAGS_HAVE_VERSION_TAG'],
  Py_TPFLAGS_BASE_EXC_SUBCLASS_OR_DEFAULT: [],
};

export const HAVE_GC_BIT = TYPE_FLAGS.Py_TPFLAGS_HAVE_GC.bit;

/** The flag names a numeric flags value sets (only bits with an unambiguous meaning). */
export function flagNamesOfValue(value: bigint): string[] {
  const out: string[] = [];
  for (const [name, info] of Object.entries(TYPE_FLAGS)) {
    if (info.bit === 0 || name.startsWith('_')) continue;
    if ((value >> BigInt(info.bit)) & 1n) out.push(name);
  }
  return out;
}

export function isTypeFlagName(name: string): boolean {
  return name in TYPE_FLAGS || name in FLAG_COMBINATIONS;
}

// ---------------------------------------------------------------------------------------------------------------
// names of the C API that appear in preprocessor conditions and that inputs may re-define

/**
 * C-API macros, with the version they appeared in. A `#ifndef NAME` / `defined(NAME)` on one of these is decided by the target version, and a definition of one of these in the inputs never overrides its
 * meaning while the target version has it (a compatibility fallback is only read where the API is missing).
 */
export const API_MACROS: Readonly<Record<string, PyVersion>> = {
  // objects and reference counting
  PyObject_HEAD: ALWAYS, PyObject_VAR_HEAD: ALWAYS, PyObject_HEAD_INIT: ALWAYS, PyVarObject_HEAD_INIT: ALWAYS,
  Py_TYPE: ALWAYS, Py_REFCNT: ALWAYS, Py_SIZE: ALWAYS, Py_SET_TYPE: [3, 9], Py_SET_REFCNT: [3, 9], Py_SET_SIZE: [3, 9],
  Py_IS_TYPE: [3, 9], Py_INCREF: ALWAYS, Py_DECREF: ALWAYS, Py_XINCREF: ALWAYS, Py_XDECREF: ALWAYS, Py_CLEAR: ALWAYS,
  Py_SETREF: [3, 5], Py_XSETREF: [3, 5], Py_NewRef: [3, 10], Py_XNewRef: [3, 10], Py_IsNone: [3, 10], Py_IsTrue: [3, 10],
  Py_IsFalse: [3, 10], Py_Is: [3, 10], Py_RETURN_NONE: ALWAYS, Py_UNUSED: [3, 4], _PyObject_CAST: [3, 8],
  // the collector and allocation
  Py_VISIT: ALWAYS, PyObject_GC_New: ALWAYS, PyObject_GC_NewVar: ALWAYS, PyObject_New: ALWAYS, PyObject_NewVar: ALWAYS,
  PyObject_Del: ALWAYS,
  // slot ids (typeslots.h)
  Py_tp_finalize: [3, 5], Py_am_await: [3, 5], Py_am_aiter: [3, 5], Py_am_anext: [3, 5], Py_nb_matrix_multiply: [3, 5],
  Py_nb_inplace_matrix_multiply: [3, 5], Py_am_send: [3, 10], Py_tp_vectorcall: [3, 14], Py_tp_token: [3, 14],
  Py_bf_getbuffer: [3, 9], Py_bf_releasebuffer: [3, 9],
  // module definition slots
  Py_mod_create: [3, 5], Py_mod_exec: [3, 5], Py_mod_multiple_interpreters: [3, 12], Py_mod_gil: [3, 13],
  Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: [3, 12], Py_MOD_GIL_NOT_USED: [3, 13],
  // members (descrobject.h)
  Py_T_OBJECT_EX: [3, 12], Py_T_OBJECT: [3, 12], Py_READONLY: [3, 12], Py_RELATIVE_OFFSET: [3, 12],
  Py_TRASHCAN_BEGIN: [3, 8], Py_TRASHCAN_END: [3, 8], Py_TRASHCAN_SAFE_BEGIN: ALWAYS, Py_TRASHCAN_SAFE_END: ALWAYS,
  Py_BEGIN_ALLOW_THREADS: ALWAYS, Py_END_ALLOW_THREADS: ALWAYS,
};

/** C-API functions (not macros: `#ifdef` on one is false in every version), with the version they appeared in. */
export const API_FUNCTIONS: Readonly<Record<string, PyVersion>> = {
  PyObject_GC_Track: ALWAYS, PyObject_GC_UnTrack: ALWAYS, PyObject_GC_Del: ALWAYS, PyObject_GC_IsTracked: [3, 9],
  PyObject_GC_IsFinalized: [3, 9], PyObject_VisitManagedDict: [3, 13], PyObject_ClearManagedDict: [3, 13],
  PyUnstable_Object_GC_NewWithExtraData: [3, 12], PyObject_Free: ALWAYS, PyObject_Init: ALWAYS,
  PyObject_CallNoArgs: [3, 9], PyObject_CallOneArg: [3, 9], PyObject_Vectorcall: [3, 9],
  PyType_FromSpec: ALWAYS, PyType_FromSpecWithBases: [3, 3], PyType_FromModuleAndSpec: [3, 9],
  PyType_FromMetaclass: [3, 12], PyType_GetSlot: [3, 4], PyType_GetModule: [3, 9], PyType_GetModuleState: [3, 9],
  PyType_GetModuleByDef: [3, 11], PyType_GetFlags: ALWAYS, PyModule_GetState: ALWAYS,
  PyModule_AddType: [3, 9], PyModule_AddObjectRef: [3, 10], PyModule_Add: [3, 13], PyType_GetName: [3, 11],
  PyType_GetQualName: [3, 11],
};

/**
 * Is `name` part of the C API as compiled for `version`? `true` and `false` are certain; `null` means the
 * catalogue does not know the name (it is then the extension's, or an unknown macro).
 */
export function apiNameExists(name: string, version: { major: number; minor: number }): boolean | null {
  const flag = TYPE_FLAGS[name];
  if (flag) return atLeast(version, flag.since) && !(flag.until && atLeast(version, flag.until));
  if (name in FLAG_COMBINATIONS) return name === 'Py_TPFLAGS_DEFAULT';
  const since = API_MACROS[name] ?? API_FUNCTIONS[name];
  if (since) return atLeast(version, since);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// allocation, tracking, freeing

export type Allocator = 'gc-new' | 'new' | 'tp-alloc' | 'generic-alloc' | 'malloc-init';

export const ALLOCATORS: Readonly<Record<string, { allocator: Allocator; typeArg: number; structArg: number | null }>> = {
  PyObject_GC_New: { allocator: 'gc-new', typeArg: 1, structArg: 0 },
  PyObject_GC_NewVar: { allocator: 'gc-new', typeArg: 1, structArg: 0 },
  _PyObject_GC_New: { allocator: 'gc-new', typeArg: 0, structArg: null },
  _PyObject_GC_NewVar: { allocator: 'gc-new', typeArg: 0, structArg: null },
  PyUnstable_Object_GC_NewWithExtraData: { allocator: 'gc-new', typeArg: 0, structArg: null },
  PyObject_New: { allocator: 'new', typeArg: 1, structArg: 0 },
  PyObject_NewVar: { allocator: 'new', typeArg: 1, structArg: 0 },
  _PyObject_New: { allocator: 'new', typeArg: 0, structArg: null },
  _PyObject_NewVar: { allocator: 'new', typeArg: 0, structArg: null },
  PyType_GenericAlloc: { allocator: 'generic-alloc', typeArg: 0, structArg: null },
  PyType_GenericNew: { allocator: 'generic-alloc', typeArg: 0, structArg: null },
  PyObject_Init: { allocator: 'malloc-init', typeArg: 1, structArg: null },
  PyObject_InitVar: { allocator: 'malloc-init', typeArg: 1, structArg: null },
};

/** Calls that allocate an instance (the pattern a constructor is recognised by). */
export function isAllocatingCall(callee: Expr): boolean {
  const name = calleeName(callee);
  return name !== null && Object.hasOwn(ALLOCATORS, name) && ALLOCATORS[name].allocator !== 'malloc-init' || isArrowSlot(callee, 'tp_alloc');
}

export const MALLOC_CALLS: ReadonlySet<string> = new Set([
  'PyObject_Malloc', 'PyObject_MALLOC', 'PyObject_Calloc', 'PyMem_Malloc', 'PyMem_New', 'PyMem_MALLOC', 'PyMem_NEW',
]);

/**
 * Calls that make an object holding argument `self` (by index) whose type has no tp_clear: a builtin function
 * bound to it. Kept in a module's state with the module as `self`, it closes a cycle the collector cannot break
 * from the function's side (a heap type's cycle through its module is broken by type_clear, which drops ht_module).
 */
export const UNCLEARABLE_HOLDERS: Readonly<Record<string, number>> = {
  PyCFunction_New: 1, PyCFunction_NewEx: 1, PyCMethod_New: 1,
};

/** Calls whose first argument is a module object. */
export const MODULE_OBJECT_CALLS: ReadonlySet<string> = new Set([
  'PyModule_GetState', 'PyModule_AddObject', 'PyModule_AddObjectRef', 'PyModule_Add', 'PyModule_AddType',
  'PyModule_AddIntConstant', 'PyModule_AddStringConstant', 'PyModule_GetDict', 'PyModule_AddFunctions',
]);

export const TRACKING_CALLS: ReadonlySet<string> = new Set(['PyObject_GC_Track', '_PyObject_GC_TRACK']);
export const UNTRACKING_CALLS: ReadonlySet<string> = new Set(['PyObject_GC_UnTrack', '_PyObject_GC_UNTRACK']);

/** Functions that free an instance's memory. */
export const FREE_CALLS: ReadonlySet<string> = new Set([
  'PyObject_GC_Del', 'PyObject_Del', 'PyObject_Free', 'PyObject_FREE', 'PyObject_DEL', 'PyMem_Free',
]);
/** Frees for memory from PyObject_New/Malloc: wrong for a GC object. */
export const NON_GC_FREES: ReadonlySet<string> = new Set(['PyObject_Del', 'PyObject_Free', 'PyObject_FREE', 'PyObject_DEL']);

/** libc's `free`: a free too (of memory from `malloc`), when no local or parameter of that name shadows it. */
export const LIBC_FREES: ReadonlySet<string> = new Set(['free']);

/**
 * Calls that never return: a dealloc that calls one (`none_dealloc` → `_Py_FatalRefcountError("deallocating
 * None")`) frees nothing on purpose.
 */
export const NO_RETURN_CALLS: ReadonlySet<string> = new Set([
  'Py_FatalError', '_Py_FatalErrorFunc', '_Py_FatalErrorFormat', '_Py_FatalRefcountError', 'Py_UNREACHABLE', 'abort',
  'Py_Exit', 'exit', '_exit', '__builtin_unreachable', '__builtin_trap',
]);

/**
 * Calls that keep the object being deallocated alive (immortal singletons re-set their reference count, free lists
 * re-initialise it): a dealloc that makes one does not free the object on purpose.
 */
export const RESURRECTING_CALLS: ReadonlySet<string> = new Set([
  '_Py_SetImmortal', '_Py_SetImmortalUntracked', '_Py_NewReference', '_Py_NewReferenceNoTotal', '_Py_ResurrectReference',
  'Py_INCREF', 'Py_XINCREF', 'Py_NewRef', 'Py_XNewRef', '_Py_IncRef', 'Py_IncRef',
]);

/** C-API calls that may run in a dealloc before PyObject_GC_UnTrack without touching members. */
export const SAFE_BEFORE_UNTRACK: ReadonlySet<string> = new Set([
  'PyObject_CallFinalizerFromDealloc', 'PyObject_ClearWeakRefs', 'Py_TYPE', 'PyType_GetSlot', 'PyObject_GC_IsTracked',
  '_PyObject_GC_IS_TRACKED', 'PyErr_Fetch', 'PyErr_Restore', 'PyErr_GetRaisedException', 'PyErr_SetRaisedException',
  'PyType_HasFeature', 'PyType_GetModuleState', 'PyType_GetModule', 'PyModule_GetState', 'PyType_GetModuleByDef',
  'assert', '_PyObject_ResurrectStart', 'PyObject_CallFinalizer',
]);

// ---------------------------------------------------------------------------------------------------------------
// visiting and clearing

export const VISIT_CALLS: ReadonlySet<string> = new Set(['Py_VISIT']);
/** C-API traverse helpers that visit the type of a heap instance (usable as tp_traverse). */
export const TYPE_VISITING_TRAVERSES: ReadonlySet<string> = new Set(['_PyObject_VisitType', 'PyObject_VisitType']);
/** C-API calls a traverse makes that never visit the type. */
export const NON_TYPE_VISITING_CALLS: ReadonlySet<string> = new Set(['PyObject_VisitManagedDict', '_PyObject_VisitManagedDict', 'Py_VISIT']);
export const MANAGED_DICT_VISITS: ReadonlySet<string> = new Set(['PyObject_VisitManagedDict', '_PyObject_VisitManagedDict']);
export const MANAGED_DICT_CLEARS: ReadonlySet<string> = new Set(['PyObject_ClearManagedDict', '_PyObject_ClearManagedDict']);
export const CLEARING_CALLS: ReadonlySet<string> = new Set(['Py_CLEAR', 'Py_XDECREF', 'Py_DECREF', 'Py_XSETREF', 'Py_SETREF', 'Py_DecRef', 'Py_XDecRef']);
export const REASSIGNING_CALLS: ReadonlySet<string> = new Set(['Py_XSETREF', 'Py_SETREF']);
export const NON_CLEARING_CALLS: ReadonlySet<string> = new Set(['PyObject_ClearManagedDict', '_PyObject_ClearManagedDict', 'PyObject_ClearWeakRefs', 'PyObject_GC_UnTrack']);
export const DECREF_CALLS: ReadonlySet<string> = new Set(['Py_DECREF', 'Py_XDECREF', 'Py_DecRef', 'Py_XDecRef', 'Py_CLEAR']);

/** Prefixes of C-API functions: a call to one is the C API's, never an extension helper to follow. */
export function isApiFunctionName(name: string): boolean {
  return /^_?Py[A-Z_a-z]/.test(name);
}

// ---------------------------------------------------------------------------------------------------------------
// type creation

export const TYPE_CREATORS: Readonly<Record<string, { spec: number; bases: number | null; module: number | null; since: PyVersion }>> = {
  PyType_FromSpec: { spec: 0, bases: null, module: null, since: ALWAYS },
  PyType_FromSpecWithBases: { spec: 0, bases: 1, module: null, since: [3, 3] },
  PyType_FromModuleAndSpec: { spec: 1, bases: 2, module: 0, since: [3, 9] },
  PyType_FromMetaclass: { spec: 2, bases: 3, module: 1, since: [3, 12] },
};

export function isTypeCreator(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(TYPE_CREATORS, name);
}

export const PYTHON_CLASS_CREATORS: ReadonlySet<string> = new Set(['PyErr_NewException', 'PyErr_NewExceptionWithDoc']);

// ---------------------------------------------------------------------------------------------------------------
// CPython's own types, when used as bases or members

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

/** The builtin type or exception `name` (as in `&PyList_Type`, `PyExc_Exception`) denotes, if any. */
export function builtinBase(name: string | null): (BuiltinType & { name: string }) | null {
  if (name === null) return null;
  if (/^PyExc_\w+$/.test(name)) return { name, gc: true, traverseVisitsType: false };
  if (GC_CONTAINERS.includes(name)) return { name, gc: true, traverseVisitsType: false };
  if (NON_GC.includes(name)) return { name, gc: false, traverseVisitsType: false };
  return null;
}

/** What the `tp_dealloc` of one of CPython's own static types does with a heap subtype's instance handed to it. */
export interface BuiltinDealloc {
  /** It frees the object (through `Py_TYPE(self)->tp_free`). */
  frees: boolean;
  /**
   * It releases the reference the instance holds to a heap type. Only `subtype_dealloc`, the dealloc of heap
   * types, does; `object_dealloc`, `unicode_dealloc`, `long_dealloc`, `BaseException_dealloc`, `list_dealloc`,
   * `dict_dealloc` … free the object and stop (checked in 3.9 to 3.13).
   */
  releasesHeapType: boolean;
}

/** The dealloc of builtin type `name` (`PyUnicode_Type`, `PyBaseObject_Type`, `PyExc_Exception` …), if known. */
export function builtinDealloc(name: string | null): BuiltinDealloc | null {
  return builtinBase(name) ? { frees: true, releasesHeapType: false } : null;
}

export const PY_OBJECT_TYPES: ReadonlySet<string> = new Set([
  'PyObject', 'PyTypeObject', 'PyHeapTypeObject', 'PyVarObject', 'PyListObject', 'PyDictObject', 'PyTupleObject',
  'PySetObject', 'PyLongObject', 'PyFloatObject', 'PyUnicodeObject', 'PyBytesObject', 'PyByteArrayObject',
  'PyFrameObject', 'PyCodeObject', 'PyFunctionObject', 'PyModuleObject', 'PyBaseExceptionObject',
  'PyMemoryViewObject', 'PyCFunctionObject', 'PyMethodObject', 'PyWeakReference', 'PyComplexObject',
  'PySliceObject', 'PyGenObject', 'PyCellObject', 'PyASCIIObject', 'PyCompactUnicodeObject',
]);

/** Object types that cannot reference other objects: a member of such a type never needs a visit to break a cycle. */
export const LEAF_OBJECT_TYPES: ReadonlySet<string> = new Set([
  'PyLongObject', 'PyFloatObject', 'PyUnicodeObject', 'PyBytesObject', 'PyByteArrayObject', 'PyComplexObject',
  'PyASCIIObject', 'PyCompactUnicodeObject',
]);

/**
 * C-API constructors whose result is always an exact int, str, bytes, float, complex or bool: objects that hold
 * no references, so a member only ever assigned one cannot be part of a reference cycle. (Names only: a
 * subclass instance can come only from calling the type, never from these.)
 */
const ATOMIC_CONSTRUCTORS: readonly RegExp[] = [
  /^PyLong_From\w+$/, /^PyFloat_From\w+$/, /^PyComplex_From\w+$/, /^PyBytes_From\w+$/, /^PyByteArray_From\w+$/,
  /^PyUnicode_From\w+$/, /^PyUnicode_Decode\w*$/, /^PyUnicode_InternFromString$/, /^PyUnicode_New$/,
  /^_PyUnicode_FromASCII$/, /^_PyUnicode_FromId$/, /^PyBool_FromLong$/,
];

export function isAtomicConstructor(name: string | null): boolean {
  return name !== null && ATOMIC_CONSTRUCTORS.some((re) => re.test(name));
}

/**
 * Constructors of an exact dict, list or set: GC containers with a tp_clear of their own, so the collector breaks
 * any cycle through one by clearing it, whether or not the object holding it has a tp_clear.
 */
export const SELF_CLEARING_CONTAINER_CONSTRUCTORS: ReadonlySet<string> = new Set([
  'PyDict_New', '_PyDict_NewPresized', 'PyDict_Copy', 'PyList_New', 'PySequence_List', 'PyList_GetSlice', 'PySet_New',
]);

/** Immortal singletons that hold no references. */
export const ATOMIC_SINGLETONS: ReadonlySet<string> = new Set(['Py_None', 'Py_True', 'Py_False', 'Py_Ellipsis', 'Py_NotImplemented']);

/** Calls that return their argument with a new reference (`Py_NewRef(Py_None)` is still None). */
export const NEW_REFERENCE_CALLS: ReadonlySet<string> = new Set(['Py_NewRef', 'Py_XNewRef', '_Py_NewRef', '_Py_XNewRef']);

/**
 * Any call given a member's address may store an object the analysis cannot trace there
 * (`PyArg_ParseTuple(args, "O", &self->x)`) — except these, which only release or zero it.
 */
export const ADDRESS_RELEASING_CALLS: ReadonlySet<string> = new Set(['PyBuffer_Release', 'memset']);

/**
 * C-API structs that hold a strong reference in one of their fields: a `Py_buffer` member owns its exporter
 * through `.obj` (PyObject_GetBuffer and PyBuffer_FillInfo take a reference, PyBuffer_Release drops it).
 */
export const OBJECT_HOLDING_API_STRUCTS: Readonly<Record<string, readonly string[]>> = { Py_buffer: ['obj'] };

/** Calls that release what a `Py_buffer` holds, given its address. */
export const BUFFER_RELEASE_CALLS: ReadonlySet<string> = new Set(['PyBuffer_Release']);

/**
 * C types of the C API whose definition in the inputs (CPython's headers) must not be read as an extension's:
 * `typedef struct _object PyObject` would otherwise turn every `PyObject *` member into a `struct _object *`.
 */
export function isApiTypeName(name: string): boolean {
  return PY_OBJECT_TYPES.has(name) || API_C_TYPES.has(name);
}

const API_C_TYPES: ReadonlySet<string> = new Set([
  'visitproc', 'traverseproc', 'inquiry', 'destructor', 'freefunc', 'newfunc', 'allocfunc', 'Py_ssize_t', 'Py_buffer',
  'PyType_Spec', 'PyType_Slot', 'PyModuleDef', 'PyModuleDef_Slot', 'PyMemberDef', 'PyMethodDef', 'PyGetSetDef',
  'PyModuleDef_Base', 'PyNumberMethods', 'PySequenceMethods', 'PyMappingMethods', 'PyAsyncMethods', 'PyBufferProcs',
]);

// ---------------------------------------------------------------------------------------------------------------
// the preprocessor's view of a target version

/** `PY_VERSION_HEX` of the final release of X.Y: what `#if PY_VERSION_HEX >= 0x030900A4` compares against. */
export function versionHex(version: { major: number; minor: number }): number {
  return ((version.major << 24) | (version.minor << 16) | (0xF << 4)) >>> 0;
}

/** Macros of the C API known to be defined, or known to be missing, when compiling for `version`. */
export function apiMacroEnvironment(version: { major: number; minor: number }): { defined: Map<string, string>; undefined: Set<string> } {
  const defined = new Map<string, string>();
  const missing = new Set<string>();
  for (const [name, info] of Object.entries(TYPE_FLAGS)) {
    if (apiNameExists(name, version)) defined.set(name, `(1UL << ${info.bit})`);
    else missing.add(name);
  }
  defined.set('Py_TPFLAGS_DEFAULT', '(Py_TPFLAGS_HAVE_STACKLESS_EXTENSION | Py_TPFLAGS_HAVE_VERSION_TAG)');
  for (const name of Object.keys(API_MACROS)) {
    if (apiNameExists(name, version)) defined.set(name, '');
    else missing.add(name);
  }
  for (const name of Object.keys(API_FUNCTIONS)) missing.add(name);
  return { defined, undefined: missing };
}

// ---------------------------------------------------------------------------------------------------------------
// CPython's own headers among the inputs

/** Headers that only CPython's `Include/` has: a folder holding them (with `Python.h`) is the C API. */
const INCLUDE_MARKERS = ['object.h', 'patchlevel.h', 'pyport.h', 'objimpl.h'];

/**
 * The inputs that are the C API itself rather than an extension: CPython's `Include/` (also as installed in a
 * venv's or a distribution's `include/python3.X/`) and a vendored `pythoncapi_compat.h`. Their definitions of
 * the C API are what the catalogue already knows, so they are not analysed as extension code.
 */
export function apiHeaderFiles(files: readonly string[]): Set<string> {
  const byDir = new Map<string, Set<string>>();
  const norm = (f: string) => f.replace(/\\/g, '/');
  for (const f of files) {
    const p = norm(f);
    const slash = p.lastIndexOf('/');
    const dir = slash >= 0 ? p.slice(0, slash) : '.';
    const base = p.slice(slash + 1);
    let set = byDir.get(dir);
    if (!set) byDir.set(dir, (set = new Set()));
    set.add(base);
  }
  const roots: string[] = [];
  for (const [dir, names] of byDir) {
    if (names.has('Python.h') && INCLUDE_MARKERS.filter((m) => names.has(m)).length >= 2) roots.push(dir === '.' ? '' : `${dir}/`);
  }
  const out = new Set<string>();
  for (const f of files) {
    const p = norm(f);
    if (!/\.h$/i.test(p)) continue;
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (base === 'pythoncapi_compat.h'
      || /(^|\/)include\/python\d+\.\d+[a-z]*\//i.test(p)
      || roots.some((r) => p.startsWith(r))) out.add(f);
  }
  return out;
}
