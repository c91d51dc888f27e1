import type { Rule } from './rule.js';
import { displayName, isGcType } from '../model/gc.js';

export const gcAllocMismatch: Rule = {
  id: 'gc-alloc-mismatch',
  summary: 'A GC type allocated without the GC header (PyObject_New), or a non-GC type allocated with PyObject_GC_New.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report) {
    for (const site of model.allocations) {
      const gc = isGcType(model, site.type).answer;
      const at = { file: site.function.file, line: site.call.line, column: site.call.column, type: site.type, function: site.function.name };
      if (gc === 'yes' && (site.allocator === 'new' || site.allocator === 'malloc-init')) {
        report({
          message: `${site.call.callee}() in ${site.function.name}() allocates an instance of GC type ${displayName(site.type)} without the GC header: tracking or freeing it with PyObject_GC_Del corrupts memory; use PyObject_GC_New or tp_alloc`,
          ...at,
        });
      } else if (gc === 'no' && site.allocator === 'gc-new') {
        report({
          message: `${site.call.callee}() in ${site.function.name}() allocates an instance of non-GC type ${displayName(site.type)} with a GC header that its tp_free (PyObject_Free) does not expect; use PyObject_New, or add Py_TPFLAGS_HAVE_GC`,
          ...at,
        });
      }
    }
  },
};
