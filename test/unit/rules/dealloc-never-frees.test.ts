import { deallocNeverFrees } from '../../../src/rules/dealloc-never-frees.js';
import { lineOf, ruleTester } from '../../rule-tester.js';

const withDealloc = (body: string, helpers = '') => `
typedef struct {
    PyObject_HEAD
    PyObject *item;
    char *buffer;
} BoxObject;

static int box_traverse(BoxObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->item);
    return 0;
}
${helpers}
static void
box_dealloc(BoxObject *self)  /* dealloc */
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->item);
${body}
    Py_DECREF(tp);
}

static PyType_Slot box_slots[] = {{Py_tp_traverse, box_traverse}, {Py_tp_dealloc, box_dealloc}, {0, NULL}};
static PyType_Spec box_spec = {"boxes.Box", sizeof(BoxObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, box_slots};
`;

const forgotten = withDealloc('');
const bufferOnly = withDealloc('    PyMem_Free(self->buffer);');
const clearingHelper = withDealloc('    box_release(self);', 'static void box_release(BoxObject *self) { PyMem_Free(self->buffer); }\n');

ruleTester(deallocNeverFrees, {
  valid: [
    { name: 'frees through tp_free', code: withDealloc('    tp->tp_free((PyObject *)self);') },
    { name: 'frees through a local named free', code: withDealloc('    freefunc free = (freefunc)PyType_GetSlot(tp, Py_tp_free);\n    free(self);') },
    { name: 'a helper frees', code: withDealloc('    box_free(self);', 'static void box_free(BoxObject *self) { PyObject_GC_Del(self); }\n') },
    { name: 'hands the object to the base dealloc', code: withDealloc('    PyBaseObject_Type.tp_dealloc((PyObject *)self);') },
    { name: 'a helper the analysis cannot see', code: withDealloc('    box_release_elsewhere(self);', 'extern void box_release_elsewhere(BoxObject *self);\n') },
    { name: 'a singleton that refuses to die', code: withDealloc('    Py_FatalError("deallocating the box");') },
  ],
  invalid: [
    { name: 'no free at all', code: forgotten, errors: [{ messageId: 'heapNeverFrees', line: lineOf(forgotten, '/* dealloc */') }] },
    { name: 'frees a buffer it owns, not itself', code: bufferOnly, errors: [{ messageId: 'heapNeverFrees', line: lineOf(bufferOnly, '/* dealloc */') }] },
    { name: 'its helper frees only a buffer', code: clearingHelper, errors: [{ messageId: 'heapNeverFrees', line: lineOf(clearingHelper, '/* dealloc */') }] },
  ],
});
