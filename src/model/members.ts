// Which members of an instance struct hold object references.

import type { Expr } from './facts.js';
import type { AllocationSite, ExtensionType, FunctionFact, Model, StructFact, StructMember } from './model.js';
import {
  ADDRESS_RELEASING_CALLS, ATOMIC_SINGLETONS, LEAF_OBJECT_TYPES, NEW_REFERENCE_CALLS, PY_OBJECT_TYPES, REASSIGNING_CALLS,
  OBJECT_HOLDING_API_STRUCTS, SELF_CLEARING_CONTAINER_CONSTRUCTORS, isAtomicConstructor,
} from './capi.js';
import { calleeName, isArrowSlot, isNull, isZero, memberChain, nameOf, type Step } from './expr.js';

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
    const none = !size || isNull(size) || isZero(size);
    return { known: none, members: [] };
  }
  if (!t.struct) return { known: false, members: [] };
  return { known: true, members: structObjectMembers(model, t.struct) };
}

export function structObjectMembers(model: Model, s: StructFact): StructMember[] {
  return s.members.slice(1).flatMap((m) => (isObjectMember(model, m, s.file) ? [m] : heldThroughApiStruct(model, m, s.file)));
}

/** `Py_buffer view;` → the member `view.obj` (a `PyObject *`): the reference the buffer holds to its exporter. */
export function heldThroughApiStruct(model: Model, m: StructMember, file: string): StructMember[] {
  const base = model.symbols.resolveTypedef(m.typeName, file);
  const fields = Object.hasOwn(OBJECT_HOLDING_API_STRUCTS, base.name) ? OBJECT_HOLDING_API_STRUCTS[base.name] : null;
  if (!fields || m.isFunctionPointer || m.pointerDepth + base.pointerDepth !== 0) return [];
  // The declared type stays `Py_buffer`: what holds the reference is the struct.
  return fields.map((f) => ({ ...m, name: `${m.name}.${f}` }));
}

/** The member `view.obj` of a `Py_buffer view;` of a struct in `file`: the buffer's exporter. */
export function isHeldThroughApiStruct(model: Model, m: StructMember, file: string): boolean {
  const base = model.symbols.resolveTypedef(m.typeName, file);
  return Object.hasOwn(OBJECT_HOLDING_API_STRUCTS, base.name) && m.pointerDepth + base.pointerDepth === 0;
}

/** Members of a C-API struct type holding an object (`Py_buffer view;`), by member name. */
export function bufferMembers(model: Model, s: StructFact): StructMember[] {
  return s.members.slice(1).filter((m) => heldThroughApiStruct(model, m, s.file).length > 0);
}

export function isObjectMember(model: Model, m: StructMember, file: string): boolean {
  if (m.isFunctionPointer) return false;
  const base = model.symbols.resolveTypedef(m.typeName, file);
  // `typedef PyObject *pyref; pyref x;`: the pointer can be in the typedef.
  if (m.pointerDepth + base.pointerDepth < 1) return false;
  if (PY_OBJECT_TYPES.has(base.name) && m.pointerDepth + base.pointerDepth >= 1) return true;
  const s = model.symbols.struct(base.name, file);
  return !!s && isObjectStruct(model, s, 0) && m.pointerDepth + base.pointerDepth >= 1;
}

/** A struct whose first member is PyObject_HEAD (after the shim: `PyObject ob`) or another object struct. */
export function isObjectStruct(model: Model, s: StructFact, depth: number): boolean {
  if (!s.headType || depth > 6) return false;
  if (s.headType === 'PyObject' || s.headType === 'PyVarObject' || PY_OBJECT_TYPES.has(s.headType)) return true;
  const inner = model.symbols.struct(model.symbols.resolveTypedef(s.headType, s.file).name, s.file);
  return !!inner && inner !== s && isObjectStruct(model, inner, depth + 1);
}

/** A member whose declared type cannot reference other objects (`PyUnicodeObject *`): it cannot be part of a cycle. */
export function memberCannotHoldObjects(model: Model, m: StructMember): boolean {
  const file = model.symbols.structOf(m)?.file;
  return LEAF_OBJECT_TYPES.has(file ? model.symbols.resolveTypedef(m.typeName, file).name : m.typeName.replace(/^struct\s*/, ''));
}

/**
 * Members the instance does not own a strong reference through: the weak-reference list head, and members the
 * code marks as borrowed in a comment.
 */
