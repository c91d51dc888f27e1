import type { Rule } from './rule.js';
import { displayName, isGcType, traverseOf } from '../model/gc.js';
import { objectMembers, memberCannotHoldObjects, isNotOwned } from '../model/members.js';
import { visitedPaths, visitsSkippedByEarlyReturn } from '../model/protocol.js';

export const traverseMemberNotVisited: Rule = {
  id: 'traverse-member-not-visited',
  summary: 'An object member of the instance that tp_traverse never visits: cycles through it are invisible to the collector.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report, context) {
    for (const t of model.types) {
      const traverse = traverseOf(model, t);
      if (traverse.kind !== 'own' || traverse.owner !== t || !traverse.fn) continue;
      if (isGcType(model, t).answer === 'no') continue;
      const members = objectMembers(model, t);
      if (!members.known || !members.members.length) continue;
      const visited = visitedPaths(model, traverse.fn);
      if (!visited.complete) {
        context.undecided(traverse.fn.file, traverse.fn.line, `which members ${traverse.fn.name}() visits: it calls ${visited.unknown}, which the analysis cannot see`);
        continue;
      }
      const skipped = visitsSkippedByEarlyReturn(traverse.fn);
      for (const m of members.members) {
        if (isNotOwned(t, m)) continue;
        const skip = skipped.find((s) => s.member === m.name);
        if (skip && isVisited(m.name, visited.paths)) {
          report({
            severity: memberCannotHoldObjects(model, m) ? 'warning' : 'error',
            message: `${traverse.fn.name}() of ${displayName(t)} returns early at line ${skip.line} when ${skip.guardMember} is NULL, so member ${m.name} is then never visited: a cycle through it is invisible to the collector`,
            file: t.struct!.file, line: m.line, column: m.column, type: t, function: traverse.fn.name, member: m.name,
          });
          continue;
        }
        if (isVisited(m.name, visited.paths)) continue;
        const leaf = memberCannotHoldObjects(model, m);
        report({
          severity: leaf ? 'warning' : 'error',
          message: `member ${m.name} of ${displayName(t)} is never visited by ${traverse.fn.name}()${leaf ? ` (its type ${m.typeName} cannot hold other objects, so only its own leak is hidden)` : ': a reference cycle through it is invisible to the collector and leaks'}`,
          file: t.struct!.file, line: m.line, column: m.column, type: t, function: traverse.fn.name, member: m.name,
        });
      }
    }
  },
};

/** `a.b` is covered by a visit of `a.b`; an array member by a visit of an element. */
function isVisited(name: string, paths: Set<string>): boolean {
  return paths.has(name);
}
