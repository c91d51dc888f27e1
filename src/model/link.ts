// Links per-file facts into one Model: resolves macros, slot arrays, structs, bases, storage and allocations.

import type {
  Expr, FieldAssignmentFact, FileFacts, FunctionFact, SpecFact, StaticTypeFact, TypeCreationFact,
} from './facts.js';
// Linking builds the model in place, so it works on the writable shapes; callers get it frozen.
import {
  samePlace, type AllocationSite, type Allocator, type BaseRef, type ExtensionType, type FlagSet, type Model,
  type ModuleInfo, type Place, type SlotValue, type Uncertainty,
} from './draft.js';
import type { ExtensionType as FrozenType, FunctionFact as FrozenFunction, LinkedModel, Model as FrozenModel } from './model.js';
import { ALLOCATORS, PYTHON_CLASS_CREATORS, builtinBase } from './capi.js';
import { callsInMacroExpansion, creationsThroughMacros, expansionMayCall, mayCreateTypes } from './macros.js';
import { linkageOf, SymbolTable } from './symbols.js';
import {
  addressedName, calleeName, fieldOf, isArrowSlot, isName, isNull, isNullOrZero, leadingName, nameOf, nameOrAddressed,
  render, sameExpr, slotOf, some,
} from './expr.js';

export interface LinkOptions {
  pythonVersion: { major: number; minor: number };
}

export function linkModel(files: FileFacts[], options: LinkOptions): LinkedModel {
  const symbols = new SymbolTable(files, options.pythonVersion);
  const index = new FactIndex(files, symbols);
  const uncertainties: Uncertainty[] = [];
  const types: ExtensionType[] = [];

  for (const f of files) {
    for (const spec of f.specs) types.push(heapTypeFromSpec(spec, index, uncertainties));
    for (const st of f.staticTypes) types.push(staticTypeFrom(st, index, uncertainties));
  }
  const model: Model = {
    files, types, modules: [], symbols, functions: symbols.functions, macros: symbols.macros, structs: symbols.structs,
    allocations: [], callers: index.callers, exposedFunctions: index.exposed, uncertainties,
    pythonVersion: options.pythonVersion,
  };
  for (const f of files) {
    for (const name of new Set(f.truncatedFunctions)) {
      const fn = f.functions.find((x) => x.name === name);
      uncertainties.push({ file: f.file, line: fn?.line ?? 1, message: `${name}() nests too deep to read completely; it is treated as unknown` });
    }
  }
  attachCreations(model, index);
  followReturnedTypes(model, index);
  markUnfollowedCreations(model, index);
  // Where each type object is stored is known from here on.
  index.types = new TypeIndex(types, symbols);
  for (const t of types) resolveBases(t, model, index);
  for (const f of files) for (const def of f.moduleDefs) model.modules.push(moduleFrom(def, index));
  model.allocations = findAllocations(model, index.types);
  const { uncertainties: undecided, ...linked } = model;
  return { model: Object.freeze(linked), uncertainties: Object.freeze(dedupe(undecided)) };
}

// ---------------------------------------------------------------------------------------------------------------
// indexes over all files

/** Facts over all files that linking needs beyond name lookup, gathered in one pass. */
class FactIndex {
  readonly slotPatches = new Map<string, { index: number; value: Expr; file: string; fn: string }[]>();
  /** `Foo_Type.tp_flags = …` assignments by the name of the type object they write to. */
  readonly fieldAssignments = new Map<string, (FileFacts['staticFieldAssignments'][number] & { file: string })[]>();
  readonly staticTypes = new Map<string, StaticTypeFact[]>();
  readonly callers = new Map<string, FunctionFact[]>();
  readonly exposed = new Set<string>();
  readonly creations: TypeCreationFact[] = [];
  hasCreatingMacros = false;
  pythonClassPlaces: Set<string> | null = null;
  /** The types by the names and places code refers to them through, once storage is known. */
  types: TypeIndex | null = null;

