import type { Rule } from './rule.js';
import { displayName, findFunction, traverseOf } from '../model/gc.js';
import { callsAny } from '../model/protocol.js';

const VISIT = new Set(['PyObject_VisitManagedDict', '_PyObject_VisitManagedDict']);
const CLEAR = new Set(['PyObject_ClearManagedDict', '_PyObject_ClearManagedDict']);

export const managedDictNotVisited: Rule = {
  id: 'managed-dict-not-visited',
  summary: 'Py_TPFLAGS_MANAGED_DICT without PyObject_VisitManagedDict in tp_traverse and PyObject_ClearManagedDict in tp_clear.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 12], until: null },
  check(model, report, context) {
    for (const t of model.types) {
      if (!t.flags.names.has('Py_TPFLAGS_MANAGED_DICT')) continue;
      const traverse = traverseOf(model, t);
      const visits = traverse.kind === 'own' && traverse.owner === t && traverse.fn ? callsAny(model, traverse.fn, VISIT) : null;
      if (visits === 'unknown' && traverse.kind === 'own' && traverse.fn) context.undecided(traverse.fn.file, traverse.fn.line, `whether ${traverse.fn.name}() visits the managed dict of ${displayName(t)}`);
      if (traverse.kind === 'own' && traverse.owner === t && traverse.fn && visits === 'no') {
        report({
          message: `${traverse.fn.name}() of ${displayName(t)} (Py_TPFLAGS_MANAGED_DICT) never calls PyObject_VisitManagedDict: cycles through the instance __dict__ are invisible and leak`,
          file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
        });
      }
      const clearSlot = t.slots.get('tp_clear');
      const clear = clearSlot?.function ? findFunction(model, clearSlot.function, clearSlot.file) : null;
      if (clear && callsAny(model, clear, CLEAR) === 'no') {
        report({
          message: `${clear.name}() of ${displayName(t)} (Py_TPFLAGS_MANAGED_DICT) never calls PyObject_ClearManagedDict: a cycle through the instance __dict__ is never broken`,
          file: clear.file, line: clear.line, column: clear.column, type: t, function: clear.name,
        });
      }
    }
  },
};
