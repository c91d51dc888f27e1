import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { isNotOwned } from '../model/members.js';
import { pathCovered } from '../model/protocol.js';
import { selfCycleVerdict } from './verdicts.js';

export const clearMemberNotCleared = defineRule({
  id: 'clear-member-not-cleared',
  summary: 'tp_clear leaves alone a member that tp_traverse visits, so a cycle through it cannot be broken.',
  defaultSeverity: 'warning',
  appliesTo: { from: null, until: null },
  messages: {
    notCleared: '{{clear}}() of {{type}} does not clear member {{member}}, which {{traverse}}() visits: a cycle through it is found but never broken',
  },
  fixTitle: 'Add Py_CLEAR(self->member) to tp_clear',
  check(q, report, context) {
    for (const t of q.model.types) {
      const clearSlot = t.slots.get('tp_clear');
      if (!clearSlot?.function || q.isGc(t).answer !== 'yes') continue;
      const clear = q.findFunction(clearSlot.function, clearSlot.file);
      const traverse = q.traverseOf(t);
      if (!clear || traverse.kind !== 'own' || !traverse.fn) continue;
      const members = q.objectMembers(t);
      if (!members.known) continue;
      const visited = q.visitedPaths(traverse.fn);
      const cleared = q.clearedPaths(clear, true);
      if (!cleared.complete) {
        context.undecided(clear.file, clear.line, `which members ${clear.name}() clears: it calls ${cleared.unknown}, which the analysis cannot see`);
        continue;
      }
      for (const m of members.members) {
        if (isNotOwned(t, m) || !visited.paths.has(m.name) || pathCovered(cleared.paths, m.name) || !q.isMutableMember(t, m)) continue;
        // A member that only ever holds ints, strings and the like closes no cycle for tp_clear to break.
        if (q.memberHoldsOnlyAtomicObjects(t, m)) continue;
        report('notCleared', { clear: clear.name, type: displayName(t), member: m.name, traverse: traverse.fn.name }, {
          file: t.struct!.file, line: m.line, column: m.column, type: t, function: clear.name, member: m.name,
        });
      }
    }
  },
  runtimeVerdict: (f, seen) => selfCycleVerdict(seen),
});
