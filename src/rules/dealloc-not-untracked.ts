import type { Rule } from './rule.js';
import { displayName, findFunction, isGcType } from '../model/gc.js';
import { deallocFacts } from '../model/protocol.js';

export const deallocNotUntracked: Rule = {
  id: 'dealloc-not-untracked',
  summary: 'tp_dealloc of a GC type clears or frees before PyObject_GC_UnTrack: a collection can traverse a half-destroyed object.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report) {
    for (const t of model.types) {
      const slot = t.slots.get('tp_dealloc');
      if (!slot?.function || isGcType(model, t).answer !== 'yes') continue;
      const fn = findFunction(model, slot.function, slot.file);
      if (!fn) continue;
      const facts = deallocFacts(model, fn, t.slots.get('tp_clear')?.function ?? null);
      if (facts.delegatesToBase || facts.unknownCall || !facts.firstUnsafe) continue;
      if (facts.untrackAt !== null && facts.untrackAt < facts.firstUnsafe.order) continue;
      const when = facts.untrackAt === null ? 'never calls PyObject_GC_UnTrack' : `calls ${facts.firstUnsafe.what} before PyObject_GC_UnTrack`;
      report({
        message: `${fn.name}() of GC type ${displayName(t)} ${when}: a collection triggered while members are released can traverse the half-destroyed object and crash`,
        file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name,
      });
    }
  },
};