export function isNotOwned(t: ExtensionType, m: StructMember): boolean {
  if (markedBorrowed(m)) return true;
  // Weak-reference list heads and free lists hold memory or weak links, not strong references.
  if (/weakref|weaklist|freelist|free_list/i.test(m.name)) return true;
  const offset = t.staticType?.fields.tp_weaklistoffset;
  return !!offset && offsetofMember(offset) === m.name;
}

/** `offsetof(FooObject, weakreflist)` → weakreflist. */
function offsetofMember(e: Expr): string | null {
  if (e.k === 'offsetof') return e.member;
  if (e.k === 'call' && calleeName(e.callee) === 'offsetof' && e.args.length === 2) return nameOf(e.args[1]);
  return null;
}

/** A comment that says the member is borrowed (and not "not borrowed"). */
export function markedBorrowed(m: StructMember): boolean {
  if (!m.comment) return false;
  if (/\bweak\s*-?\s*ref/i.test(m.comment)) return true;
  return /\bborrowed\b/i.test(m.comment) && !/\bnot\s+borrowed\b/i.test(m.comment);
}

/** A new string, number or bytes object: `PyUnicode_FromString("x")`. */
function isLeafConstruction(e: Expr): boolean {
  return e.k === 'call' && isAtomicConstructor(calleeName(e.callee));
}

/**
 * The member an assignment stores into, as written after the last arrow: `x->a.b` and `x->a.b[i]` → `a.b`;
 * null when the target is not such a member (`x->a[i].b`, a plain variable).
 */
function storedField(target: Expr): string | null {
  const { steps } = memberChain(target);
  const end = steps.at(-1)?.k === 'index' ? steps.length - 1 : steps.length;
  let start = end;
  while (start > 0 && steps[start - 1].k === 'dot') start--;
  if (start === 0 || steps[start - 1].k !== 'arrow') return null;
  return fields(steps.slice(start - 1, end));
}

function fields(steps: Step[]): string {
  return steps.flatMap((s) => (s.k === 'index' ? [] : [s.field])).join('.');
}

/**
 * `var->a.b…` → var and `a.b` (the dotted run right after the first arrow); a cast macro's result counts as its
 * argument (`FooObject_CAST(op)->a` → op); null for anything else.
 */
function variableMember(target: Expr): { variable: string; path: string } | null {
  const chain = memberChain(target);
  const { steps } = chain;
  let root = chain.root;
  if (root.k === 'call' && root.callee.k === 'name' && root.args.length === 1 && root.args[0].k === 'name') root = root.args[0];
  if (root.k !== 'name' || steps[0]?.k !== 'arrow') return null;
  let end = 1;
  while (end < steps.length && steps[end].k === 'dot') end++;
  return { variable: root.name, path: fields(steps.slice(0, end)) };
}

/**
 * True when every assignment to `<anything>->name` in the analysed code stores a new string, number or bytes
 * object: such a field can never be part of a reference cycle.
 */
export function fieldHoldsOnlyLeafObjects(name: string, stores: FieldStores): boolean {
  // CPython's convention for interned strings kept in state (often filled by token-pasting macros).
  if (/^str_\w+$/.test(name)) return true;
  const entry = stores.get(name);
  return !!entry && entry.count > 0 && entry.leaf;
}

export type FieldStores = ReadonlyMap<string, { readonly leaf: boolean; readonly count: number }>;

/** For every `x->field = value` (or `MACRO(x->field, value)`) in the code: whether all values are leaf objects. */
export function fieldStores(model: Model): FieldStores {
  const stores = new Map<string, { leaf: boolean; count: number }>();
  const record = (field: string, leaf: boolean) => {
    const e = stores.get(field) ?? { leaf: true, count: 0 };
    e.leaf &&= leaf;
    e.count++;
    stores.set(field, e);
  };
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      for (const a of fn.assignments) {
        const field = storedField(a.target);
        if (field && !isNull(a.value)) record(field, isLeafConstruction(a.value));
      }
      // `ASSIGN_PTR(st->field[i], PyUnicode_InternFromString(...))`: an assignment hidden in a macro.
      for (const c of fn.calls) {
        const callee = calleeName(c.callee);
        if (callee === null || !model.symbols.macro(callee, fn.file, 'function')) continue;
        const target = c.args.findIndex((x) => storedField(x) !== null);
        if (target < 0) continue;
        record(storedField(c.args[target])!, c.args.some((x, i) => i !== target && isLeafConstruction(x)));
      }
    }
  }
  return stores;
}

