import type { Rule } from './rule.js';
import { moduleStateFields, moduleFunction, moduleDisplayName } from '../model/modules.js';
import { clearedPaths } from '../model/protocol.js';

export const moduleStateNotCleared: Rule = {
  id: 'module-state-not-cleared',
  summary: 'Module state holds objects that neither m_clear nor m_free releases: the cycle through the module is never broken.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report) {
    for (const mod of model.modules) {
      const fields = moduleStateFields(model, mod);
      if (!fields?.length) continue;
      const name = moduleDisplayName(mod);
      const clear = moduleFunction(model, mod, 'm_clear');
      const free = moduleFunction(model, mod, 'm_free');
      if (clear === 'none' && free === 'none') {
        report({
          message: `module ${name} keeps objects in its state (${fields.map((f) => f.name).join(', ')}) but has neither m_clear nor m_free: they are never released, so the module and its types leak`,
          file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
        });
        continue;
      }
      if (clear === 'unknown' || free === 'unknown') continue;
      const cleared = new Set<string>();
      let complete = true;
      for (const fn of [clear, free]) {
        if (fn === 'none') continue;
        const r = clearedPaths(model, fn);
        for (const p of r.paths) cleared.add(p);
        complete &&= r.complete;
      }
      if (!complete) continue;
      const names = [clear, free].filter((f) => f !== 'none').map((f) => `${(f as { name: string }).name}()`).join(' and ');
      for (const f of fields) {
        if (cleared.has(f.name)) continue;
        report({
          message: `${names} of module ${name} never release${names.includes(' and ') ? '' : 's'} state field ${f.name}: the object it holds leaks when the module is freed, and a cycle through it is never broken`,
          file: mod.stateStruct!.file, line: f.line, column: f.column, module: mod.name, member: f.name,
        });
      }
    }
  },
};
