// Module facts rules ask: which state fields hold objects, and the module's traverse/clear/free functions.

import type { FunctionFact, GlobalFact, Model, ModuleInfo, StructMember } from './model.js';
import { MODULE_OBJECT_CALLS, PY_OBJECT_TYPES, UNCLEARABLE_HOLDERS } from './capi.js';
import { findFunction } from './gc.js';
import { calleeName, fieldOf, isName, isNull, isZero } from './expr.js';
import type { Expr } from './facts.js';
import { isObjectMember, markedBorrowed } from './members.js';

/** Object-holding fields of the module state, or null when the state struct is unknown. */
export function moduleStateFields(model: Model, mod: ModuleInfo): StructMember[] | null {
  if (mod.size !== 'state' || !mod.stateStruct) return null;
  return mod.stateStruct.members.filter((m) => isObjectMember(model, m, mod.stateStruct!.file) && !markedBorrowed(m) && !/freelist|free_list/i.test(m.name));
}

export function moduleFunction(model: Model, mod: ModuleInfo, field: 'm_traverse' | 'm_clear' | 'm_free'): FunctionFact | 'none' | 'unknown' {
  const v = mod.def.fields[field];
  if (!v || isNull(v) || isZero(v)) return 'none';
  if (v.k !== 'name') return 'unknown';
  return findFunction(model, v.name, mod.def.file) ?? 'unknown';
}

export function moduleDisplayName(mod: ModuleInfo): string {
  return mod.name ?? mod.def.cName;
}

/** `static PyObject *X;` / `static PyTypeObject *X;` globals of a file that some function stores an object in. */
export function staticObjectGlobals(model: Model, file: string): GlobalFact[] {
  const facts = model.symbols.facts(file);
  if (!facts) return [];
  const assigned = new Set<string>();
  for (const fn of facts.functions) for (const a of fn.assignments) if (!isNull(a.value) && a.target.k === 'name') assigned.add(a.target.name);
  return facts.globals.filter((g) => g.isStatic && g.pointerDepth === 1 && PY_OBJECT_TYPES.has(g.typeName) && assigned.has(g.name));
}

/**
 * State fields known to hold an object that refers back to the module and has no tp_clear to drop that reference:
 * a builtin function bound to the module (`PyCFunction_NewEx(&def, module, NULL)`). Through such a field the state
 * closes a cycle module -> state -> function -> module that only m_clear can break. (A heap type created with the
 * module does not count: type_clear drops its ht_module.)
 */
export function stateFieldsHoldingModule(model: Model, fields: readonly StructMember[]): StructMember[] {
  const names = new Set(fields.map((f) => f.name));
  const holding = new Set<string>();
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      for (const call of fn.calls) {
        const callee = calleeName(call.callee);
        if (callee === null || !Object.hasOwn(UNCLEARABLE_HOLDERS, callee)) continue;
        const self = call.args[UNCLEARABLE_HOLDERS[callee]];
        if (!self || self.k !== 'name' || !isModuleObject(model, fn, self.name, 0)) continue;
        for (const place of placesReceiving(fn, call.assignedTo)) {
          const field = fieldOf(place);
          if (field !== null && names.has(field)) holding.add(field);
        }
      }
    }
  }
  return fields.filter((f) => holding.has(f.name));
}

/** `name` is used as a module object in `fn` (its state is read, objects are added to it), directly or by a helper. */
function isModuleObject(model: Model, fn: FunctionFact, name: string, depth: number): boolean {
  return fn.calls.some((c) => {
    const callee = calleeName(c.callee);
    if (callee === null) return false;
    const at = c.args.findIndex((a) => isName(a, name));
    if (at < 0) return false;
    if (at === 0 && MODULE_OBJECT_CALLS.has(callee)) return true;
    const helper = depth < 2 ? findFunction(model, callee, fn.file) : null;
    const param = helper?.params[at]?.name;
    return !!helper && helper !== fn && !!param && isModuleObject(model, helper, param, depth + 1);
  });
}

/** The place a result is stored in, and where a local holding it is copied to (`st->hook = f;`). */
function placesReceiving(fn: FunctionFact, assignedTo: Expr | null): Expr[] {
  if (!assignedTo) return [];
  const out = [assignedTo];
  if (assignedTo.k === 'name') for (const a of fn.assignments) if (isName(a.value, assignedTo.name)) out.push(a.target);
  return out;
}