const ALLOCATING_CALL = /^(_?PyObject_(GC_)?New(Var)?|PyType_GenericAlloc|PyType_GenericNew)$/;

function allocates(call: { callee: Expr }): boolean {
  return ALLOCATING_CALL.test(calleeName(call.callee) ?? '') || isArrowSlot(call.callee, 'tp_alloc');
}

/**
 * Whether the code can change a member after construction: it is assigned (or Py_SETREF'd) in a function other
 * than the type's tp_new, the functions that allocate its instances, and its tp_dealloc/tp_clear. A member set
 * once at construction cannot close a new cycle later, so it does not need tp_clear to break one.
 */
export function isMutableMember(t: ExtensionType, m: StructMember, construction: ConstructionFacts, writes: MemberWrites): boolean {
  const { constructors, writableFields, accessors } = construction;
  const structNames = new Set(t.struct?.names ?? (t.structName ? [t.structName] : []));
  const top = m.name.split('.')[0];
  // Exposed as a writable attribute (PyMemberDef without READONLY): Python code can store anything there.
  if (writableFields.has(m.name)) return true;
  // A function that allocates an instance of this layout itself (`PyObject_GC_New(FooObject, type)`) builds it.
  const allocatesThisLayout = (fn: FunctionFact) => fn.calls.some(allocates)
    && fn.locals.some((l) => structNames.has(l.typeName));
  // Through a variable of this layout, or through `PyObject *self` in one of the type's own setters, methods and
  // slot functions (`((FooObject *)op)->x = v`, `FooObject_CAST(op)->x = v`).
  const isThisType = (w: MemberWrites extends ReadonlyMap<string, readonly (infer W)[]> ? W : never) =>
    structNames.has(w.baseType) || (accessors.has(w.fn.name) && !isStructName(w.baseType));
  const changes = (w: Parameters<typeof isThisType>[0]) => isThisType(w) && !constructors.has(w.fn.name) && !allocatesThisLayout(w.fn);
  if ((writes.get(m.name) ?? []).some(changes)) return true;
  return top !== m.name && (writes.get(top) ?? []).some(changes);
}

export type MemberWrites = ReadonlyMap<string, readonly { readonly fn: FunctionFact; readonly baseType: string }[]>;

/** Every non-NULL store into `var->member` (assignment or Py_SETREF), with the declared type of `var`. */
export function memberWrites(model: Model): MemberWrites {
  const writes = new Map<string, { fn: FunctionFact; baseType: string }[]>();
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      const record = (target: Expr | undefined) => {
        const mm = target ? variableMember(target) : null;
        if (!mm) return;
        const v = fn.params.find((x) => x.name === mm.variable) ?? fn.locals.find((x) => x.name === mm.variable);
        if (!v) return;
        const list = writes.get(mm.path) ?? [];
        list.push({ fn, baseType: v.typeName });
        writes.set(mm.path, list);
      };
      // Storing NULL (an exhausted iterator dropping its sequence) cannot close a cycle.
      for (const a of fn.assignments) if (!isNull(a.value)) record(a.target);
      for (const c of fn.calls) {
        const callee = calleeName(c.callee);
        if (REASSIGNING_CALLS.has(callee ?? '')) record(c.args[0]);
        // A call given the member's address can store into it (`PyArg_ParseTuple(args, "O", &self->x)`).
        else if (!ADDRESS_RELEASING_CALLS.has(callee ?? '')) for (const a of c.args) if (a.k === 'addr') record(a.of);
      }
    }
  }
  return writes;
}

export interface ConstructionFacts {
  readonly constructors: ReadonlySet<string>;
  readonly writableFields: ReadonlySet<string>;
  /** The type's own functions that get the instance as `self`: slot functions, methods, getters and setters. */
  readonly accessors: ReadonlySet<string>;
}

/**
 * The functions that build a type's instances (tp_new, tp_vectorcall, allocation sites and what they call, plus
 * dealloc/clear/finalize) and the object fields its PyMemberDef table exposes as writable.
 */
