import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';

export const deallocTypeNotDecrefed = defineRule({
  id: 'dealloc-type-not-decrefed',
  summary: "A heap type's tp_dealloc frees the instance without Py_DECREF of the type: every instance leaks a reference to its type.",
  defaultSeverity: 'error',
  appliesTo: { from: [3, 8], until: null },
  messages: {
    notDecrefed: '{{function}}() of heap type {{type}} frees the instance without Py_DECREF(Py_TYPE(self)): each instance owns a reference to its type since Python 3.8, so every freed instance leaks one and the type is never freed (nor its module, while the type keeps it)',
  },
  fixTitle: 'Save Py_TYPE(self) at the start of tp_dealloc and Py_DECREF it after tp_free',
  check(q, report, context) {
    for (const t of q.model.types) {
      if (t.kind !== 'heap') continue;
      const slot = t.slots.get('tp_dealloc');
      if (!slot?.function) continue;
      const fn = q.findFunction(slot.function, slot.file);
      if (!fn) continue;
      const facts = q.deallocFacts(fn, t.slots.get('tp_clear')?.function ?? null);
      if (facts.unknownCall && !facts.decrefsType && !facts.delegatesToBase) {
        context.undecided(fn.file, fn.line, `whether ${fn.name}() releases the type of ${displayName(t)}: it calls ${facts.unknownCall}, which the analysis cannot see`);
      }
      if (facts.decrefsType || facts.delegatesToBase || facts.unknownCall || !facts.frees.length) continue;
      report('notDecrefed', { function: fn.name, type: displayName(t) }, { file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name });
    }
  },
  runtimeVerdict(f, { type: t, python, typeNotFound, instanceProblem }) {
    if (!t) return typeNotFound;
    if (!t.refcountDelta) return { verdict: 'not testable', evidence: instanceProblem(t) };
    return t.refcountDelta.value >= t.refcountDelta.n * 0.9
      ? { verdict: 'confirmed at run time', evidence: `the type's reference count grew by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${python}` }
      : { verdict: 'not observed', evidence: `the type's reference count changed by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${python}` };
  },
});
