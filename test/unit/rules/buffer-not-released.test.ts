import { bufferNotReleased } from '../../../src/rules/buffer-not-released.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

/** A GC heap type with a Py_buffer filled in tp_new, and the given dealloc body after untracking. */
const holder = (deallocBody: string, fill = 'PyObject_GetBuffer(source, &self->view, PyBUF_SIMPLE) < 0') => `
typedef struct {
    PyObject_HEAD
    Py_buffer view;  /* view */
} HolderObject;

static int
holder_traverse(HolderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->view.obj);
    return 0;
}

static int
holder_clear(HolderObject *self)
{
    PyBuffer_Release(&self->view);
    return 0;
}

static PyObject *
holder_new(PyTypeObject *type, PyObject *source, PyObject *kwds)
{
    HolderObject *self = (HolderObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (${fill}) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
holder_dealloc(HolderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
${deallocBody}
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyType_Slot holder_slots[] = {
    {Py_tp_new, holder_new},
    {Py_tp_traverse, holder_traverse},
    {Py_tp_clear, holder_clear},
    {Py_tp_dealloc, holder_dealloc},
    {0, NULL},
};

static PyType_Spec holder_spec = {
    .name = "hold.Holder",
    .basicsize = sizeof(HolderObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = holder_slots,
};
`;

const forgets = holder('');
const parsedForgets = holder('', '!PyArg_ParseTuple(source, "y*", &self->view)');

ruleTester(bufferNotReleased, {
  valid: [
    { name: 'PyBuffer_Release in the dealloc', code: holder('    PyBuffer_Release(&self->view);') },
    { name: 'a conditional release', code: holder('    if (self->view.obj != NULL)\n        PyBuffer_Release(&self->view);') },
    { name: 'through the tp_clear the dealloc calls', code: holder('    (void)holder_clear(self);') },
    { name: 'a buffer nothing fills', code: holder('', '0') },
  ],
  invalid: [
    { name: 'filled by PyObject_GetBuffer, never released', code: forgets, errors: [{ messageId: 'notReleased', line: lineOf(forgets, '/* view */') }] },
    { name: 'filled by PyArg_ParseTuple("y*"), never released', code: parsedForgets, errors: [{ messageId: 'notReleased', line: lineOf(parsedForgets, '/* view */') }] },
  ],
});
