import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';

export const gcFlagMissing = defineRule({
  id: 'gc-flag-missing',
  summary: 'A heap type without Py_TPFLAGS_HAVE_GC: the collector cannot see its instances, so the type and its module never die.',
  defaultSeverity: 'error',
  appliesTo: { from: [3, 8], until: null },
  messages: {
    missing: 'heap type {{type}} lacks Py_TPFLAGS_HAVE_GC: its instances hold a reference to the type that the collector cannot see, so a cycle through an instance keeps the type and its module alive forever',
    acceptedImmutable: 'heap type {{type}} has no Py_TPFLAGS_HAVE_GC; accepted because it is immutable and its instances hold no objects (add HAVE_GC if instances may ever join a cycle)',
  },
  fixTitle: 'Add Py_TPFLAGS_HAVE_GC to the spec flags, with a tp_traverse that visits Py_TYPE(self) and every object member',
  check(q, report) {
    for (const t of q.model.types) {
      if (t.kind !== 'heap') continue;
      if (q.isGc(t).answer !== 'no') continue;
      const where = t.flags.position ?? { line: t.line, column: t.column };
      const members = q.objectMembers(t);
      if (t.flags.names.has('Py_TPFLAGS_IMMUTABLETYPE') && members.known && members.members.length === 0) {
        report('acceptedImmutable', { type: displayName(t) }, { severity: 'note', file: t.file, ...where, type: t });
        continue;
      }
      report('missing', { type: displayName(t) }, { file: t.file, ...where, type: t });
    }
  },
  runtimeVerdict(f, { type: t, python, moduleLeak, typeNotFound }) {
    if (!t) return typeNotFound;
    return t.gc ? { verdict: 'not observed', evidence: `${t.name} has Py_TPFLAGS_HAVE_GC on ${python}` }
      : { verdict: 'confirmed at run time', evidence: `${t.name} lacks Py_TPFLAGS_HAVE_GC on ${python}${moduleLeak ? `; ${moduleLeak}` : ''}` };
  },
});