export function constructionFacts(model: Model, t: ExtensionType, allocations: readonly AllocationSite[]): ConstructionFacts {
  const constructors = new Set<string>();
  const followed = new Set<FunctionFact>();
  let level: FunctionFact[] = [];
  const add = (name: string, fn: FunctionFact | null) => {
    constructors.add(name);
    if (fn && !followed.has(fn)) {
      followed.add(fn);
      level.push(fn);
    }
  };
  for (const slot of ['tp_new', 'tp_vectorcall', 'tp_dealloc', 'tp_clear', 'tp_finalize']) {
    const v = t.slots.get(slot);
    if (v?.function) add(v.function, model.symbols.function(v.function, v.file));
  }
  for (const a of allocations) add(a.function.name, a.function);
  // What constructors call to fill the instance (Argument Clinic's `_impl`, init helpers) is construction too.
  for (let depth = 0; depth < 2; depth++) {
    const callers = level;
    level = [];
    for (const fn of callers) {
      for (const c of fn.calls) {
        const name = calleeName(c.callee);
        const callee = name === null ? null : model.symbols.function(name, fn.file);
        if (callee) add(name!, callee);
      }
    }
  }
  const writableFields = new Set<string>();
  const members = t.slots.get('tp_members');
  const table = members?.function ? model.symbols.memberTable(members.function, members.file) : null;
  for (const e of table?.entries ?? []) if (e.writable && e.objectType) writableFields.add(e.field);
  return { constructors, writableFields, accessors: accessorFunctions(model, t) };
}

/** Functions of the type's slots (but not tables), of its tp_methods table and of its tp_getset table. */
function accessorFunctions(model: Model, t: ExtensionType): Set<string> {
  const out = new Set<string>();
  const methodTables = new Set<string>();
  for (const [slot, v] of t.slots) {
    if (!v.function) continue;
    if (slot === 'tp_methods') methodTables.add(v.function);
    else if (slot === 'tp_getset') {
      for (const e of model.symbols.getsetTable(v.function, v.file)?.entries ?? []) {
        for (const fn of [e.getter, e.setter]) if (fn) out.add(fn);
      }
    } else if (slot !== 'tp_members') out.add(v.function);
  }
  // Method tables have no linkage in the facts: by name, as the method table of this type.
  for (const f of model.files) {
    for (const mt of f.methodTables) if (methodTables.has(mt.name)) for (const fn of mt.functions) out.add(fn);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// what a member can hold

/** One store into `var->path`: the value (null when the analysis cannot see it) and the function it is in. */
export interface MemberStore {
  readonly fn: FunctionFact;
  /** Declared type of `var` (`FooObject`, `PyObject`), or null when `var` is not a parameter or local. */
  readonly baseType: string | null;
  readonly value: Expr | null;
}

export type MemberStores = ReadonlyMap<string, readonly MemberStore[]>;

/**
 * Every store into `var->path` (`path` as written after the arrow: `a.b`): assignments, Py_SETREF/Py_XSETREF, and
 * calls given the member's address, whose value the analysis cannot see (`PyArg_ParseTuple(…, &self->x)`).
 * Stores of NULL are left out: they cannot put an object in the member.
 */
export function memberStores(model: Model): MemberStores {
  const stores = new Map<string, MemberStore[]>();
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      const record = (target: Expr | undefined, value: Expr | null) => {
        const mm = target ? variableMember(target) : null;
        if (!mm) return;
        const v = fn.params.find((x) => x.name === mm.variable) ?? fn.locals.find((x) => x.name === mm.variable);
        const list = stores.get(mm.path) ?? [];
        list.push({ fn, baseType: v?.typeName ?? null, value });
        stores.set(mm.path, list);
      };
      for (const a of fn.assignments) if (!isNull(a.value)) record(a.target, a.value);
      for (const c of fn.calls) {
        const callee = calleeName(c.callee);
        if (REASSIGNING_CALLS.has(callee ?? '')) {
          if (!isNull(c.args[1])) record(c.args[0], c.args[1] ?? null);
          continue;
        }
        if (callee !== null && ADDRESS_RELEASING_CALLS.has(callee)) continue;
        for (const a of c.args) if (a.k === 'addr') record(a.of, null);
      }
    }
  }
  return stores;
}

/**
 * True when the member can only ever hold objects that reference nothing (a new int, str, bytes or float, None):
 * every store into it in the analysed code is such an object, there is at least one, and Python code cannot
 * store into it (no writable PyMemberDef entry). Stores through a variable declared as another struct are
 * another type's.
 */
