/*
 * leaky: a multi-phase-init extension with deliberate garbage-collector defects, one per type:
 *   leaky.View    holds an object, lacks Py_TPFLAGS_HAVE_GC                  -> gc-flag-missing
 *   leaky.Node    tp_traverse visits its members but not Py_TYPE(self)       -> traverse-type-not-visited
 *   leaky.Event   leaky.event() allocates with PyObject_GC_New, never tracks -> instances-not-tracked
 *   leaky.Record  a GC type that leaky.record() allocates with PyObject_New  -> gc-alloc-mismatch
 *   leaky.Pair    correct
 * Needs Python 3.9+ (PyType_FromModuleAndSpec). Calling leaky.record() corrupts memory.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>                  /* offsetof */

#if PY_VERSION_HEX < 0x030C0000
#  include <structmember.h>
#  define Py_T_OBJECT_EX T_OBJECT_EX
#  define Py_T_PYSSIZET T_PYSSIZET
#  define Py_READONLY READONLY
#endif
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *obj) { Py_INCREF(obj); return obj; }
#endif

typedef struct {
    PyTypeObject *View_Type;
    PyTypeObject *Node_Type;
    PyTypeObject *Event_Type;
    PyTypeObject *Record_Type;
    PyTypeObject *Pair_Type;
} leaky_state;

/* ---- leaky.View: (a) holds an object reference, but is not a GC type ---------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *owner;            /* settable from Python: `v.owner = v` is a cycle the GC never sees */
    Py_ssize_t offset;
    Py_ssize_t length;
} ViewObject;

static PyObject *View_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *owner;
    Py_ssize_t offset = 0, length = -1;
    static char *kwlist[] = {"owner", "offset", "length", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|nn:View", kwlist, &owner, &offset, &length)) return NULL;
    ViewObject *self = (ViewObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->owner = Py_NewRef(owner);
    self->offset = offset;
    self->length = length;
    return (PyObject *)self;
}

static void View_dealloc(ViewObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->owner);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef View_members[] = {
    {"owner", Py_T_OBJECT_EX, offsetof(ViewObject, owner), 0, "the viewed object"},
    {"offset", Py_T_PYSSIZET, offsetof(ViewObject, offset), Py_READONLY, NULL},
    {"length", Py_T_PYSSIZET, offsetof(ViewObject, length), Py_READONLY, NULL},
    {NULL}
};

static PyType_Slot View_slots[] = {
    {Py_tp_new, View_new},
    {Py_tp_dealloc, View_dealloc},
    {Py_tp_members, View_members},
    {0, NULL}
};

static PyType_Spec View_spec = {
    .name = "leaky.View",
    .basicsize = sizeof(ViewObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,      /* defect: no Py_TPFLAGS_HAVE_GC */
    .slots = View_slots,
};

/* ---- leaky.Node: (b) a GC type whose traverse forgets the type --------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *value;
    PyObject *next;
} NodeObject;

static PyObject *Node_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *value = Py_None, *next = Py_None;
    static char *kwlist[] = {"value", "next", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:Node", kwlist, &value, &next)) return NULL;
    NodeObject *self = (NodeObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->value = Py_NewRef(value);
    self->next = Py_NewRef(next);
    return (PyObject *)self;
}

static int Node_traverse(NodeObject *self, visitproc visit, void *arg)
{
    /* defect: Py_VISIT(Py_TYPE(self)) is missing */
    Py_VISIT(self->value);
    Py_VISIT(self->next);
    return 0;
}

static int Node_clear(NodeObject *self)
{
    Py_CLEAR(self->value);
    Py_CLEAR(self->next);
    return 0;
}

static void Node_dealloc(NodeObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)Node_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef Node_members[] = {
    {"value", Py_T_OBJECT_EX, offsetof(NodeObject, value), 0, NULL},
    {"next", Py_T_OBJECT_EX, offsetof(NodeObject, next), 0, NULL},
    {NULL}
};

static PyType_Slot Node_slots[] = {
    {Py_tp_new, Node_new},
    {Py_tp_traverse, Node_traverse},
    {Py_tp_clear, Node_clear},
    {Py_tp_dealloc, Node_dealloc},
    {Py_tp_members, Node_members},
    {0, NULL}
};

static PyType_Spec Node_spec = {
    .name = "leaky.Node",
    .basicsize = sizeof(NodeObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = Node_slots,
};

/* ---- leaky.Event and leaky.Record: same layout and slots, created by module functions ---------- */

typedef struct {
    PyObject_HEAD
    PyObject *key;
    PyObject *payload;
} EntryObject;

static int Entry_traverse(EntryObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->key);
    Py_VISIT(self->payload);
    return 0;
}

static int Entry_clear(EntryObject *self)
{
    Py_CLEAR(self->key);
    Py_CLEAR(self->payload);
    return 0;
}

static void Entry_dealloc(EntryObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)Entry_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef Entry_members[] = {
    {"key", Py_T_OBJECT_EX, offsetof(EntryObject, key), Py_READONLY, NULL},
    {"payload", Py_T_OBJECT_EX, offsetof(EntryObject, payload), 0, NULL},
    {NULL}
};

static PyType_Slot Entry_slots[] = {
    {Py_tp_traverse, Entry_traverse},
    {Py_tp_clear, Entry_clear},
    {Py_tp_dealloc, Entry_dealloc},
    {Py_tp_members, Entry_members},
    {0, NULL}
};

static PyType_Spec Event_spec = {
    .name = "leaky.Event",
    .basicsize = sizeof(EntryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Entry_slots,
};

static PyType_Spec Record_spec = {
    .name = "leaky.Record",
    .basicsize = sizeof(EntryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Entry_slots,
};

/* leaky.event(key, payload): (c) allocated with PyObject_GC_New and never tracked */
static PyObject *leaky_event(PyObject *module, PyObject *args)
{
    PyObject *key, *payload;
    if (!PyArg_ParseTuple(args, "OO:event", &key, &payload)) return NULL;
    leaky_state *st = (leaky_state *)PyModule_GetState(module);
    EntryObject *ev = PyObject_GC_New(EntryObject, st->Event_Type);
    if (ev == NULL) return NULL;
    ev->key = Py_NewRef(key);
    ev->payload = Py_NewRef(payload);
    return (PyObject *)ev;                       /* defect: no PyObject_GC_Track(ev) */
}

/* leaky.record(key, payload): (d) a GC instance allocated without the GC header */
static PyObject *leaky_record(PyObject *module, PyObject *args)
{
    PyObject *key, *payload;
    if (!PyArg_ParseTuple(args, "OO:record", &key, &payload)) return NULL;
    leaky_state *st = (leaky_state *)PyModule_GetState(module);
    EntryObject *rec = PyObject_New(EntryObject, st->Record_Type);   /* defect: not PyObject_GC_New */
    if (rec == NULL) return NULL;
    rec->key = Py_NewRef(key);
    rec->payload = Py_NewRef(payload);
    PyObject_GC_Track(rec);
    return (PyObject *)rec;
}

/* ---- leaky.Pair: correct ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *first;
    PyObject *second;
} PairObject;

static PyObject *Pair_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *first, *second;
    static char *kwlist[] = {"first", "second", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Pair", kwlist, &first, &second)) return NULL;
    PairObject *self = (PairObject *)type->tp_alloc(type, 0);   /* tp_alloc tracks the instance */
    if (self == NULL) return NULL;
    self->first = Py_NewRef(first);
    self->second = Py_NewRef(second);
    return (PyObject *)self;
}

static int Pair_traverse(PairObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->first);
    Py_VISIT(self->second);
    return 0;
}

static int Pair_clear(PairObject *self)
{
    Py_CLEAR(self->first);
    Py_CLEAR(self->second);
    return 0;
}

static void Pair_dealloc(PairObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)Pair_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef Pair_members[] = {
    {"first", Py_T_OBJECT_EX, offsetof(PairObject, first), 0, NULL},
    {"second", Py_T_OBJECT_EX, offsetof(PairObject, second), 0, NULL},
    {NULL}
};

static PyType_Slot Pair_slots[] = {
    {Py_tp_new, Pair_new},
    {Py_tp_traverse, Pair_traverse},
    {Py_tp_clear, Pair_clear},
    {Py_tp_dealloc, Pair_dealloc},
    {Py_tp_members, Pair_members},
    {0, NULL}
};

static PyType_Spec Pair_spec = {
    .name = "leaky.Pair",
    .basicsize = sizeof(PairObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = Pair_slots,
};

/* ---- the module -------------------------------------------------------------------------------- */

static int leaky_exec(PyObject *module)
{
    leaky_state *st = (leaky_state *)PyModule_GetState(module);
    st->View_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &View_spec, NULL);
    if (st->View_Type == NULL || PyModule_AddType(module, st->View_Type) < 0) return -1;
    st->Node_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Node_spec, NULL);
    if (st->Node_Type == NULL || PyModule_AddType(module, st->Node_Type) < 0) return -1;
    st->Event_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Event_spec, NULL);
    if (st->Event_Type == NULL || PyModule_AddType(module, st->Event_Type) < 0) return -1;
    st->Record_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Record_spec, NULL);
    if (st->Record_Type == NULL || PyModule_AddType(module, st->Record_Type) < 0) return -1;
    st->Pair_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Pair_spec, NULL);
    if (st->Pair_Type == NULL || PyModule_AddType(module, st->Pair_Type) < 0) return -1;
    return 0;
}

