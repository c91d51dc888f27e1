import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { render } from '../model/expr.js';

export const instancesNotTracked = defineRule({
  id: 'instances-not-tracked',
  summary: 'A GC type whose instances are created with PyObject_GC_New and never handed to PyObject_GC_Track.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    notTracked: 'instances of {{type}} allocated with {{allocator}}() in {{function}}() are never tracked ({{reason}}): the collector never sees them, so cycles through them leak',
  },
  fixTitle: 'Call PyObject_GC_Track(self) once the instance is fully initialised, before it is returned to Python',
  check(q, report, context) {
    for (const site of q.model.allocations) {
      if (site.allocator !== 'gc-new') continue;
      if (q.isGc(site.type).answer !== 'yes') continue;
      const tracked = q.allocationIsTracked(site);
      if (tracked.answer === 'unknown') context.undecided(site.function.file, site.call.line, `whether ${displayName(site.type)} allocated in ${site.function.name}() is tracked: ${tracked.reason}`);
      if (tracked.answer !== 'no') continue;
      report('notTracked', { type: displayName(site.type), allocator: render(site.call.callee), function: site.function.name, reason: tracked.reason }, {
        file: site.function.file, line: site.call.line, column: site.call.column, type: site.type, function: site.function.name,
      });
    }
  },
  runtimeVerdict(f, { type: t, python, typeNotFound, instanceProblem }) {
    if (!t) return typeNotFound;
    if (t.tracked === false) return { verdict: 'confirmed at run time', evidence: `gc.is_tracked(instance) is false on ${python} (instance made by ${t.instance?.via ?? '?'})` };
    if (t.tracked === true) return { verdict: 'not observed', evidence: `the instance made by ${t.instance?.via ?? '?'} is tracked on ${python}; the flagged allocation path may need a factory in [tool.capi-gc.verify]` };
    return { verdict: 'not testable', evidence: instanceProblem(t) };
  },
});