  constructor(readonly files: FileFacts[], readonly symbols: SymbolTable) {
    for (const f of files) {
      for (const st of f.staticTypes) push(this.staticTypes, st.cName, st);
      for (const a of f.staticFieldAssignments) if (!a.through) push(this.fieldAssignments, a.typeName, { ...a, file: f.file });
      for (const fn of f.functions) {
        for (const a of fn.assignments) {
          // `Str_Type_slots[0].pfunc = &PyUnicode_Type;` fills a slot at run time (a base not constant in C).
          const t = a.target;
          if (t.k === 'member' && !t.arrow && t.field === 'pfunc' && t.object.k === 'index' && t.object.object.k === 'name'
            && t.object.index?.k === 'literal' && typeof t.object.index.value === 'number' && Number.isInteger(t.object.index.value)) {
            push(this.slotPatches, t.object.object.name, { index: t.object.index.value, value: a.value, file: f.file, fn: fn.name });
          }
        }
      }
      for (const c of f.typeCreations) this.creations.push(c);
      for (const m of f.macros) if (mayCreateTypes(m)) this.hasCreatingMacros = true;
      for (const table of f.methodTables) for (const fn of table.functions) this.exposed.add(fn);
      for (const table of f.getsetTables ?? []) {
        for (const e of table.entries) for (const fn of [e.getter, e.setter]) if (fn) this.exposed.add(fn);
      }
      for (const a of f.slotArrays) for (const s of a.slots) if (s.value.k === 'name') this.exposed.add(s.value.name);
      for (const st of f.staticTypes) for (const v of Object.values(st.fields)) if (v.k === 'name') this.exposed.add(v.name);
      for (const d of f.moduleDefs) for (const v of Object.values(d.fields)) if (v.k === 'name') this.exposed.add(v.name);
      for (const fn of f.functions) {
        const seen = new Set<string>();
        for (const call of fn.calls) {
          // Only calls by name have a callee to look up callers by.
          const callee = calleeName(call.callee);
          if (callee === null || seen.has(callee)) continue;
          seen.add(callee);
          push(this.callers, callee, fn);
        }
        // A function passed as a value (callback, slot assigned at run time) is reachable from outside.
        for (const r of fn.references) this.exposed.add(r);
      }
      for (const a of f.staticFieldAssignments) if (a.value.k === 'name') this.exposed.add(a.value.name);
    }
    for (const f of files) {
      for (const a of f.staticFieldAssignments) {
        if (!a.through) continue;
        for (const { typeName, value } of this.typeObjectsPointedAt(a, f)) push(this.fieldAssignments, typeName, { ...a, typeName, value, file: f.file });
      }
    }
    if (this.hasCreatingMacros) {
      this.creations.push(...creationsThroughMacros(files.flatMap((f) => f.functions), symbols));
    }
  }

  /**
   * The static type objects a pointer can point at where `pointer->tp_x = value` is written: a local assigned only
   * `&Foo_Type`, or a parameter every caller passes `&Foo_Type` for (`init_type(&Foo_Type, foo_traverse)`). A value
   * that is itself a parameter is the argument of each such call.
   */
  private typeObjectsPointedAt(a: FieldAssignmentFact, f: FileFacts): { typeName: string; value: Expr }[] {
    const fn = f.functions.find((x) => x.name === a.inFunction);
    if (!fn) return [];
    const typeObject = (e: Expr): string | null => (e.k === 'addr' && e.of.k === 'name' && this.staticTypes.has(e.of.name) ? e.of.name : null);
    const param = fn.params.findIndex((p) => p.name === a.typeName);
    const assigned = fn.assignments.filter((x) => isName(x.target, a.typeName));
    if (param < 0) {
      const targets = assigned.map((x) => typeObject(x.value));
      return targets.length && targets.every((t) => t === targets[0]) && targets[0] ? [{ typeName: targets[0], value: a.value }] : [];
    }
    if (assigned.length) return [];
    const valueParam = a.value.k === 'name' ? fn.params.findIndex((p) => p.name === (a.value as { name: string }).name) : -1;
    const out: { typeName: string; value: Expr }[] = [];
    for (const caller of this.callers.get(fn.name) ?? []) {
      for (const call of caller.calls) {
        if (calleeName(call.callee) !== fn.name) continue;
        const t = call.args[param] && typeObject(call.args[param]);
        if (!t) return [];
        const value = valueParam >= 0 ? call.args[valueParam] : a.value;
        if (value) out.push({ typeName: t, value });
      }
    }
    return out;
  }

  function(name: string, file: string): FunctionFact | null {
    return this.symbols.function(name, file);
  }

  /** The value of object-like macro `name` (its body read as an expression), or null when there is none. */
  objectMacro(name: string, file: string): Expr | null {
    const m = this.symbols.macro(name, file, 'object');
    return m ? m.value ?? EMPTY_MACRO : null;
  }
}

/** `#define X` with no body. */
const EMPTY_MACRO: Expr = { k: 'other', text: '', names: [] };

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

// ---------------------------------------------------------------------------------------------------------------
// heap types