export function memberHoldsOnlyAtomicObjects(t: ExtensionType, m: StructMember, construction: ConstructionFacts, stores: MemberStores): boolean {
  if (construction.writableFields.has(m.name)) return false;
  const structNames = new Set(t.struct?.names ?? (t.structName ? [t.structName] : []));
  const own = (stores.get(m.name) ?? []).filter((s) => s.baseType === null || structNames.has(s.baseType) || !isStructName(s.baseType));
  return own.length > 0 && own.every((s) => s.value !== null && isAtomicValue(s.value, s.fn, 0));
}

/** `PyObject`, `void` …: a pointer that may be the instance; `FooObject`: only a Foo. */
function isStructName(typeName: string): boolean {
  return !PY_OBJECT_TYPES.has(typeName) && typeName !== 'void';
}

/** A new int/str/bytes/float, an immortal singleton, Py_NewRef of one, or a local only ever assigned one. */
export function isAtomicValue(e: Expr, fn: FunctionFact, depth: number): boolean {
  if (e.k === 'name' && ATOMIC_SINGLETONS.has(e.name)) return true;
  if (e.k !== 'call' && e.k !== 'name') return false;
  if (e.k === 'call') {
    const callee = calleeName(e.callee);
    if (isAtomicConstructor(callee)) return true;
    return callee !== null && NEW_REFERENCE_CALLS.has(callee) && e.args.length === 1 && isAtomicValue(e.args[0], fn, depth);
  }
  // `PyObject *s = PyUnicode_FromString(…); if (s == NULL) …; self->name = s;`
  if (depth >= 3 || fn.params.some((p) => p.name === e.name)) return false;
  const assigned = fn.assignments.filter((a) => a.target.k === 'name' && a.target.name === e.name && !isNull(a.value));
  return assigned.length > 0 && assigned.every((a) => isAtomicValue(a.value, fn, depth + 1))
    && !fn.calls.some((c) => c.args.some((x) => x.k === 'addr' && x.of.k === 'name' && x.of.name === e.name));
}

/**
 * The member the instance `__dict__` lives in: `tp_dictoffset = offsetof(FooObject, dict)` of a static type, or the
 * `__dictoffset__` entry of a heap type's PyMemberDef table.
 */
export function dictMember(model: Model, t: ExtensionType): string | null {
  const offset = t.staticType?.fields.tp_dictoffset ?? t.slots.get('tp_dictoffset')?.expression ?? null;
  const fromOffset = offset ? offsetofMember(offset) : null;
  if (fromOffset) return fromOffset;
  const members = t.slots.get('tp_members');
  const table = members?.function ? model.symbols.memberTable(members.function, members.file) : null;
  return table?.entries.find((e) => e.name === '__dictoffset__')?.field ?? null;
}

/**
 * True when the member only ever holds an exact dict, list or set (the instance `__dict__`, which Python code can
 * only replace with another dict, or a member every store into which is a new container): the collector breaks a
 * cycle through it by clearing the container, so the holder needs no tp_clear for it.
 */
export function memberBreaksOwnCycles(t: ExtensionType, m: StructMember, dict: string | null, construction: ConstructionFacts, stores: MemberStores): boolean {
  if (construction.writableFields.has(m.name)) return false;
  const structNames = new Set(t.struct?.names ?? (t.structName ? [t.structName] : []));
  const own = (stores.get(m.name) ?? []).filter((s) => s.baseType === null || structNames.has(s.baseType) || !isStructName(s.baseType));
  const containers = own.every((s) => s.value !== null && isContainerValue(s.value, s.fn, 0));
  return containers && (m.name === dict || own.length > 0);
}

function isContainerValue(e: Expr, fn: FunctionFact, depth: number): boolean {
  if (e.k === 'call') return SELF_CLEARING_CONTAINER_CONSTRUCTORS.has(calleeName(e.callee) ?? '');
  if (e.k !== 'name' || depth >= 3 || fn.params.some((p) => p.name === e.name)) return false;
  const assigned = fn.assignments.filter((a) => a.target.k === 'name' && a.target.name === e.name && !isNull(a.value));
  return assigned.length > 0 && assigned.every((a) => isContainerValue(a.value, fn, depth + 1))
    && !fn.calls.some((c) => c.args.some((x) => x.k === 'addr' && x.of.k === 'name' && x.of.name === e.name));
}
