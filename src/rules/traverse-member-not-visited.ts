import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { isHeldThroughApiStruct, isNotOwned } from '../model/members.js';
import { memberVisitVerdict } from './verdicts.js';

export const traverseMemberNotVisited = defineRule({
  id: 'traverse-member-not-visited',
  summary: 'An object member of the instance that tp_traverse never visits: cycles through it are invisible to the collector.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    notVisited: 'member {{member}} of {{type}} is never visited by {{function}}(): a reference cycle through it is invisible to the collector and leaks',
    leafNotVisited: 'member {{member}} of {{type}} is never visited by {{function}}() (its type {{memberType}} cannot hold other objects, so only its own leak is hidden)',
    bufferNotVisited: 'member {{member}} of {{type}} is the strong reference its Py_buffer holds to the buffer\'s exporter, and {{function}}() never visits it (Py_VISIT(self->{{member}})): an exporter that refers back to the instance (a class with __buffer__, an array of objects) makes a cycle invisible to the collector, and it leaks',
    atomicNotVisited: 'member {{member}} of {{type}} is never visited by {{function}}(); every object stored in it is a new int, str, bytes or float (or None), which refers to nothing and cannot be part of a cycle, so only the collector\'s view of the instance is incomplete',
    skippedByEarlyReturn: '{{function}}() of {{type}} returns early at line {{line}} when {{guard}} is NULL, so member {{member}} is then never visited: a cycle through it is invisible to the collector',
  },
  fixTitle: 'Add Py_VISIT(self->member) to tp_traverse, on every path that returns 0',
  check(q, report, context) {
    for (const t of q.model.types) {
      const traverse = q.traverseOf(t);
      if (traverse.kind !== 'own' || traverse.owner !== t || !traverse.fn) continue;
      if (q.isGc(t).answer === 'no') continue;
      const members = q.objectMembers(t);
      if (!members.known || !members.members.length) continue;
      const visited = q.visitedPaths(traverse.fn);
      if (!visited.complete) {
        context.undecided(traverse.fn.file, traverse.fn.line, `which members ${traverse.fn.name}() visits: it calls ${visited.unknown}, which the analysis cannot see`);
        continue;
      }
      const skipped = q.visitsSkippedByEarlyReturn(traverse.fn);
      for (const m of members.members) {
        if (isNotOwned(t, m)) continue;
        const at = { file: t.struct!.file, line: m.line, column: m.column, type: t, function: traverse.fn.name, member: m.name };
        const leaf = q.memberCannotHoldObjects(m);
        // What no cycle can pass through is a warning (CPython's reviewers ask for the visit, but nothing leaks).
        const atomic = !leaf && q.memberHoldsOnlyAtomicObjects(t, m);
        const severity = leaf || atomic ? 'warning' : 'error';
        const skip = skipped.find((s) => s.member === m.name);
        // `a.b` is covered by a visit of `a.b`; an array member by a visit of an element.
        const isVisited = visited.paths.has(m.name);
        if (skip && isVisited) {
          report('skippedByEarlyReturn', { function: traverse.fn.name, type: displayName(t), line: skip.line, guard: skip.guardMember, member: m.name }, { severity, ...at });
          continue;
        }
        if (isVisited) continue;
        const data = { member: m.name, type: displayName(t), function: traverse.fn.name, memberType: m.typeName };
        const messageId = leaf ? 'leafNotVisited' : atomic ? 'atomicNotVisited' : isHeldThroughApiStruct(q.model, m, t.struct!.file) ? 'bufferNotVisited' : 'notVisited';
        report(messageId, data, { severity, ...at });
      }
    }
  },
  runtimeVerdict: (f, seen) => memberVisitVerdict(f.member, seen),
});
