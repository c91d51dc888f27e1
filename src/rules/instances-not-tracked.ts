import type { Rule } from './rule.js';
import { allocationIsTracked, displayName, isGcType } from '../model/gc.js';
import { render } from '../model/expr.js';

export const instancesNotTracked: Rule = {
  id: 'instances-not-tracked',
  summary: 'A GC type whose instances are created with PyObject_GC_New and never handed to PyObject_GC_Track.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report, context) {
    for (const site of model.allocations) {
      if (site.allocator !== 'gc-new') continue;
      if (isGcType(model, site.type).answer !== 'yes') continue;
      const tracked = allocationIsTracked(model, site);
      if (tracked.answer === 'unknown') context.undecided(site.function.file, site.call.line, `whether ${displayName(site.type)} allocated in ${site.function.name}() is tracked: ${tracked.reason}`);
      if (tracked.answer !== 'no') continue;
      report({
        message: `instances of ${displayName(site.type)} allocated with ${render(site.call.callee)}() in ${site.function.name}() are never tracked (${tracked.reason}): the collector never sees them, so cycles through them leak`,
        file: site.function.file, line: site.call.line, column: site.call.column, type: site.type, function: site.function.name,
      });
    }
  },
};
