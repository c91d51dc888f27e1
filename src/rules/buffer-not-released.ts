import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { bufferMembers } from '../model/members.js';
import { pathCovered } from '../model/protocol.js';
import { calleeName } from '../model/expr.js';
import type { FunctionFact } from '../model/model.js';

const FINALIZER_CALLS: ReadonlySet<string> = new Set(['PyObject_CallFinalizerFromDealloc']);

export const bufferNotReleased = defineRule({
  id: 'buffer-not-released',
  summary: 'A Py_buffer member that tp_dealloc never releases (PyBuffer_Release): every instance leaks the buffer\'s exporter.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    notReleased: 'tp_dealloc {{function}}() of {{type}} never calls PyBuffer_Release(&self->{{member}}): the Py_buffer member {{member}} holds a reference to its exporter, so every instance that filled it leaks the exporter, which also stays locked (a bytearray can no longer be resized)',
  },
  fixTitle: 'Call PyBuffer_Release(&self->member) in tp_dealloc (or in the tp_clear it calls) when the buffer is filled',
  check(q, report, context) {
    for (const t of q.model.types) {
      if (!t.struct) continue;
      const buffers = bufferMembers(q.model, t.struct);
      if (!buffers.length) continue;
      const slot = t.slots.get('tp_dealloc');
      // Without a dealloc of its own the type uses its base's, which knows nothing of the member: not decided here.
      const dealloc = slot?.function ? q.findFunction(slot.function, slot.file) : null;
      if (!dealloc) continue;
      const released = new Set(q.clearedPaths(dealloc).paths);
      let complete = q.clearedPaths(dealloc).complete;
      let unknown = q.clearedPaths(dealloc).unknown;
      const finalize = t.slots.get('tp_finalize');
      const finalizer = finalize?.function && callsFinalizer(dealloc) ? q.findFunction(finalize.function, finalize.file) : null;
      if (finalizer) {
        const byFinalizer = q.clearedPaths(finalizer);
        for (const p of byFinalizer.paths) released.add(p);
        complete &&= byFinalizer.complete;
        unknown ??= byFinalizer.unknown;
      }
      for (const m of buffers) {
        if (pathCovered(released, `${m.name}.obj`)) continue;
        // A buffer nothing ever fills holds nothing (PyObject_GetBuffer, PyArg_Parse* "y*" and the like are given its address).
        if (!q.storesInto(m.name).length && !q.storesInto(`${m.name}.obj`).length) continue;
        if (!complete) {
          context.undecided(dealloc.file, dealloc.line, `whether ${dealloc.name}() releases ${m.name}: it calls ${unknown}, which the analysis cannot see`);
          continue;
        }
        report('notReleased', { function: dealloc.name, type: displayName(t), member: m.name }, {
          file: t.struct.file, line: m.line, column: m.column, type: t, function: dealloc.name, member: m.name,
        });
      }
    }
  },
});

function callsFinalizer(fn: FunctionFact): boolean {
  return fn.calls.some((c) => FINALIZER_CALLS.has(calleeName(c.callee) ?? ''));
}
