// Module facts rules ask: which state fields hold objects, and the module's traverse/clear/free functions.

import type { FunctionFact, GlobalFact, Model, ModuleInfo, StructMember } from './model.js';
import { PY_OBJECT_TYPES } from './capi.js';
import { findFunction } from './gc.js';
import { isNull, isZero } from './expr.js';
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
