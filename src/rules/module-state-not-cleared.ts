import { defineRule } from './rule.js';
import { moduleDisplayName } from '../model/modules.js';
import { freshModuleVerdict } from './verdicts.js';
import { render } from '../model/expr.js';
import type { Expr } from '../model/facts.js';

/** `foo_free()` for a function name, else the expression as written. */
function freeName(v: Expr | undefined): string {
  return v?.k === 'name' ? `${v.name}()` : v ? render(v) : 'm_free';
}

export const moduleStateNotCleared = defineRule({
  id: 'module-state-not-cleared',
  summary: 'Module state holds objects that neither m_clear nor m_free releases: the cycle through the module is never broken.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    noClearNorFree: 'module {{module}} keeps objects in its state ({{fields}}) but has neither m_clear nor m_free: they are never released, so the module and its types leak',
    fieldNotReleased: '{{functions}} of module {{module}} never releases state field {{field}}: the object it holds leaks when the module is freed, and a cycle through it is never broken',
    fieldNotReleasedByEither: '{{functions}} of module {{module}} never release state field {{field}}: the object it holds leaks when the module is freed, and a cycle through it is never broken',
    freeWithoutClear: 'module {{module}} has m_free {{free}} but no m_clear, and its state holds {{fields}}, a function bound to the module (no tp_clear of its own): the collector finds the cycle module -> state -> function -> module but cannot break it, and m_free runs only once the module is freed, so the module and its state leak',
  },
  fixTitle: 'Py_CLEAR every object field of the module state in m_clear (and call m_clear from m_free)',
  check(q, report) {
    for (const mod of q.model.modules) {
      const fields = q.moduleStateFields(mod);
      if (!fields?.length) continue;
      const name = moduleDisplayName(mod);
      const clear = q.moduleFunction(mod, 'm_clear');
      const free = q.moduleFunction(mod, 'm_free');
      if (clear === 'none' && free === 'none') {
        report('noClearNorFree', { module: name, fields: fields.map((f) => f.name).join(', ') }, {
          file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
        });
        continue;
      }
      const holders = clear === 'none' ? q.stateFieldsHoldingModule(mod) : [];
      if (holders.length) {
        // The collector breaks a cycle only through tp_clear, which for a module calls m_clear; m_free comes later.
        report('freeWithoutClear', { module: name, fields: holders.map((f) => f.name).join(', '), free: freeName(mod.def.fields.m_free) }, {
          severity: 'warning', file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
        });
      }
      if (clear === 'unknown' || free === 'unknown') continue;
      const cleared = new Set<string>();
      let complete = true;
      for (const fn of [clear, free]) {
        if (fn === 'none') continue;
        const r = q.clearedPaths(fn);
        for (const p of r.paths) cleared.add(p);
        complete &&= r.complete;
      }
      if (!complete) continue;
      const releasing = [clear, free].filter((f) => f !== 'none');
      const functions = releasing.map((f) => `${f.name}()`).join(' and ');
      for (const f of fields) {
        if (cleared.has(f.name)) continue;
        report(releasing.length > 1 ? 'fieldNotReleasedByEither' : 'fieldNotReleased', { functions, module: name, field: f.name }, {
          file: mod.stateStruct!.file, line: f.line, column: f.column, module: mod.name, member: f.name,
        });
      }
    }
  },
  runtimeVerdict: (f, seen) => freshModuleVerdict(seen),
});
