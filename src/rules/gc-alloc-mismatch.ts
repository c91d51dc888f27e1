import type { Model } from '../model/model.js';
import type { Report, Rule } from './rule.js';
import { displayName, findFunction, isGcType } from '../model/gc.js';
import { deallocFacts } from '../model/protocol.js';
import { render } from '../model/expr.js';

const NON_GC_FREES = new Set(['PyObject_Del', 'PyObject_Free', 'PyObject_FREE', 'PyObject_DEL']);

export const gcAllocMismatch: Rule = {
  id: 'gc-alloc-mismatch',
  summary: 'Allocation or free that does not match the type: PyObject_New/PyObject_Del for a GC type, PyObject_GC_New/PyObject_GC_Del for a non-GC one.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report) {
    checkAllocations(model, report);
    checkFrees(model, report);
  },
};

function checkAllocations(model: Model, report: Report): void {
  for (const site of model.allocations) {
    const gc = isGcType(model, site.type).answer;
    const at = { file: site.function.file, line: site.call.line, column: site.call.column, type: site.type, function: site.function.name };
    if (gc === 'yes' && (site.allocator === 'new' || site.allocator === 'malloc-init')) {
      report({
        message: `${render(site.call.callee)}() in ${site.function.name}() allocates an instance of GC type ${displayName(site.type)} without the GC header: tracking or freeing it with PyObject_GC_Del corrupts memory; use PyObject_GC_New or tp_alloc`,
        ...at,
      });
    } else if (gc === 'no' && site.allocator === 'gc-new') {
      report({
        message: `${render(site.call.callee)}() in ${site.function.name}() allocates an instance of non-GC type ${displayName(site.type)} with a GC header that its tp_free (PyObject_Free) does not expect; use PyObject_New, or add Py_TPFLAGS_HAVE_GC`,
        ...at,
      });
    }
  }
}

function checkFrees(model: Model, report: Report): void {
  for (const t of model.types) {
    const gc = isGcType(model, t).answer;
    if (gc === 'unknown') continue;
    const freeSlot = t.slots.get('tp_free');
    if (freeSlot?.function) {
      if ((gc === 'yes' && NON_GC_FREES.has(freeSlot.function)) || (gc === 'no' && freeSlot.function === 'PyObject_GC_Del')) {
        report({
          message: `tp_free of ${gc === 'yes' ? 'GC' : 'non-GC'} type ${displayName(t)} is ${freeSlot.function}, which does not match its allocator: memory corruption on every free`,
          file: freeSlot.file, line: freeSlot.line, column: freeSlot.column, type: t,
        });
      }
    }
    const slot = t.slots.get('tp_dealloc');
    const fn = slot?.function ? findFunction(model, slot.function, slot.file) : null;
    if (!fn) continue;
    for (const free of deallocFacts(model, fn, null).frees) {
      const wrong = (gc === 'yes' && NON_GC_FREES.has(free.callee)) || (gc === 'no' && free.callee === 'PyObject_GC_Del');
      if (!wrong) continue;
      report({
        message: `${fn.name}() frees ${gc === 'yes' ? 'GC' : 'non-GC'} type ${displayName(t)} with ${free.callee}(), which does not match how it was allocated (${gc === 'yes' ? 'the GC header is not freed: heap corruption' : 'there is no GC header: heap corruption'}); call Py_TYPE(self)->tp_free instead`,
        file: fn.file, line: free.line, column: free.column, type: t, function: fn.name,
      });
    }
  }
}
