import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';

export const deallocNeverFrees = defineRule({
  id: 'dealloc-never-frees',
  summary: 'A tp_dealloc that never frees the instance (no tp_free, PyObject_Del, PyObject_GC_Del or base dealloc): every instance leaks, and a heap type with them.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    heapNeverFrees: '{{function}}() of heap type {{type}} never frees the instance: it calls neither Py_TYPE(self)->tp_free nor PyObject_GC_Del/PyObject_Del/PyObject_Free, nor a base type\'s tp_dealloc, so the memory of every instance leaks, and with it the reference each instance holds to {{type}}: the type (and its module) is never freed',
    staticNeverFrees: '{{function}}() of type {{type}} never frees the instance: it calls neither Py_TYPE(self)->tp_free nor PyObject_GC_Del/PyObject_Del/PyObject_Free, nor a base type\'s tp_dealloc, so the memory of every instance leaks',
  },
  fixTitle: 'End tp_dealloc with Py_TYPE(self)->tp_free((PyObject *)self) (and, for a heap type, Py_DECREF of the type read before it)',
  check(q, report) {
    for (const t of q.model.types) {
      const slot = t.slots.get('tp_dealloc');
      if (!slot?.function) continue;
      const fn = q.findFunction(slot.function, slot.file);
      if (!fn) continue;
      const facts = q.deallocFacts(fn, t.slots.get('tp_clear')?.function ?? null);
      // Unknown helpers may free; a fatal error, a free list, a resurrection or an empty dealloc (of static
      // singletons) keep the object on purpose.
      if (facts.frees.length || facts.handoffs.length || facts.unknownCall || facts.noReturn || facts.keepsObject || facts.empty) continue;
      const at = { file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name };
      report(t.kind === 'heap' ? 'heapNeverFrees' : 'staticNeverFrees', { function: fn.name, type: displayName(t) }, at);
    }
  },
  runtimeVerdict(f, { type: t, python, typeNotFound, instanceProblem }) {
    if (!t) return typeNotFound;
    if (!t.heap || !t.refcountDelta) return { verdict: 'not testable', evidence: t.heap ? instanceProblem(t) : 'the memory of instances of a static type is not measured' };
    return t.refcountDelta.value >= t.refcountDelta.n * 0.9
      ? { verdict: 'confirmed at run time', evidence: `the type's reference count grew by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${python}: the instances are never freed` }
      : { verdict: 'not observed', evidence: `the type's reference count changed by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${python}` };
  },
});