static int leaky_traverse(PyObject *module, visitproc visit, void *arg)
{
    leaky_state *st = (leaky_state *)PyModule_GetState(module);
    Py_VISIT(st->View_Type);
    Py_VISIT(st->Node_Type);
    Py_VISIT(st->Event_Type);
    Py_VISIT(st->Record_Type);
    Py_VISIT(st->Pair_Type);
    return 0;
}

static int leaky_clear(PyObject *module)
{
    leaky_state *st = (leaky_state *)PyModule_GetState(module);
    Py_CLEAR(st->View_Type);
    Py_CLEAR(st->Node_Type);
    Py_CLEAR(st->Event_Type);
    Py_CLEAR(st->Record_Type);
    Py_CLEAR(st->Pair_Type);
    return 0;
}

static void leaky_free(void *module)
{
    (void)leaky_clear((PyObject *)module);
}

static PyMethodDef leaky_methods[] = {
    {"event", leaky_event, METH_VARARGS, "event(key, payload) -> Event"},
    {"record", leaky_record, METH_VARARGS, "record(key, payload) -> Record (crashes: see gc-alloc-mismatch)"},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot leaky_slots[] = {
    {Py_mod_exec, leaky_exec},
    {0, NULL}
};

static struct PyModuleDef leaky_module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "leaky",
    .m_doc = "Extension types with deliberate garbage-collector defects; see README.md.",
    .m_size = sizeof(leaky_state),
    .m_methods = leaky_methods,
    .m_slots = leaky_slots,
    .m_traverse = leaky_traverse,
    .m_clear = leaky_clear,
    .m_free = leaky_free,
};

PyMODINIT_FUNC PyInit_leaky(void)
{
    return PyModuleDef_Init(&leaky_module);
}
