import type { Rule } from './rule.js';
import { displayName, hasOwnSlot, inheritedSlot, isGcType } from '../model/gc.js';
import { isMutableMember, objectMembers, memberCannotHoldObjects, isNotOwned } from '../model/members.js';

export const clearMissing: Rule = {
  id: 'clear-missing',
  summary: 'A GC type whose instances hold objects that can change after construction but that has no tp_clear to break cycles through them.',
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
      // Members set once at construction cannot close a cycle later: the cycle is broken elsewhere.
      const cyclic = members.members.filter((m) => !isNotOwned(t, m) && !memberCannotHoldObjects(model, m) && isMutableMember(model, t, m));
      if (!cyclic.length) continue;
      report({
        message: `GC type ${displayName(t)} has no tp_clear: the collector can find a cycle through ${cyclic.map((m) => m.name).join(', ')} but cannot break it, so the cycle leaks`,
        file: t.file, line: t.line, column: t.column, type: t,
      });
    }
  },
};
