import { defineRule, type Report } from './rule.js';
import { displayName } from '../model/gc.js';
import type { Queries } from '../model/queries.js';
import type { ExtensionType } from '../model/model.js';
import { NON_GC_FREES } from '../model/capi.js';
import { describeCrash } from '../runtime/verify.js';
import { isNullOrZero, render } from '../model/expr.js';

const messages = {
  gcAllocatedWithoutHeader: '{{allocator}}() in {{function}}() allocates an instance of GC type {{type}} without the GC header: tracking or freeing it with PyObject_GC_Del corrupts memory; use PyObject_GC_New or tp_alloc',
  nonGcAllocatedWithHeader: '{{allocator}}() in {{function}}() allocates an instance of non-GC type {{type}} with a GC header that its tp_free (PyObject_Free) does not expect; use PyObject_New, or add Py_TPFLAGS_HAVE_GC',
  gcTpFree: 'tp_free of GC type {{type}} is {{free}}, which does not match its allocator: memory corruption on every free',
  nonGcTpFree: 'tp_free of non-GC type {{type}} is {{free}}, which does not match its allocator: memory corruption on every free',
  gcFreedWithoutHeader: '{{function}}() frees GC type {{type}} with {{free}}(), which does not match how it was allocated (the GC header is not freed: heap corruption); call Py_TYPE(self)->tp_free instead',
  nonGcFreedWithHeader: '{{function}}() frees non-GC type {{type}} with {{free}}(), which does not match how it was allocated (there is no GC header: heap corruption); call Py_TYPE(self)->tp_free instead',
  subclassFreedWithFixedFree: '{{function}}() frees instances of subclassable type {{type}} with {{free}}(), which fits {{type}} itself but not its subclasses: a Python subclass (`class S({{short}}): pass`) is a GC type whose instances carry the GC header before the object, so {{free}}() is handed a pointer its allocator never returned: an abort under PYTHONMALLOC=debug, heap corruption otherwise; call Py_TYPE(self)->tp_free(self) instead',
} as const;

type MessageId = keyof typeof messages;

export const gcAllocMismatch = defineRule({
  id: 'gc-alloc-mismatch',
  summary: 'Allocation or free that does not match the type: PyObject_New/PyObject_Del for a GC type, PyObject_GC_New/PyObject_GC_Del for a non-GC one.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages,
  fixTitle: 'Allocate GC types with PyObject_GC_New or tp_alloc and non-GC ones with PyObject_New; free through Py_TYPE(self)->tp_free',
  check(q, report) {
    checkAllocations(q, report);
    checkFrees(q, report);
  },
  runtimeVerdict(f, { type: t, python, typeNotFound }) {
    if (!t) return typeNotFound;
    if (t.crash) return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${python}` };
    return { verdict: 'not testable', evidence: `no crash seen on ${python}; memory corruption need not show at once` };
  },
});

function checkAllocations(q: Queries, report: Report<MessageId>): void {
  for (const site of q.model.allocations) {
    const gc = q.isGc(site.type).answer;
    const at = { file: site.function.file, line: site.call.line, column: site.call.column, type: site.type, function: site.function.name };
    const data = { allocator: render(site.call.callee), function: site.function.name, type: displayName(site.type) };
    if (gc === 'yes' && (site.allocator === 'new' || site.allocator === 'malloc-init')) report('gcAllocatedWithoutHeader', data, at);
    else if (gc === 'no' && site.allocator === 'gc-new') report('nonGcAllocatedWithHeader', data, at);
  }
}

function checkFrees(q: Queries, report: Report<MessageId>): void {
  for (const t of q.model.types) {
    const gc = q.isGc(t).answer;
    if (gc === 'unknown') continue;
    const freeSlot = t.slots.get('tp_free');
    if (freeSlot?.function) {
      if ((gc === 'yes' && NON_GC_FREES.has(freeSlot.function)) || (gc === 'no' && freeSlot.function === 'PyObject_GC_Del')) {
        report(gc === 'yes' ? 'gcTpFree' : 'nonGcTpFree', { type: displayName(t), free: freeSlot.function }, {
          file: freeSlot.file, line: freeSlot.line, column: freeSlot.column, type: t,
        });
      }
    }
    const slot = t.slots.get('tp_dealloc');
    const fn = slot?.function ? q.findFunction(slot.function, slot.file) : null;
    if (!fn) continue;
    const frees = q.deallocFacts(fn, null).frees;
    // A Python subclass gets HAVE_GC and tp_free = PyObject_GC_Del; this dealloc still runs for its instances,
    // unless it frees those through tp_free (`float_dealloc`: a free list for exact floats, tp_free otherwise).
    const subclassed = gc === 'no' && t.flags.names.has('Py_TPFLAGS_BASETYPE') && !frees.some((f) => f.viaSlot) && subclassesInstantiable(q, t);
    for (const free of frees) {
      const wrong = (gc === 'yes' && NON_GC_FREES.has(free.callee)) || (gc === 'no' && free.callee === 'PyObject_GC_Del');
      if (!wrong) {
        if (subclassed && free.ofObject && NON_GC_FREES.has(free.callee)) {
          const name = displayName(t);
          report('subclassFreedWithFixedFree', { function: fn.name, type: name, free: free.callee, short: name.slice(name.lastIndexOf('.') + 1) }, {
            file: fn.file, line: free.line, column: free.column, type: t, function: fn.name,
          });
        }
        continue;
      }
      report(gc === 'yes' ? 'gcFreedWithoutHeader' : 'nonGcFreedWithHeader', { function: fn.name, type: displayName(t), free: free.callee }, {
        file: fn.file, line: free.line, column: free.column, type: t, function: fn.name,
      });
    }
  }
}

/**
 * Can a Python subclass of `t` have instances? It inherits tp_new: not when that is a function that only fails
 * (`_disabled_new`), nor when a static type has none (static types do not inherit object's); a heap type without
 * one gets object's.
 */
function subclassesInstantiable(q: Queries, t: ExtensionType, seen = new Set<ExtensionType>()): boolean {
  if (seen.has(t) || t.flags.names.has('Py_TPFLAGS_DISALLOW_INSTANTIATION')) return false;
  seen.add(t);
  const own = t.slots.get('tp_new');
  if (own?.function) {
    const fn = q.findFunction(own.function, own.file);
    return !fn || !fn.returns.length || !fn.returns.every((r) => isNullOrZero(r));
  }
  if (own?.expression || !t.slotsKnown || !t.basesKnown) return false;
  const base = t.bases[0];
  if (!base) return t.kind === 'heap';
  if (base.kind === 'model') return subclassesInstantiable(q, base.type, seen);
  return base.kind === 'builtin';
}