function heapTypeFromSpec(spec: SpecFact, index: FactIndex, uncertainties: Uncertainty[]): ExtensionType {
  const name = resolveName(spec.name, spec.file, index);
  const slots = new Map<string, SlotValue>();
  let slotsKnown = true;
  if (spec.slots?.k === 'name') {
    const array = index.symbols.slotArray(spec.slots.name, spec.file, spec.scope);
    if (array) {
      const patches = (index.slotPatches.get(array.name) ?? []).filter((p) => p.file === array.file);
      array.slots.forEach((s, i) => {
        const key = s.slot.replace(/^Py_/, '');
        const patch = patches.find((p) => p.index === i);
        const value = patch ? patch.value : s.value;
        slots.set(key, { ...slotValue(value, { line: s.line, column: s.column }, array.file), ...(patch ? { patchedIn: patch.fn } : {}) });
      });
    } else {
      slotsKnown = false;
      uncertainties.push({ file: spec.file, line: spec.line, message: `slot array ${spec.slots.name} of ${spec.cName} was not found in the analysed files` });
    }
  } else if (spec.slots && !isNull(spec.slots)) {
    slotsKnown = false;
    uncertainties.push({ file: spec.file, line: spec.line, message: `slots of ${spec.cName} are not a named PyType_Slot array` });
  }
  const flags = resolveFlags(spec.flags, spec.file, index);
  if (!spec.flags) flags.position = null;
  const structName = spec.basicsize?.k === 'sizeof' ? spec.basicsize.typeName : null;
  const t: ExtensionType = {
    id: `${spec.file}:${spec.scope ? spec.scope + ':' : ''}${spec.cName}:${spec.line}`, kind: 'heap', cName: spec.cName, name, module: moduleOf(name),
    file: spec.file, line: spec.line, column: spec.column, flags, slots,
    struct: structName ? index.symbols.struct(structName, spec.file) : null, structName,
    bases: [], creations: [], storage: [], spec, staticType: null, slotsKnown, basesKnown: true,
  };
  return t;
}

function slotValue(v: Expr, pos: { line: number; column: number }, file: string): SlotValue {
  if (v.k === 'name') return { function: v.name, expression: null, file, ...pos };
  if (isNullOrZero(v)) return { function: null, expression: null, file, ...pos };
  // Drop the position a field value carries: the slot has its own.
  const { line: _line, column: _column, ...expression } = v as Expr & { line?: number; column?: number };
  return { function: null, expression: expression as Expr, file, ...pos };
}

function resolveName(v: Expr | null, file: string, index: FactIndex): string | null {
  if (!v) return null;
  if (v.k === 'literal') return typeof v.value === 'string' ? v.value : null;
  if (v.k === 'name' || v.k === 'concat') return evaluateStringConcatenation(v, file, index, 0);
  return null;
}

/** `MODULE_NAME ".Foo"` with `#define MODULE_NAME "_foo"` → `_foo.Foo`. */
function evaluateStringConcatenation(e: Expr, file: string, index: FactIndex, depth: number): string | null {
  if (depth > 6) return null;
  switch (e.k) {
    case 'literal':
      return typeof e.value === 'string' ? e.value : null;
    case 'name': {
      const body = index.objectMacro(e.name, file);
      return body === null ? null : evaluateStringConcatenation(body, file, index, depth + 1);
    }
    case 'concat': {
      let out = '';
      for (const part of e.parts) {
        const text = evaluateStringConcatenation(part, file, index, depth);
        if (text === null) return null;
        out += text;
      }
      return out;
    }
    default:
      return null;
  }
}

function moduleOf(name: string | null): string | null {
  if (!name) return null;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : null;
}

/** Resolves a flags expression to the set of Py_TPFLAGS_* names it contains. */
function resolveFlags(v: (Expr & { line?: number; column?: number }) | null, file: string, index: FactIndex): FlagSet {
  const flags: FlagSet = { names: new Set(), unresolved: [], position: v && v.line ? { line: v.line, column: v.column ?? 1 } : null };
  if (!v) return flags;
  addFlags(v, file, index, flags, 0);
  return flags;
}

/**
 * `tp_flags = X` replaces the flags (when done on every path), `tp_flags |= X` adds X, `tp_flags &= ~X` removes X.
 * A conditional replacement can only add; a conditional removal of Py_TPFLAGS_HAVE_GC leaves GC support unknown.
 */
function assignFlags(a: FileFacts['staticFieldAssignments'][number] & { file: string }, index: FactIndex, flags: FlagSet): void {
  switch (a.operator) {
    case '=':
      if (!a.conditional) {
        flags.names.clear();
        flags.unresolved.length = 0;
        flags.position = { line: a.line, column: a.column };
      }
      addFlags(a.value, a.file, index, flags, 0);
      return;
    case '|=':
      addFlags(a.value, a.file, index, flags, 0);
      return;
    case '&=': {
      if (a.value.k !== 'unary' || a.value.op !== '~') break;
      const removed: FlagSet = { names: new Set(), unresolved: [], position: null };
      addFlags(a.value.of, a.file, index, removed, 0);
      if (removed.unresolved.length) flags.unresolved.push(...removed.unresolved);
      for (const name of removed.names) {
        if (!a.conditional) flags.names.delete(name);
        else if (name === 'Py_TPFLAGS_HAVE_GC') flags.unresolved.push(`${render(a.value)} (cleared on some paths)`);
      }
      return;
    }
  }
  flags.unresolved.push(`${a.operator} ${render(a.value)}`);
}

