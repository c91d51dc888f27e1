import type { Model, ModuleInfo } from '../model/model.js';
import type { Report, Rule } from './rule.js';
import { staticObjectGlobals } from '../model/modules.js';
import { moduleStateFields, moduleFunction, moduleDisplayName } from '../model/modules.js';
import { visitedPaths } from '../model/protocol.js';
import { fieldHoldsOnlyLeafObjects } from '../model/members.js';

export const moduleStateNotTraversed: Rule = {
  id: 'module-state-not-traversed',
  summary: 'Module state holds objects (types, exceptions) that m_traverse does not visit: the module and its types never die.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  check(model, report, context) {
    for (const mod of model.modules) {
      noteStaticGlobals(model, mod, report);
      // Strings and numbers kept in state cannot be part of a cycle: not visiting them leaks nothing.
      const fields = moduleStateFields(model, mod)?.filter((f) => !fieldHoldsOnlyLeafObjects(model, f.name));
      if (!fields?.length) continue;
      const name = moduleDisplayName(mod);
      const traverse = moduleFunction(model, mod, 'm_traverse');
      if (traverse === 'none') {
        report({
          message: `module ${name} keeps objects in its state (${fields.map((f) => f.name).join(', ')}) but has no m_traverse: the collector cannot see the module ↔ type cycle, so the module, its types and everything they hold leak`,
          file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
        });
        continue;
      }
      if (traverse === 'unknown') continue;
      const visited = visitedPaths(model, traverse);
      if (!visited.complete) {
        context.undecided(traverse.file, traverse.line, `which state fields ${traverse.name}() visits: it calls ${visited.unknown}, which the analysis cannot see`);
        continue;
      }
      for (const f of fields) {
        if (visited.paths.has(f.name)) continue;
        report({
          message: `${traverse.name}() of module ${name} does not visit state field ${f.name}: a cycle through it (a type created with PyType_FromModuleAndSpec refers back to the module) is invisible and leaks`,
          file: mod.stateStruct!.file, line: f.line, column: f.column, module: mod.name, function: traverse.name, member: f.name,
        });
      }
    }
  },
};

/** Single-phase modules keep objects in C globals: shared by every interpreter, never traversed or cleared. */
function noteStaticGlobals(model: Model, mod: ModuleInfo, report: Report): void {
  if (mod.size !== 'none') return;
  const globals = staticObjectGlobals(model, mod.def.file);
  if (!globals.length) return;
  const names = globals.slice(0, 6).map((g) => g.name).join(', ') + (globals.length > 6 ? ', …' : '');
  report({
    severity: 'note',
    message: `single-phase module ${moduleDisplayName(mod)} keeps objects in static globals (${names}): they are shared by every interpreter and no m_traverse can see them; moving them to module state (m_size, m_traverse, m_clear) lets the module and its types be collected`,
    file: mod.def.file, line: mod.def.line, column: mod.def.column, module: mod.name,
  });
}
