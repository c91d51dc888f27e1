import { defineRule, type Report } from './rule.js';
import { describeBase, displayName } from '../model/gc.js';
import { TYPE_VISITING_TRAVERSES } from '../model/capi.js';
import type { Queries } from '../model/queries.js';

const messages = {
  notVisited: 'tp_traverse {{function}}() of heap type {{type}} never visits the type (Py_VISIT(Py_TYPE(self))): instances own a reference to their type since Python 3.9, and the collector cannot see it, so the type and its module leak',
  inheritedNotVisiting: "heap type {{type}} inherits the tp_traverse of {{base}}, which does not visit the type: give it a tp_traverse that calls Py_VISIT(Py_TYPE(self)) and then the base's traverse",
  visitedOn38: 'tp_traverse {{function}}() of heap type {{type}} visits the type on Python {{version}} too ({{how}}), where subtype_traverse already does: put the visit under #if PY_VERSION_HEX >= 0x03090000',
} as const;

export const traverseTypeNotVisited = defineRule({
  id: 'traverse-type-not-visited',
  summary: 'A heap type whose tp_traverse never visits Py_TYPE(self): the instance → type reference is invisible to the collector.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 9], until: null },
  messages,
  fixTitle: 'Call Py_VISIT(Py_TYPE(self)) in tp_traverse (under #if PY_VERSION_HEX >= 0x03090000 when Python 3.8 is supported)',
  check(q, report, context) {
    checkUnguardedVisitOn38(context.oldest, report);
    for (const t of q.model.types) {
      if (t.kind !== 'heap') continue;
      const traverse = q.traverseOf(t);
      if (traverse.kind === 'own' && traverse.owner === t) {
        if (TYPE_VISITING_TRAVERSES.has(traverse.functionName) || !traverse.fn) continue;
        const visits = q.traverseVisitsType(traverse.fn, t);
        if (visits.answer === 'unknown') context.undecided(traverse.fn.file, traverse.fn.line, `whether ${traverse.fn.name}() visits the type of ${displayName(t)}: ${visits.reason}`);
        if (visits.answer !== 'no') continue;
        report('notVisited', { function: traverse.fn.name, type: displayName(t) }, {
          file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
        });
      } else if (traverse.kind === 'inherited-builtin' && !traverse.visitsType && q.isGc(t).answer === 'yes') {
        report('inheritedNotVisiting', { type: displayName(t), base: describeBase(traverse.base) }, {
          file: t.file, line: t.line, column: t.column, type: t,
        });
      }
    }
  },
  runtimeVerdict(f, { type: t, python, typeNotFound, instanceProblem }) {
    if (!t) return typeNotFound;
    if (t.typeInReferents === false) return { verdict: 'confirmed at run time', evidence: `${t.name} is not in gc.get_referents(instance) on ${python}` };
    if (t.typeInReferents === true) return { verdict: 'not observed', evidence: `${t.name} is in gc.get_referents(instance) on ${python}` };
    return { verdict: 'not testable', evidence: instanceProblem(t) };
  },
});

/**
 * Supporting Python 3.8 or older: there, subtype_traverse already visits the type of heap instances, so a traverse
 * that visits it too counts the reference twice. The visit must sit under `#if PY_VERSION_HEX >= 0x03090000`.
 */
function checkUnguardedVisitOn38(oldest: Queries, report: Report<keyof typeof messages>): void {
  const v = oldest.model.pythonVersion;
  if (v.major > 3 || (v.major === 3 && v.minor >= 9)) return;
  for (const t of oldest.model.types) {
    if (t.kind !== 'heap') continue;
    const traverse = oldest.traverseOf(t);
    if (traverse.kind !== 'own' || traverse.owner !== t || !traverse.fn) continue;
    const visits = oldest.traverseVisitsType(traverse.fn, t);
    if (visits.answer !== 'yes') continue;
    report('visitedOn38', { function: traverse.fn.name, type: displayName(t), version: `${v.major}.${v.minor}`, how: visits.reason }, {
      file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
    });
  }
}
