import type { Rule } from './rule.js';
import { displayName, hasOwnSlot, inheritedSlot, isGcType } from '../model/gc.js';
import { objectMembers, memberCannotHoldObjects, isNotOwned } from '../model/members.js';

export const clearMissing: Rule = {
  id: 'clear-missing',
  summary: 'A GC type whose instances hold objects that can form cycles but that has no tp_clear to break them.',
  defaultSeverity: 'warning',
  appliesTo: { from: null, until: null },
  check(model, report) {
    for (const t of model.types) {
      if (isGcType(model, t).answer !== 'yes' || !t.slotsKnown) continue;
      if (hasOwnSlot(t, 'tp_clear')) continue;
      const inherited = inheritedSlot(model, t, 'tp_clear');
      if (inherited !== 'none') continue;
      const members = objectMembers(model, t);
      if (!members.known) continue;
      const cyclic = members.members.filter((m) => !isNotOwned(t, m) && !memberCannotHoldObjects(model, m));
      if (!cyclic.length) continue;
      report({
        message: `GC type ${displayName(t)} has no tp_clear: the collector can find a cycle through ${cyclic.map((m) => m.name).join(', ')} but cannot break it, so the cycle leaks`,
        file: t.file, line: t.line, column: t.column, type: t,
      });
    }
  },
};
