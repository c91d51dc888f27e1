import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { MANAGED_DICT_CLEARS, MANAGED_DICT_VISITS } from '../model/capi.js';
import { selfCycleVerdict } from './verdicts.js';

export const managedDictNotVisited = defineRule({
  id: 'managed-dict-not-visited',
  summary: 'Py_TPFLAGS_MANAGED_DICT without PyObject_VisitManagedDict in tp_traverse and PyObject_ClearManagedDict in tp_clear.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 12], until: null },
  // Type flags are read from names only (model/link.ts resolveFlags): a numeric bit 4 is not taken for this flag. A
  // project macro may build the name by pasting (`Py_TPFLAGS_##F` with F = MANAGED_DICT): its last part is written.
  reportsOnlyWhereNamed: ['MANAGED_DICT'],
  messages: {
    notVisited: '{{function}}() of {{type}} (Py_TPFLAGS_MANAGED_DICT) never calls PyObject_VisitManagedDict: cycles through the instance __dict__ are invisible and leak',
    notCleared: '{{function}}() of {{type}} (Py_TPFLAGS_MANAGED_DICT) never calls PyObject_ClearManagedDict: a cycle through the instance __dict__ is never broken',
  },
  fixTitle: 'Call PyObject_VisitManagedDict(self, visit, arg) in tp_traverse and PyObject_ClearManagedDict(self) in tp_clear',
  check(q, report, context) {
    for (const t of q.model.types) {
      if (!t.flags.names.has('Py_TPFLAGS_MANAGED_DICT')) continue;
      const traverse = q.traverseOf(t);
      const visits = traverse.kind === 'own' && traverse.owner === t && traverse.fn ? q.callsAny(traverse.fn, MANAGED_DICT_VISITS) : null;
      if (visits === 'unknown' && traverse.kind === 'own' && traverse.fn) context.undecided(traverse.fn.file, traverse.fn.line, `whether ${traverse.fn.name}() visits the managed dict of ${displayName(t)}`);
      if (traverse.kind === 'own' && traverse.owner === t && traverse.fn && visits === 'no') {
        report('notVisited', { function: traverse.fn.name, type: displayName(t) }, {
          file: traverse.fn.file, line: traverse.fn.line, column: traverse.fn.column, type: t, function: traverse.fn.name,
        });
      }
      const clearSlot = t.slots.get('tp_clear');
      const clear = clearSlot?.function ? q.findFunction(clearSlot.function, clearSlot.file) : null;
      if (clear && q.callsAny(clear, MANAGED_DICT_CLEARS) === 'no') {
        report('notCleared', { function: clear.name, type: displayName(t) }, {
          file: clear.file, line: clear.line, column: clear.column, type: t, function: clear.name,
        });
      }
    }
  },
  runtimeVerdict: (f, seen) => selfCycleVerdict(seen),
});
