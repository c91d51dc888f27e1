import { defineRule } from './rule.js';
import { displayName, hasOwnSlot } from '../model/gc.js';
import { isNotOwned } from '../model/members.js';
import { selfCycleVerdict } from './verdicts.js';

export const clearMissing = defineRule({
  id: 'clear-missing',
  summary: 'A GC type whose instances hold objects that can change after construction but that has no tp_clear to break cycles through them.',
  defaultSeverity: 'warning',
  appliesTo: { from: null, until: null },
  messages: {
    missing: 'GC type {{type}} has no tp_clear: the collector can find a cycle through {{members}} but cannot break it, so the cycle leaks',
  },
  fixTitle: 'Add a tp_clear that calls Py_CLEAR on every member tp_traverse visits',
  check(q, report) {
    for (const t of q.model.types) {
      if (q.isGc(t).answer !== 'yes' || !t.slotsKnown) continue;
      if (hasOwnSlot(t, 'tp_clear')) continue;
      if (q.inheritedSlot(t, 'tp_clear') !== 'none') continue;
      const members = q.objectMembers(t);
      if (!members.known) continue;
      // Members set once at construction cannot close a cycle later: the cycle is broken elsewhere.
      const cyclic = members.members.filter((m) => !isNotOwned(t, m) && !q.memberCannotHoldObjects(m) && q.isMutableMember(t, m)
        && !q.memberHoldsOnlyAtomicObjects(t, m) && !q.memberBreaksOwnCycles(t, m));
      if (!cyclic.length) continue;
      report('missing', { type: displayName(t), members: cyclic.map((m) => m.name).join(', ') }, { file: t.file, line: t.line, column: t.column, type: t });
    }
  },
  runtimeVerdict: (f, seen) => selfCycleVerdict(seen),
});
