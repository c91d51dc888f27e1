import { defineRule, type Report } from './rule.js';
import { describeBase, displayName, type EarlyReturn } from '../model/gc.js';
import { TYPE_VISITING_TRAVERSES } from '../model/capi.js';
import { render } from '../model/expr.js';
import type { Expr } from '../model/facts.js';
import type { ExtensionType } from '../model/model.js';
import type { Queries } from '../model/queries.js';

const messages = {
  notVisited: 'tp_traverse {{function}}() of heap type {{type}} never visits the type (Py_VISIT(Py_TYPE(self))): instances own a reference to their type since Python 3.9, and the collector cannot see it, so the type and its module leak',
  returnsBeforeVisit: '{{function}}() of heap type {{type}} returns 0 {{where}}{{when}} before it visits the type (Py_VISIT(Py_TYPE(self))): whenever that path is taken the collector cannot see the instance\'s reference to its type, so the type and its module leak',
  inheritedFunctionNotVisiting: 'heap type {{type}} inherits tp_traverse {{function}}() from {{base}}, which never visits the type (Py_VISIT(Py_TYPE(self))): the instance → type reference is invisible to the collector, so the type and its module leak',
  inheritedFunctionReturnsEarly: 'heap type {{type}} inherits tp_traverse {{function}}() from {{base}}, which returns 0 {{where}}{{when}} before it visits the type: whenever that path is taken the instance → type reference is invisible to the collector, so the type and its module leak',
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
        if (visits.answer === 'yes') {
          const escape = visits.escapes?.[0];
          if (escape) {
            report('returnsBeforeVisit', { function: traverse.fn.name, type: displayName(t), ...describeEscape(escape, traverse.fn.name) }, {
              file: escape.file, line: escape.line, column: 1, type: t, function: traverse.fn.name,
            });
          }
          continue;
        }
        if (visits.answer !== 'no') continue;
        report('notVisited', { function: traverse.fn.name, type: displayName(t) }, {
          file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
        });
      } else if (traverse.kind === 'own' && traverse.fn && !TYPE_VISITING_TRAVERSES.has(traverse.functionName) && q.isGc(t).answer === 'yes') {
        checkInherited(q, t, traverse.owner, traverse.fn, report);
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

/** `at line 12` or `at line 12 of helper()`, and ` (when self->ref == NULL)` for a return under an `if`. */
function describeEscape(escape: EarlyReturn, traverse: string): { where: string; when: string } {
  const where = escape.function === traverse ? `at line ${escape.line}` : `at line ${escape.line} of ${escape.function}()`;
  return { where, when: escape.guard ? ` (when ${describeGuard(escape.guard)})` : '' };
}

/** An `else` branch's guard is the negated condition: `!(x == 0)`, not `!x == 0`. */
function describeGuard(guard: Expr): string {
  return guard.k === 'unary' && guard.op === '!' && guard.of.k === 'binary' ? `!(${render(guard.of)})` : render(guard);
}

/**
 * A heap type that inherits a base's tp_traverse (through inherit_special: it sets none of HAVE_GC, tp_traverse and
 * tp_clear) leaks its type exactly as that traverse would: each inheriting type is its own finding, at its own spec.
 */
function checkInherited(q: Queries, t: ExtensionType, owner: ExtensionType, fn: NonNullable<ReturnType<Queries['findFunction']>>, report: Report<keyof typeof messages>): void {
  const visits = q.traverseVisitsType(fn, owner);
  const at = { file: t.file, line: t.line, column: t.column, type: t, function: fn.name };
  const data = { type: displayName(t), function: fn.name, base: displayName(owner) };
  if (visits.answer === 'no') report('inheritedFunctionNotVisiting', data, at);
  const escape = visits.answer === 'yes' ? visits.escapes?.[0] : undefined;
  if (escape) report('inheritedFunctionReturnsEarly', { ...data, ...describeEscape(escape, fn.name) }, at);
}

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
