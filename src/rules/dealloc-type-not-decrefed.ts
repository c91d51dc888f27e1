import type { Rule } from './rule.js';
import { displayName, findFunction } from '../model/gc.js';
import { deallocFacts } from '../model/protocol.js';

export const deallocTypeNotDecrefed: Rule = {
  id: 'dealloc-type-not-decrefed',
  summary: "A heap type's tp_dealloc frees the instance without Py_DECREF of the type: every instance leaks a reference to its type.",
  defaultSeverity: 'error',
  appliesTo: { from: [3, 8], until: null },
  check(model, report, context) {
    for (const t of model.types) {
      if (t.kind !== 'heap') continue;
      const slot = t.slots.get('tp_dealloc');
      if (!slot?.function) continue;
      const fn = findFunction(model, slot.function, slot.file);
      if (!fn) continue;
      const facts = deallocFacts(model, fn, t.slots.get('tp_clear')?.function ?? null);
      if (facts.unknownCall && !facts.decrefsType && !facts.delegatesToBase) {
        context.undecided(fn.file, fn.line, `whether ${fn.name}() releases the type of ${displayName(t)}: it calls ${facts.unknownCall}, which the analysis cannot see`);
      }
      if (facts.decrefsType || facts.delegatesToBase || facts.unknownCall || !facts.frees.length) continue;
      report({
        message: `${fn.name}() of heap type ${displayName(t)} frees the instance without Py_DECREF(Py_TYPE(self)): each instance owns a reference to its type since Python 3.8, so every freed instance leaks one and the type is never freed (nor its module, while the type keeps it)`,
        file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name,
      });
    }
  },
};
