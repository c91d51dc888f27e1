import type { Rule } from './rule.js';
import { displayName, findFunction, isGcType, traverseOf } from '../model/gc.js';
import { isMutableMember, objectMembers, isNotOwned } from '../model/members.js';
import { clearedPaths, visitedPaths } from '../model/protocol.js';

export const clearMemberNotCleared: Rule = {
  id: 'clear-member-not-cleared',
  summary: 'tp_clear leaves alone a member that tp_traverse visits, so a cycle through it cannot be broken.',
  defaultSeverity: 'warning',
  appliesTo: { from: null, until: null },
  check(model, report, context) {
    for (const t of model.types) {
      const clearSlot = t.slots.get('tp_clear');
      if (!clearSlot?.function || isGcType(model, t).answer !== 'yes') continue;
      const clear = findFunction(model, clearSlot.function, clearSlot.file);
      const traverse = traverseOf(model, t);
      if (!clear || traverse.kind !== 'own' || !traverse.fn) continue;
      const members = objectMembers(model, t);
      if (!members.known) continue;
      const visited = visitedPaths(model, traverse.fn);
      const cleared = clearedPaths(model, clear, true);
      if (!cleared.complete) {
        context.undecided(clear.file, clear.line, `which members ${clear.name}() clears: it calls ${cleared.unknown}, which the analysis cannot see`);
        continue;
      }
      for (const m of members.members) {
        if (isNotOwned(t, m) || !visited.paths.has(m.name) || cleared.paths.has(m.name) || !isMutableMember(model, t, m)) continue;
        report({
          message: `${clear.name}() of ${displayName(t)} does not clear member ${m.name}, which ${traverse.fn.name}() visits: a cycle through it is found but never broken`,
          file: t.struct!.file, line: m.line, column: m.column, type: t, function: clear.name, member: m.name,
        });
      }
    }
  },
};
