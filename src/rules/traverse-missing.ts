import type { Rule } from './rule.js';
import { displayName, isGcType, traverseOf } from '../model/gc.js';

export const traverseMissing: Rule = {
  id: 'traverse-missing',
  summary: 'A GC type with no tp_traverse, own or inherited: SystemError at import since 3.11, a crash in the collector before.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report) {
    for (const t of model.types) {
      if (isGcType(model, t).answer !== 'yes') continue;
      const traverse = traverseOf(model, t);
      if (traverse.kind !== 'none') continue;
      const kind = t.kind === 'heap' ? 'heap type' : 'static type';
      report({
        message: `${kind} ${displayName(t)} has Py_TPFLAGS_HAVE_GC but no tp_traverse: PyType_Ready raises SystemError at import since Python 3.11, and the collector crashes calling a NULL traverse before`,
        file: t.file, line: t.line, column: t.column, type: t,
      });
    }
  },
};
