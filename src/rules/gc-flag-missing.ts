import type { Rule } from './rule.js';
import { displayName, isGcType } from '../model/gc.js';
import { objectMembers } from '../model/members.js';

export const gcFlagMissing: Rule = {
  id: 'gc-flag-missing',
  summary: 'A heap type without Py_TPFLAGS_HAVE_GC: the collector cannot see its instances, so the type and its module never die.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 8], until: null },
  check(model, report) {
    for (const t of model.types) {
      if (t.kind !== 'heap') continue;
      const gc = isGcType(model, t);
      if (gc.answer !== 'no') continue;
      const where = t.flags.position ?? { line: t.line, column: t.column };
      const members = objectMembers(model, t);
      if (t.flags.names.has('Py_TPFLAGS_IMMUTABLETYPE') && members.known && members.members.length === 0) {
        report({
          severity: 'note',
          message: `heap type ${displayName(t)} has no Py_TPFLAGS_HAVE_GC; accepted because it is immutable and its instances hold no objects (add HAVE_GC if instances may ever join a cycle)`,
          file: t.file, ...where, type: t,
        });
        continue;
      }
      report({
        message: `heap type ${displayName(t)} lacks Py_TPFLAGS_HAVE_GC: its instances hold a reference to the type that the collector cannot see, so a cycle through an instance keeps the type and its module alive forever`,
        file: t.file, ...where, type: t,
      });
    }
  },
};
