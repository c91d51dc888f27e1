import { defineRule, type Report } from './rule.js';
import type { ModuleInfo } from '../model/model.js';
import { moduleDisplayName } from '../model/modules.js';
import type { Queries } from '../model/queries.js';
import { freshModuleVerdict } from './verdicts.js';

const messages = {
  noTraverse: 'module {{module}} keeps objects in its state ({{fields}}) but has no m_traverse: the collector cannot see the module ↔ type cycle, so the module, its types and everything they hold leak',
  fieldNotVisited: '{{function}}() of module {{module}} does not visit state field {{field}}: a cycle through it (a type created with PyType_FromModuleAndSpec refers back to the module) is invisible and leaks',
  staticGlobals: 'single-phase module {{module}} keeps objects in static globals ({{globals}}): they are shared by every interpreter and no m_traverse can see them; moving them to module state (m_size, m_traverse, m_clear) lets the module and its types be collected',
} as const;

export const moduleStateNotTraversed = defineRule({
  id: 'module-state-not-traversed',
  summary: 'Module state holds objects (types, exceptions) that m_traverse does not visit: the module and its types never die.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages,
  fixTitle: 'Py_VISIT every object field of the module state in m_traverse',
  check(q, report, context) {
    for (const mod of q.model.modules) {
      noteStaticGlobals(q, mod, report);
      // Strings and numbers kept in state cannot be part of a cycle: not visiting them leaks nothing.
      const fields = q.moduleStateFields(mod)?.filter((f) => !q.fieldHoldsOnlyLeafObjects(f.name));
      if (!fields?.length) continue;
      const name = moduleDisplayName(mod);
      const traverse = q.moduleFunction(mod, 'm_traverse');
      if (traverse === 'none') {
        report('noTraverse', { module: name, fields: fields.map((f) => f.name).join(', ') }, {
          file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
        });
        continue;
      }
      if (traverse === 'unknown') continue;
      const visited = q.visitedPaths(traverse);
      if (!visited.complete) {
        context.undecided(traverse.file, traverse.line, `which state fields ${traverse.name}() visits: it calls ${visited.unknown}, which the analysis cannot see`);
        continue;
      }
      for (const f of fields) {
        if (visited.paths.has(f.name)) continue;
        report('fieldNotVisited', { function: traverse.name, module: name, field: f.name }, {
          file: mod.stateStruct!.file, line: f.line, column: f.column, module: mod.name, function: traverse.name, member: f.name,
        });
      }
    }
  },
  runtimeVerdict: (f, seen) => freshModuleVerdict(seen),
});

/** Single-phase modules keep objects in C globals: shared by every interpreter, never traversed or cleared. */
function noteStaticGlobals(q: Queries, mod: ModuleInfo, report: Report<keyof typeof messages>): void {
  if (mod.size !== 'none') return;
  const globals = q.staticObjectGlobals(mod.def.file);
  if (!globals.length) return;
  const names = globals.slice(0, 6).map((g) => g.name).join(', ') + (globals.length > 6 ? ', …' : '');
  report('staticGlobals', { module: moduleDisplayName(mod), globals: names }, {
    severity: 'note', file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
  });
}