/**
 * Only `|` combinations of names (and macros for them) are understood; any other operator is recorded as
 * unresolved with its operands, so `X & ~Y` makes the answer unknown rather than wrong.
 */
function addFlags(e: Expr, file: string, index: FactIndex, flags: FlagSet, depth: number): void {
  switch (e.k) {
    case 'name': {
      const t = e.name;
      if (/^Py_TPFLAGS_\w+$/.test(t) && !index.objectMacro(t, file)) {
        flags.names.add(t);
        return;
      }
      const body = depth < 8 ? index.objectMacro(t, file) : null;
      if (body !== null) {
        addFlags(body, file, index, flags, depth + 1);
        return;
      }
      if (/^Py_TPFLAGS_\w+$/.test(t)) {
        flags.names.add(t);
        return;
      }
      flags.unresolved.push(t);
      return;
    }
    case 'literal': {
      if (e.value === null || e.value === 0) return;
      // Bit 14 is Py_TPFLAGS_HAVE_GC; numeric flags are rare but cheap to honour.
      if (typeof e.value === 'number' && Number.isInteger(e.value) && e.value & (1 << 14)) flags.names.add('Py_TPFLAGS_HAVE_GC');
      else flags.unresolved.push(e.text);
      return;
    }
    case 'binary':
      addFlags(e.left, file, index, flags, depth);
      if (e.op !== '|') flags.unresolved.push(...e.op);
      addFlags(e.right, file, index, flags, depth);
      return;
    case 'unary':
      flags.unresolved.push(...e.op);
      addFlags(e.of, file, index, flags, depth);
      return;
    case 'other':
      // Text that is not one expression (an empty macro adds nothing): what its names say still counts.
      for (const n of e.names) addFlags({ k: 'name', name: n }, file, index, flags, depth);
      if (e.text) flags.unresolved.push(e.text);
      return;
    default:
      flags.unresolved.push(render(e));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// static types

function staticTypeFrom(st: StaticTypeFact, index: FactIndex, uncertainties: Uncertainty[]): ExtensionType {
  const name = resolveName(st.fields.tp_name ?? null, st.file, index);
  const slots = new Map<string, SlotValue>();
  for (const [field, v] of Object.entries(st.fields)) {
    if (!field.startsWith('tp_') || field === 'tp_name' || field === 'tp_flags' || field === 'tp_basicsize') continue;
    slots.set(field, slotValue(v, { line: v.line, column: v.column }, st.file));
  }
  const flags = resolveFlags(st.fields.tp_flags ?? null, st.file, index);
  const sameName = index.staticTypes.get(st.cName) ?? [];
  for (const a of index.fieldAssignments.get(st.cName) ?? []) {
    // `Foo_Type.tp_new = …` writes to the Foo_Type its own file sees.
    if (sameName.length > 1 && index.symbols.resolveAmong('static type', st.cName, a.file, sameName, linkageOf) !== st) continue;
    if (a.field === 'tp_flags') assignFlags(a, index, flags);
    else slots.set(a.field, slotValue(a.value, a, a.file));
  }
  if (st.positionalUnreliable) {
    uncertainties.push({ file: st.file, line: st.line, message: `the initializer of ${st.cName} did not parse cleanly; its fields may be misread` });
  }
  const basicsize = st.fields.tp_basicsize;
  const structName = basicsize?.k === 'sizeof' ? basicsize.typeName : null;
  return {
    id: `${st.file}:${st.cName}`, kind: 'static', cName: st.cName, name, module: moduleOf(name),
    file: st.file, line: st.line, column: st.column, flags, slots,
    struct: structName ? index.symbols.struct(structName, st.file) : null, structName,
    bases: [], creations: [], storage: [{ k: 'global', name: st.cName }], spec: null, staticType: st,
    slotsKnown: !st.positionalUnreliable, basesKnown: true,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// creations, storage and bases

function attachCreations(model: Model, index: FactIndex): void {
  const bySpec = new Map<string, ExtensionType[]>();
  for (const t of model.types) if (t.kind === 'heap') push(bySpec, t.cName, t);
  const pickType = (spec: string, file: string, scope: string | null = null) => {
    const all = bySpec.get(spec);
    if (!all) return null;
    return all.find((t) => t.file === file && t.spec?.scope === scope)
      ?? all.find((t) => t.file === file && t.spec?.scope === null)
      ?? all.find((t) => t.spec?.scope === null) ?? null;
  };
  for (const c of index.creations) {
    if (c.spec) {
      const t = pickType(c.spec, c.file, c.inFunction);
      if (t) {
        t.creations.push(c);
        addStorage(t, c.storedIn, c.returned, index.function(c.inFunction ?? '', c.file));
        continue;
      }
      // The spec may be a parameter of a helper: resolve it at each call site of the helper.
      const helper = c.inFunction ? index.function(c.inFunction, c.file) : null;
      const paramIndex = helper ? helper.params.findIndex((p) => p.name === c.spec) : -1;
      if (helper && paramIndex >= 0) {
        for (const caller of index.callers.get(helper.name) ?? []) {
          for (const call of caller.calls) {
            if (!isName(call.callee, helper.name)) continue;
            const arg = nameOrAddressed(call.args[paramIndex]);
            const target = arg ? pickType(arg, caller.file) : null;
            if (!target) continue;
            target.creations.push({ ...c, spec: arg, storedIn: call.assignedTo, returned: call.returned, inFunction: caller.name, file: caller.file, line: call.line, column: call.column });
            addStorage(target, call.assignedTo, call.returned, caller);
          }
        }
        continue;
      }
    }
    // A loop over a table of specs, local or at file scope: `PyType_Spec *specs[] = {&a_spec, &b_spec}; … specs[i] …`.
    const table = c.specExpression.k === 'index' ? nameOf(c.specExpression.object) : null;
    const fn = c.inFunction ? index.function(c.inFunction, c.file) : null;
    const init = table && fn ? fn.assignments.find((a) => isName(a.target, table) && a.value.k === 'init') : undefined;
    const globalTable = table && !init ? index.symbols.global(table, c.file) : undefined;
    const entries = init ? addressedNamesIn(init.value) : globalTable?.addressesInInitializer ?? [];
    const resolved = entries.map((e) => pickType(e, c.file, c.inFunction)).filter((t): t is ExtensionType => !!t);
    if (resolved.length && resolved.length === entries.length) {
      for (const t of resolved) t.creations.push({ ...c, spec: t.cName, storedIn: null, returned: false });
      continue;
    }
    model.uncertainties.push({ file: c.file, line: c.line, message: `${c.creator}(${render(c.specExpression)}, …): the spec could not be resolved` });
  }
}

/**
 * A helper that returns a type it creates (`return PyType_FromSpec(&spec);`) stores it wherever its callers put the
 * result: `Base = make_base();` makes the global Base hold that type, as a creation in place would.
 */
function followReturnedTypes(model: Model, index: FactIndex): void {
  for (let round = 0; round < 3; round++) {
    let added = false;
    for (const t of model.types) {
      for (const place of [...t.storage]) {
        if (place.k !== 'return') continue;
        for (const caller of index.callers.get(place.fn) ?? []) {
          for (const call of caller.calls) {
            if (!isName(call.callee, place.fn)) continue;
            const before = t.storage.length;
            addStorage(t, call.assignedTo, call.returned, caller);
            added ||= t.storage.length > before;
          }
        }
      }
    }
    if (!added) return;
  }
}

/** `&name` entries anywhere in an initializer list, in order. */
function addressedNamesIn(e: Expr): string[] {
  const out: string[] = [];
  some(e, (x) => {
    const n = addressedName(x);
    if (n) out.push(n);
    return false;
  });
  return out;
}

/**
 * A spec that is never passed to a PyType_From* call we can see, but is used in code (a helper we cannot find,
 * a table walked in a loop), may get a base there: its bases are unknown.
 */
function markUnfollowedCreations(model: Model, index: FactIndex): void {
  const referenced = new Map<string, FunctionFact>();
  for (const fns of index.symbols.functions.values()) for (const fn of fns) for (const r of fn.references) if (!referenced.has(r)) referenced.set(r, fn);
  for (const t of model.types) {
    if (t.kind !== 'heap' || t.creations.length) continue;
    const user = referenced.get(t.cName);
    if (!user) continue;
    t.basesKnown = false;
    model.uncertainties.push({ file: t.file, line: t.line, message: `${t.cName} is used in ${user.name}() but never passed to a PyType_From* call the analysis can see; its base is unknown` });
  }
}

export function isStoredIn(t: { readonly storage: readonly Readonly<Place>[] }, place: Readonly<Place>): boolean {
  return t.storage.some((p) => samePlace(p, place));
}

/** A place as one string, equal exactly when samePlace says the places are the same. */
function placeKeyOf(p: Readonly<Place>): string {
  switch (p.k) {
    case 'field': return `field:${p.field}`;
    case 'global': return `global:${p.name}`;
    case 'local': return `local:${p.fn}:${p.name}`;
    case 'return': return `return:${p.fn}`;
  }
}

function addPlace(t: ExtensionType, place: Place): void {
  if (!isStoredIn(t, place)) t.storage.push(place);
}

function addStorage(t: ExtensionType, storedIn: Expr | null, returned: boolean, fn: FunctionFact | null): void {
  if (returned) {
    if (fn) addPlace(t, { k: 'return', fn: fn.name });
    return;
  }
  if (!storedIn) return;
  for (const place of followLocal(storedIn, fn)) {
    const field = fieldOf(place);
    if (field) addPlace(t, { k: 'field', field });
    else if (place.k === 'name') {
      const isLocal = fn?.locals.some((l) => l.name === place.name) || fn?.params.some((p) => p.name === place.name);
      addPlace(t, isLocal && fn ? { k: 'local', fn: fn.name, name: place.name } : { k: 'global', name: place.name });
    }
  }
}

/** A local that receives the type is often copied to its real home: `st->Foo = (PyTypeObject *)tmp;`. */
function followLocal(place: Expr, fn: FunctionFact | null): Expr[] {
  const out = [place];
  if (!fn || place.k !== 'name') return out;
  for (const a of fn.assignments) if (sameExpr(a.value, place) && !sameExpr(a.target, place)) out.push(a.target);
  return out;
}

/** A slot that is present but NULL still names a base: an unresolvable one. */
const NO_EXPRESSION: Expr = { k: 'other', text: '', names: [] };

function resolveBases(t: ExtensionType, model: Model, index: FactIndex): void {
  const expressions: { expr: Expr; fn: FunctionFact | null }[] = [];
  const slotExpression = (v: SlotValue) => (v.function ? { k: 'name', name: v.function } as Expr : v.expression ?? NO_EXPRESSION);
  if (t.kind === 'heap') {
    for (const c of t.creations) if (c.bases) expressions.push({ expr: c.bases, fn: index.function(c.inFunction ?? '', c.file) });
    const base = t.slots.get('tp_base') ?? t.slots.get('tp_bases');
    // A slot filled at run time (`slots[0].pfunc = base;`) is read in the function that fills it.
    if (base) expressions.push({ expr: slotExpression(base), fn: base.patchedIn ? index.function(base.patchedIn, base.file) : null });
  } else {
    const base = t.slots.get('tp_base');
    if (base && (base.function || base.expression)) expressions.push({ expr: slotExpression(base), fn: null });
  }
  for (const { expr, fn } of expressions) {
    for (const e of expandBaseExpression(expr, fn)) t.bases.push(resolveBase(e, t, model, index, fn));
  }
}

/** `PyTuple_Pack(1, X)` → X; a local assigned once → its value. */
function expandBaseExpression(expr: Expr, fn: FunctionFact | null, depth = 0): Expr[] {
  if (depth > 4) return [expr];
  if (expr.k === 'call' && isName(expr.callee, 'PyTuple_Pack') && expr.args.length > 1 && isCount(expr.args[0])) {
    return expr.args.slice(1).flatMap((e) => expandBaseExpression(e, fn, depth + 1));
  }
  if (fn && expr.k === 'name') {
    // A parameter can hold any type, whatever default the function assigns to it.
    if (fn.params.some((p) => p.name === expr.name)) return [expr];
    const assigned = fn.assignments.filter((a) => sameExpr(a.target, expr));
    if (assigned.length === 1) return expandBaseExpression(assigned[0].value, fn, depth + 1);
  }
  return [expr];
}

function isCount(e: Expr): boolean {
  return e.k === 'literal' && typeof e.value === 'number' && Number.isInteger(e.value) && e.value >= 0;
}

function resolveBase(expr: Expr, owner: ExtensionType, model: Model, index: FactIndex, fn: FunctionFact | null): BaseRef {
  const builtin = builtinBase(nameOrAddressed(expr));
  if (builtin) return { kind: 'builtin', expression: expr, name: builtin.name, gc: builtin.gc, traverseVisitsType: builtin.traverseVisitsType, heap: false };
  const found = resolveTypeExpression(expr, index.types!, fn, owner.file);
  if (found && found !== owner) return { kind: 'model', expression: expr, type: found };
  if (isPythonClassPlace(expr, index)) return { kind: 'python-class', expression: expr };
  const where = owner.creations[0] ?? owner;
  model.uncertainties.push({ file: where.file, line: where.line, message: `the base ${render(expr)} of ${owner.name ?? owner.cName} could not be resolved; GC inheritance is undecided` });
  return { kind: 'unknown', expression: expr };
}

/** A place as the places that receive classes are keyed: its field (`st->Error` → Error), or its variable. */
function placeKey(e: Expr | null): string | null {
  return fieldOf(e) ?? nameOf(e);
}

/** True when the place is filled by PyErr_NewException(…) or a class created from Python code. */
function isPythonClassPlace(expr: Expr, index: FactIndex): boolean {
  const key = placeKey(expr);
  index.pythonClassPlaces ??= pythonClassPlaces(index.symbols.functions);
  return key !== null && index.pythonClassPlaces.has(key);
}

/** Fields and globals that receive PyErr_NewException(…): classes created at run time, like a class statement. */
function pythonClassPlaces(functions: ReadonlyMap<string, FunctionFact[]>): Set<string> {
  const places = new Set<string>();
  for (const fns of functions.values()) {
    for (const fn of fns) {
      for (const call of fn.calls) {
        if (!PYTHON_CLASS_CREATORS.has(calleeName(call.callee) ?? '')) continue;
        const key = placeKey(call.assignedTo);
        if (key !== null) places.add(key);
      }
    }
  }
  return places;
}

/**
 * What type object an expression denotes: `&Foo_Type`, `st->FooType`, `clinic_state()->FooType`, a global, or a
 * local that holds one of those. Returns null when it cannot tell.
 */
function resolveTypeExpression(e: Expr, types: TypeIndex, fn: FunctionFact | null, file: string, depth = 0): ExtensionType | null {
  if (depth > 5) return null;
  if (e.k === 'call') {
    const creator = calleeName(e.callee);
    if (creator && !creator.startsWith('PyType_From')) {
      return pickNearest(types.stored({ k: 'return', fn: creator }), file);
    }
    if (!creator) return null;
    // The spec is the first argument taken by address.
    const spec = addressedName(e.args.find((a) => some(a, (x) => x.k === 'addr')));
    return spec ? pickNearest(types.heapBySpec.get(spec) ?? [], file) : null;
  }
  const amp = addressedName(e);
  if (amp) return types.staticNamed(amp, file);
  const field = fieldOf(e);
  if (field) {
    // `Py_TYPE(self)->tp_base` is the object's type's base, not a stored type.
    if (leadingName(e) === 'Py_TYPE') return null;
    return pickNearest(types.stored({ k: 'field', field }), file);
  }
  if (e.k === 'name') {
    const v = e.name;
    if (fn) {
      if (fn.params.some((p) => p.name === v)) return null;
      const local = types.stored({ k: 'local', fn: fn.name, name: v });
      if (local.length) return pickNearest(local, file);
      const assigned = fn.assignments.filter((a) => isName(a.target, v));
      if (assigned.length === 1) {
        const value = assigned[0].value;
        const viaCall = value.k === 'call' ? calleeName(value.callee) : null;
        if (viaCall) {
          const fromCall = types.stored({ k: 'return', fn: viaCall });
          if (fromCall.length) return pickNearest(fromCall, file);
        }
        return resolveTypeExpression(value, types, fn, file, depth + 1);
      }
      if (fn.params.some((p) => p.name === v) || fn.locals.some((l) => l.name === v)) return null;
    }
    return pickNearest(types.stored({ k: 'global', name: v }).filter((t) => t.kind === 'heap'), file)
      ?? types.staticNamed(v, file);
  }
  return null;
}

/**
 * What a type expression denotes, for the analyses after linking (a dealloc handing the object to
 * `st->BaseType->tp_dealloc`): resolveTypeExpression over an index of `model` built once, by the caller that keeps it.
 */
export function typeResolver(model: FrozenModel): (e: Expr, fn: FrozenFunction | null, file: string) => FrozenType | null {
  // Linking only reads through the index: the frozen model's types are the same objects.
  const index = new TypeIndex(model.types as unknown as ExtensionType[], model.symbols);
  return (e, fn, file) => resolveTypeExpression(e, index, fn as FunctionFact | null, file) as FrozenType | null;
}

/** The model's types by the names and places code refers to them through, built once storage is known. */
class TypeIndex {
  readonly heapBySpec = new Map<string, ExtensionType[]>();
  readonly byStructName = new Map<string, ExtensionType[]>();
  private readonly staticByName = new Map<string, ExtensionType[]>();
  private readonly byStorage = new Map<string, ExtensionType[]>();

  constructor(types: readonly ExtensionType[], private readonly symbols: SymbolTable) {
    for (const t of types) {
      push(t.kind === 'heap' ? this.heapBySpec : this.staticByName, t.cName, t);
      if (t.structName) push(this.byStructName, t.structName, t);
      for (const place of t.storage) push(this.byStorage, placeKeyOf(place), t);
    }
  }

  stored(place: Place): ExtensionType[] {
    return this.byStorage.get(placeKeyOf(place)) ?? [];
  }

  /** The static type object a name denotes in `file`, by C's linkage. */
  staticNamed(name: string, file: string): ExtensionType | null {
    const all = this.staticByName.get(name);
    if (!all) return null;
    if (all.length === 1 && all[0].file === file) return all[0];
    return this.symbols.resolveAmong('static type', name, file, all, (t) => linkageOf(t.staticType!));
  }
}

function pickNearest(types: ExtensionType[], file: string): ExtensionType | null {
  if (!types.length) return null;
  const same = types.filter((t) => t.file === file);
  if (same.length === 1) return same[0];
  if (types.length === 1) return types[0];
  return null; // ambiguous
}

// ---------------------------------------------------------------------------------------------------------------
// modules

function moduleFrom(def: ModuleInfo['def'], index: FactIndex): ModuleInfo {
  const name = resolveName(def.fields.m_name ?? null, def.file, index);
  const size = def.fields.m_size;
  let stateStructName: string | null = null;
  let kind: ModuleInfo['size'] = 'unknown';
  const negative = size?.k === 'unary' && size.op === '-' && isCount(size.of);
  if (!size || (size.k === 'literal' && typeof size.value === 'number' && size.value <= 0) || negative) kind = 'none';
  else if (size.k === 'sizeof') {
    kind = 'state';
    stateStructName = size.typeName;
  }
  return { def, name, stateStruct: stateStructName ? index.symbols.struct(stateStructName, def.file) : null, stateStructName, size: kind };
}

// ---------------------------------------------------------------------------------------------------------------
// allocations

function findAllocations(model: Model, types: TypeIndex): AllocationSite[] {
  const sites: AllocationSite[] = [];
  const slotOwners = slotOwnerIndex(model);
  const mayAllocate = new Map<string, boolean>();
  const isAllocator = (id: string) => Object.hasOwn(ALLOCATORS, id);
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      for (let call of fn.calls) {
        let allocator: Allocator | null = null;
        let typeExpr: Expr | undefined;
        let structName: string | null = null;
        let callee = calleeName(call.callee);
        let known = callee !== null && Object.hasOwn(ALLOCATORS, callee) ? ALLOCATORS[callee] : undefined;
        if (!known && callee !== null && model.symbols.macro(callee, fn.file, 'function')
          && expansionMayCall(callee, call.args, model.symbols, isAllocator, mayAllocate)) {
          // `NEW_RECORD(st, n)` expanding to PyObject_GC_NewVar(…): the allocation sits at the macro call.
          const inner = (callsInMacroExpansion(callee, call.args, model.symbols, fn.file) ?? [])
            .find((c) => Object.hasOwn(ALLOCATORS, calleeName(c.callee) ?? ''));
          if (inner) {
            call = { ...call, callee: inner.callee, args: [...inner.args] };
            callee = calleeName(inner.callee);
            known = ALLOCATORS[callee!];
          }
        }
        if (known) {
          allocator = known.allocator;
          typeExpr = call.args[known.typeArg];
          structName = known.structArg !== null ? nameOf(call.args[known.structArg]) : null;
          if (allocator === 'malloc-init' && !isMallocResult(call.args[0], fn)) continue;
        } else if (isArrowSlot(call.callee, 'tp_alloc')) {
          allocator = 'tp-alloc';
          typeExpr = call.args[0] ?? slotOf(call.callee)?.type;
        }
        if (!allocator || typeExpr === undefined) continue;
        let type = resolveAllocatedType(typeExpr, fn, types, slotOwners);
        if (!type && structName) type = pickNearest(types.byStructName.get(structName) ?? [], fn.file);
        if (type) sites.push({ function: fn, call, allocator, type });
      }
    }
  }
  return sites;
}

const OBJECT_MALLOCS = new Set(['PyObject_Malloc', 'PyObject_MALLOC', 'PyObject_Calloc', 'PyMem_Malloc', 'PyMem_New']);

function isMallocResult(obj: Expr | undefined, fn: FunctionFact): boolean {
  if (!obj) return false;
  return fn.assignments.some((x) => sameExpr(x.target, obj) && x.value.k === 'call' && OBJECT_MALLOCS.has(calleeName(x.value.callee) ?? ''));
}

/** Functions used in type slots, by name → the types that use them. */
function slotOwnerIndex(model: Model): Map<string, ExtensionType[]> {
  const owners = new Map<string, ExtensionType[]>();
  for (const t of model.types) for (const v of t.slots.values()) if (v.function) push(owners, v.function, t);
  return owners;
}

function resolveAllocatedType(typeExpr: Expr, fn: FunctionFact, types: TypeIndex, slotOwners: Map<string, ExtensionType[]>): ExtensionType | null {
  const direct = resolveTypeExpression(typeExpr, types, fn, fn.file);
  if (direct) return direct;
  // `type` in tp_new is the type being instantiated (or a Python subclass, which shares GC-ness).
  if (fn.params[0] && isName(typeExpr, fn.params[0].name)) {
    const owners = (slotOwners.get(fn.name) ?? []).filter((t) => t.slots.get('tp_new')?.function === fn.name);
    if (owners.length === 1) return owners[0];
  }
  return null;
}

function dedupe(items: Uncertainty[]): Uncertainty[] {
  const seen = new Set<string>();
  return items.filter((u) => {
    const k = `${u.file}:${u.line}:${u.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
