import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';

export const deallocTypeNotDecrefed = defineRule({
  id: 'dealloc-type-not-decrefed',
  summary: "A heap type's tp_dealloc frees the instance without Py_DECREF of the type: every instance leaks a reference to its type.",
  defaultSeverity: 'error',
  appliesTo: { from: [3, 8], until: null },
  messages: {
    notDecrefed: '{{function}}() of heap type {{type}} frees the instance without Py_DECREF(Py_TYPE(self)): each instance owns a reference to its type since Python 3.8, so every freed instance leaks one and the type is never freed (nor its module, while the type keeps it)',
    handsOffNotDecrefed: '{{function}}() of heap type {{type}} hands the instance to the tp_dealloc of {{base}}, which frees it without releasing the type ({{why}}): every freed instance leaks a reference to {{type}}, so the type is never freed (nor its module); read Py_TYPE(self) first and Py_DECREF it after that call',
    inheritsNotDecrefed: 'heap type {{type}} has no tp_dealloc of its own, so subtype_dealloc hands its instances to {{function}}() of its heap base {{base}}, which never releases the type (subtype_dealloc leaves that to a heap base): every freed instance of {{type}} leaks a reference to it',
  },
  fixTitle: 'Save Py_TYPE(self) at the start of tp_dealloc and Py_DECREF it after tp_free',
  check(q, report, context) {
    for (const t of q.model.types) {
      if (t.kind !== 'heap') continue;
      const slot = t.slots.get('tp_dealloc');
      const own = slot?.function ? q.findFunction(slot.function, slot.file) : null;
      if (own) {
        const facts = q.deallocFacts(own, t.slots.get('tp_clear')?.function ?? null);
        if (facts.unknownCall && !facts.decrefsType && !facts.delegatesToBase) {
          context.undecided(own.file, own.line, `whether ${own.name}() releases the type of ${displayName(t)}: it calls ${facts.unknownCall}, which the analysis cannot see`);
        }
      } else if (slot?.function) continue;
      const release = q.typeRelease(t);
      if (release.answer !== 'no' || !release.frees || !release.fn) continue;
      const fn = release.fn;
      if (release.inheritedFrom) {
        report('inheritsNotDecrefed', { type: displayName(t), function: fn.name, base: displayName(release.inheritedFrom) }, {
          file: t.file, line: t.line, column: t.column, type: t, function: fn.name,
        });
      } else {
        const at = { file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name };
        if (release.handoff) report('handsOffNotDecrefed', { function: fn.name, type: displayName(t), base: release.handoff.type, why: release.handoff.why }, at);
        else report('notDecrefed', { function: fn.name, type: displayName(t) }, at);
      }
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
