// Which members of an instance struct hold object references.

import type { ExtensionType, Model, StructFact, StructMember } from './model.js';
import { PY_OBJECT_TYPES } from './builtins.js';

export interface MemberAnswer {
  /** False when the instance struct (or part of it) is not in the analysed code. */
  known: boolean;
  members: StructMember[];
}

/** Object-holding members the type adds (the PyObject head and an embedded base struct are not counted). */
export function objectMembers(model: Model, t: ExtensionType): MemberAnswer {
  if (!t.structName) {
    // basicsize 0 or absent: the instance layout is the base's; the type adds no members.
    const size = t.spec?.basicsize ?? t.staticType?.fields.tp_basicsize ?? null;
    const none = !size || size.kind === 'null' || (size.kind === 'number' && size.value === 0);
    return { known: none, members: [] };
  }
  if (!t.struct) return { known: false, members: [] };
  return { known: true, members: structObjectMembers(model, t.struct) };
}

export function structObjectMembers(model: Model, s: StructFact): StructMember[] {
  return s.members.slice(1).filter((m) => isObjectMember(model, m, s.file));
}

export function isObjectMember(model: Model, m: StructMember, file: string): boolean {
  if (m.isFunctionPointer || m.pointerDepth < 1) return false;
  const base = resolveTypedef(model, m.typeName);
  if (PY_OBJECT_TYPES.has(base.name) && m.pointerDepth + base.pointerDepth >= 1) return true;
  const s = structNamed(model, base.name, file);
  return !!s && isObjectStruct(model, s, 0) && m.pointerDepth + base.pointerDepth >= 1;
}

function resolveTypedef(model: Model, name: string): { name: string; pointerDepth: number } {
  let n = name.replace(/^struct\s*/, '');
  let depth = 0;
  for (let i = 0; i < 8; i++) {
    const td = model.typedefs.get(n);
    if (!td || td.target === n) break;
    depth += td.pointerDepth;
    n = td.target;
  }
  return { name: n, pointerDepth: depth };
}

function structNamed(model: Model, name: string, file: string): StructFact | null {
  const all = model.structs.get(name);
  if (!all?.length) return null;
  return all.find((s) => s.file === file) ?? all[0];
}

/** A struct whose first member is PyObject_HEAD (after the shim: `PyObject ob`) or another object struct. */
export function isObjectStruct(model: Model, s: StructFact, depth: number): boolean {
  if (!s.headType || depth > 6) return false;
  if (s.headType === 'PyObject' || s.headType === 'PyVarObject' || PY_OBJECT_TYPES.has(s.headType)) return true;
  const inner = structNamed(model, resolveTypedef(model, s.headType).name, s.file);
  return !!inner && inner !== s && isObjectStruct(model, inner, depth + 1);
}
