import type { Model } from '../model/model.js';
import type { Report, Rule } from './rule.js';
import { describeBase, displayName, isGcType, traverseOf, traverseVisitsType } from '../model/gc.js';
import { TYPE_VISITING_TRAVERSES } from '../model/capi.js';

export const traverseTypeNotVisited: Rule = {
  id: 'traverse-type-not-visited',
  summary: 'A heap type whose tp_traverse never visits Py_TYPE(self): the instance → type reference is invisible to the collector.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 9], until: null },
  check(model, report, context) {
    checkUnguardedVisitOn38(context.oldest, report);
    for (const t of model.types) {
      if (t.kind !== 'heap') continue;
      const traverse = traverseOf(model, t);
      if (traverse.kind === 'own' && traverse.owner === t) {
        if (TYPE_VISITING_TRAVERSES.has(traverse.functionName) || !traverse.fn) continue;
        const visits = traverseVisitsType(model, traverse.fn, t);
        if (visits.answer === 'unknown') context.undecided(traverse.fn.file, traverse.fn.line, `whether ${traverse.fn.name}() visits the type of ${displayName(t)}: ${visits.reason}`);
        if (visits.answer !== 'no') continue;
        report({
          message: `tp_traverse ${traverse.fn.name}() of heap type ${displayName(t)} never visits the type (Py_VISIT(Py_TYPE(self))): instances own a reference to their type since Python 3.9, and the collector cannot see it, so the type and its module leak`,
          file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
        });
      } else if (traverse.kind === 'inherited-builtin' && !traverse.visitsType && isGcType(model, t).answer === 'yes') {
        report({
          message: `heap type ${displayName(t)} inherits the tp_traverse of ${describeBase(traverse.base)}, which does not visit the type: give it a tp_traverse that calls Py_VISIT(Py_TYPE(self)) and then the base's traverse`,
          file: t.file, line: t.line, column: t.column, type: t,
        });
      }
    }
  },
};

/**
 * Supporting Python 3.8 or older: there, subtype_traverse already visits the type of heap instances, so a traverse
 * that visits it too counts the reference twice. The visit must sit under `#if PY_VERSION_HEX >= 0x03090000`.
 */
function checkUnguardedVisitOn38(oldest: Model, report: Report): void {
  const v = oldest.pythonVersion;
  if (v.major > 3 || (v.major === 3 && v.minor >= 9)) return;
  for (const t of oldest.types) {
    if (t.kind !== 'heap') continue;
    const traverse = traverseOf(oldest, t);
    if (traverse.kind !== 'own' || traverse.owner !== t || !traverse.fn) continue;
    const visits = traverseVisitsType(oldest, traverse.fn, t);
    if (visits.answer !== 'yes') continue;
    report({
      message: `tp_traverse ${traverse.fn.name}() of heap type ${displayName(t)} visits the type on Python ${v.major}.${v.minor} too (${visits.reason}), where subtype_traverse already does: put the visit under #if PY_VERSION_HEX >= 0x03090000`,
      file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
    });
  }
}
