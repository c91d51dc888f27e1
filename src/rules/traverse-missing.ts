import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { describeCrash } from '../runtime/verify.js';

/** What PyType_Ready raises (3.11+) for a GC type without tp_traverse. */
export const SYSTEM_ERROR_NO_TRAVERSE = /has the Py_TPFLAGS_HAVE_GC flag but has no traverse function/;

export const traverseMissing = defineRule({
  id: 'traverse-missing',
  summary: 'A GC type with no tp_traverse, own or inherited: SystemError at import since 3.11, a crash in the collector before.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    missing: '{{kind}} {{type}} has Py_TPFLAGS_HAVE_GC but no tp_traverse: PyType_Ready raises SystemError at import since Python 3.11, and the collector crashes calling a NULL traverse before',
  },
  fixTitle: 'Give the type a tp_traverse that visits Py_TYPE(self) (heap types) and every object member',
  check(q, report) {
    for (const t of q.model.types) {
      if (q.isGc(t).answer !== 'yes') continue;
      const traverse = q.traverseOf(t);
      if (traverse.kind !== 'none') continue;
      const kind = t.kind === 'heap' ? 'heap type' : 'static type';
      report('missing', { kind, type: displayName(t) }, { file: t.file, line: t.line, column: t.column, type: t });
    }
  },
  importErrorVerdict(importError, python) {
    if (!SYSTEM_ERROR_NO_TRAVERSE.test(importError)) return null;
    return { verdict: 'confirmed at run time', evidence: `import raises ${importError} on ${python}` };
  },
  runtimeVerdict(f, { type: t, python, typeNotFound }) {
    if (!t) return typeNotFound;
    if (t.crash?.step === 'collect_with_instance') return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${python}` };
    return t.instance?.ok ? { verdict: 'not observed', evidence: `gc.collect() with a live instance of ${t.name} works on ${python}` }
      : { verdict: 'not testable', evidence: `no instance of ${t.name} could be made` };
  },
});
