// Links per-file facts into one Model: resolves macros, slot arrays, structs, bases, storage and allocations.

import type {
  FileFacts, FunctionFact, MacroFact, SlotArrayFact, SpecFact, StaticTypeFact, StructFact, TypeCreationFact,
  ValueFact,
} from './facts.js';
// Linking builds the model in place, so it works on the writable shapes; callers get it frozen.
import type {
  AllocationSite, Allocator, BaseRef, ExtensionType, FlagSet, Model, ModuleInfo, SlotValue, Uncertainty,
} from './draft.js';
import type { LinkedModel } from './model.js';
import { ALLOCATORS, apiNameExists, builtinBase, isApiTypeName } from './capi.js';
import { creationsThroughMacros, splitArgs } from './macros.js';

export interface LinkOptions {
  pythonVersion: { major: number; minor: number };
}

export function linkModel(files: FileFacts[], options: LinkOptions): LinkedModel {
  const index = new FactIndex(files, options.pythonVersion);
  const uncertainties: Uncertainty[] = [];
  const types: ExtensionType[] = [];

  for (const f of files) {
    for (const spec of f.specs) types.push(heapTypeFromSpec(spec, index, uncertainties));
    for (const st of f.staticTypes) types.push(staticTypeFrom(st, index, uncertainties));
  }
  const model: Model = {
    files, types, modules: [], functions: index.functions, typedefs: index.typedefs, macros: index.macros, structs: index.structs,
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
  markUnfollowedCreations(model, index);
  for (const t of types) resolveBases(t, model, index);
  for (const f of files) for (const def of f.moduleDefs) model.modules.push(moduleFrom(def, index));
  model.allocations = findAllocations(model);
  const { uncertainties: undecided, ...linked } = model;
  return { model: Object.freeze(linked), uncertainties: Object.freeze(dedupe(undecided)) };
}

// ---------------------------------------------------------------------------------------------------------------
// indexes over all files

class FactIndex {
  readonly functions = new Map<string, FunctionFact[]>();
  readonly macros = new Map<string, MacroFact[]>();
  readonly structs = new Map<string, StructFact[]>();
  readonly typedefs = new Map<string, { target: string; pointerDepth: number }>();
  readonly slotArrays = new Map<string, SlotArrayFact[]>();
  readonly slotPatches = new Map<string, { index: number; value: string; file: string }[]>();
  readonly callers = new Map<string, FunctionFact[]>();
  readonly exposed = new Set<string>();
  readonly creations: TypeCreationFact[] = [];
  hasCreatingMacros = false;
  pythonClassPlaces: Set<string> | null = null;

  constructor(readonly files: FileFacts[], version: { major: number; minor: number }) {
    // The C API's own names mean what the catalogue says, whatever an input defines them as; a definition is read
    // only where the target version lacks the name (a compatibility fallback).
    const isApi = (name: string) => apiNameExists(name, version) === true;
    for (const f of files) {
      // A function read only partly (nesting too deep) is left out: what it does is unknown, not absent.
      const truncated = new Set(f.truncatedFunctions);
      for (const fn of f.functions) if (!truncated.has(fn.name) && !isApi(fn.name)) push(this.functions, fn.name, fn);
      for (const m of f.macros) if (!isApi(m.name)) push(this.macros, m.name, m);
      for (const s of f.structs) for (const n of s.names) if (!isApiTypeName(n)) push(this.structs, n, s);
      for (const t of f.typedefs) if (t.alias !== t.target && !isApiTypeName(t.alias) && !this.typedefs.has(t.alias)) this.typedefs.set(t.alias, { target: t.target, pointerDepth: t.pointerDepth });
      for (const a of f.slotArrays) push(this.slotArrays, a.name, a);
      for (const fn of f.functions) {
        for (const a of fn.assignments) {
          // `Str_Type_slots[0].pfunc = &PyUnicode_Type;` fills a slot at run time (a base not constant in C).
          const m = /^(\w+)\[(\d+)\]\.pfunc$/.exec(a.target);
          if (m) push(this.slotPatches, m[1], { index: Number(m[2]), value: a.value, file: f.file });
        }
      }
      for (const c of f.typeCreations) this.creations.push(c);
      for (const m of f.macros) if (m.params && /PyType_From|[A-Z_]{3,}\s*\(/.test(m.body)) this.hasCreatingMacros = true;
      for (const table of f.methodTables) for (const fn of table.functions) this.exposed.add(fn);
      for (const a of f.slotArrays) for (const s of a.slots) if (s.value.kind === 'identifier') this.exposed.add(s.value.name);
      for (const st of f.staticTypes) for (const v of Object.values(st.fields)) if (v.kind === 'identifier') this.exposed.add(v.name);
      for (const d of f.moduleDefs) for (const v of Object.values(d.fields)) if (v.kind === 'identifier') this.exposed.add(v.name);
      for (const fn of f.functions) {
        const seen = new Set<string>();
        for (const call of fn.calls) {
          if (seen.has(call.callee)) continue;
          seen.add(call.callee);
          push(this.callers, call.callee, fn);
        }
        // A function passed as a value (callback, slot assigned at run time) is reachable from outside.
        for (const r of fn.references) this.exposed.add(r);
      }
      for (const a of f.staticFieldAssignments) this.exposed.add(a.value);
    }
    if (this.hasCreatingMacros) {
      this.creations.push(...creationsThroughMacros(files.flatMap((f) => f.functions), this.macros));
    }
  }

  /** The definition of `name` closest to `file`: same file first. */
  pick<T extends { file: string }>(map: Map<string, T[]>, name: string, file: string): T | null {
    const all = map.get(name);
    if (!all?.length) return null;
    return all.find((x) => x.file === file) ?? all[0];
  }

  struct(name: string, file: string): StructFact | null {
    let n = name.replace(/^struct\s*/, '');
    for (let i = 0; i < 8; i++) {
      const s = this.pick(this.structs, n, file);
      if (s) return s;
      const next = this.typedefs.get(n);
      if (!next || next.pointerDepth) return null;
      n = next.target;
    }
    return null;
  }

  objectMacro(name: string, file: string): string | null {
    const all = this.macros.get(name)?.filter((m) => m.params === null);
    if (!all?.length) return null;
    return (all.find((m) => m.file === file) ?? all[0]).body;
  }
}

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
  if (spec.slots?.kind === 'identifier') {
    const candidates = index.slotArrays.get(spec.slots.name) ?? [];
    const array = candidates.find((a) => a.file === spec.file && a.scope === spec.scope)
      ?? candidates.find((a) => a.file === spec.file && a.scope === null)
      ?? candidates.find((a) => a.scope === null) ?? null;
    if (array) {
      const patches = (index.slotPatches.get(array.name) ?? []).filter((p) => p.file === array.file);
      array.slots.forEach((s, i) => {
        const key = s.slot.replace(/^Py_/, '');
        const patch = patches.find((p) => p.index === i);
        const value: ValueFact = patch ? patchedValue(patch.value) : s.value;
        slots.set(key, slotValue(value, { line: s.line, column: s.column }, array.file));
      });
    } else {
      slotsKnown = false;
      uncertainties.push({ file: spec.file, line: spec.line, message: `slot array ${spec.slots.name} of ${spec.cName} was not found in the analysed files` });
    }
  } else if (spec.slots && spec.slots.kind !== 'null') {
    slotsKnown = false;
    uncertainties.push({ file: spec.file, line: spec.line, message: `slots of ${spec.cName} are not a named PyType_Slot array` });
  }
  const flags = resolveFlags(spec.flags, spec.file, index);
  if (!spec.flags) flags.position = null;
  const structName = spec.basicsize?.kind === 'sizeof' ? spec.basicsize.typeName : null;
  const t: ExtensionType = {
    id: `${spec.file}:${spec.scope ? spec.scope + ':' : ''}${spec.cName}:${spec.line}`, kind: 'heap', cName: spec.cName, name, module: moduleOf(name),
    file: spec.file, line: spec.line, column: spec.column, flags, slots,
    struct: structName ? index.struct(structName, spec.file) : null, structName,
    bases: [], creations: [], storage: new Set(), spec, staticType: null, slotsKnown, basesKnown: true,
  };
  return t;
}

function patchedValue(text: string): ValueFact {
  if (text === 'NULL' || text === '0') return { kind: 'null' };
  if (/^\w+$/.test(text)) return { kind: 'identifier', name: text };
  if (/^&\w+$/.test(text)) return { kind: 'address', name: text.slice(1) };
  return { kind: 'expression', text, identifiers: text.match(/[A-Za-z_]\w*/g) ?? [] };
}

function slotValue(v: ValueFact, pos: { line: number; column: number }, file: string): SlotValue {
  if (v.kind === 'identifier') return { function: v.name, expression: null, file, ...pos };
  if (v.kind === 'null' || (v.kind === 'number' && v.value === 0)) return { function: null, expression: null, file, ...pos };
  const expression = v.kind === 'expression' ? v.text : v.kind === 'address' ? `&${v.name}` : JSON.stringify(v);
  return { function: null, expression, file, ...pos };
}

function resolveName(v: ValueFact | null, file: string, index: FactIndex): string | null {
  if (!v) return null;
  if (v.kind === 'string') return v.value;
  if (v.kind === 'identifier') {
    const body = index.objectMacro(v.name, file);
    return body ? evaluateStringConcatenation(body, file, index, 0) : null;
  }
  if (v.kind === 'expression') return evaluateStringConcatenation(v.text, file, index, 0);
  return null;
}

/** `MODULE_NAME ".Foo"` with `#define MODULE_NAME "_foo"` → `_foo.Foo`. */
function evaluateStringConcatenation(text: string, file: string, index: FactIndex, depth: number): string | null {
  if (depth > 6) return null;
  let out = '';
  const re = /\s*(?:"((?:\\.|[^"\\])*)"|([A-Za-z_]\w*)|\(|\))/y;
  let pos = 0;
  const src = text.trim();
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) return null;
    pos = re.lastIndex;
    if (m[1] !== undefined) out += m[1];
    else if (m[2] !== undefined) {
      const body = index.objectMacro(m[2], file);
      if (body === null) return null;
      const part = evaluateStringConcatenation(body, file, index, depth + 1);
      if (part === null) return null;
      out += part;
    }
  }
  return out;
}

function moduleOf(name: string | null): string | null {
  if (!name) return null;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : null;
}

/** Resolves a flags expression to the set of Py_TPFLAGS_* names it contains. */
function resolveFlags(v: (ValueFact & { line?: number; column?: number }) | null, file: string, index: FactIndex): FlagSet {
  const flags: FlagSet = { names: new Set(), unresolved: [], position: v && v.line ? { line: v.line, column: v.column ?? 1 } : null };
  if (!v) return flags;
  const text = v.kind === 'identifier' ? v.name : v.kind === 'expression' ? v.text : v.kind === 'number' ? String(v.value) : v.kind === 'null' ? '0' : '';
  addFlagsFromText(text, file, index, flags, 0);
  return flags;
}

function addFlagsFromText(text: string, file: string, index: FactIndex, flags: FlagSet, depth: number): void {
  const tokens = text.match(/[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|[|&~()^!]|\S/g) ?? [];
  // Only `|` combinations of names are understood; `&~` removes nothing we rely on, so treat it as unknown.
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '|' || t === '(' || t === ')') continue;
    if (/^[A-Za-z_]/.test(t)) {
      if (/^Py_TPFLAGS_\w+$/.test(t) && !index.objectMacro(t, file)) {
        flags.names.add(t);
        continue;
      }
      const body = depth < 8 ? index.objectMacro(t, file) : null;
      if (body !== null) {
        addFlagsFromText(body, file, index, flags, depth + 1);
        continue;
      }
      if (/^Py_TPFLAGS_\w+$/.test(t)) {
        flags.names.add(t);
        continue;
      }
      flags.unresolved.push(t);
      continue;
    }
    if (/^(0[xX]0*|0+)$/.test(t)) continue;
    if (/^\d|^0[xX]/.test(t)) {
      const n = Number(t);
      // Bit 14 is Py_TPFLAGS_HAVE_GC; numeric flags are rare but cheap to honour.
      if (Number.isFinite(n) && n & (1 << 14)) flags.names.add('Py_TPFLAGS_HAVE_GC');
      else flags.unresolved.push(t);
      continue;
    }
    flags.unresolved.push(t);
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
  for (const f of index.files) {
    for (const a of f.staticFieldAssignments) {
      if (a.typeName !== st.cName) continue;
      if (a.field === 'tp_flags') addFlagsFromText(a.value, f.file, index, flags, 0);
      else slots.set(a.field, slotValue(/^\w+$/.test(a.value) ? (a.value === 'NULL' ? { kind: 'null' } : { kind: 'identifier', name: a.value }) : { kind: 'expression', text: a.value, identifiers: [] }, a, f.file));
    }
  }
  if (st.positionalUnreliable) {
    uncertainties.push({ file: st.file, line: st.line, message: `the initializer of ${st.cName} did not parse cleanly; its fields may be misread` });
  }
  const basicsize = st.fields.tp_basicsize;
  const structName = basicsize?.kind === 'sizeof' ? basicsize.typeName : null;
  return {
    id: `${st.file}:${st.cName}`, kind: 'static', cName: st.cName, name, module: moduleOf(name),
    file: st.file, line: st.line, column: st.column, flags, slots,
    struct: structName ? index.struct(structName, st.file) : null, structName,
    bases: [], creations: [], storage: new Set([`global:${st.cName}`]), spec: null, staticType: st,
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
        addStorage(t, c.storedIn, index.pick(index.functions, c.inFunction ?? '', c.file));
        continue;
      }
      // The spec may be a parameter of a helper: resolve it at each call site of the helper.
      const helper = c.inFunction ? index.pick(index.functions, c.inFunction, c.file) : null;
      const paramIndex = helper ? helper.params.findIndex((p) => p.name === c.spec) : -1;
      if (helper && paramIndex >= 0) {
        for (const caller of index.callers.get(helper.name) ?? []) {
          for (const call of caller.calls) {
            if (call.callee !== helper.name) continue;
            const arg = call.args[paramIndex]?.replace(/^&/, '');
            const target = arg ? pickType(arg, caller.file) : null;
            if (!target) continue;
            target.creations.push({ ...c, spec: arg, storedIn: call.assignedTo, inFunction: caller.name, file: caller.file, line: call.line, column: call.column });
            addStorage(target, call.assignedTo, caller);
          }
        }
        continue;
      }
    }
    // A loop over a table of specs, local or at file scope: `PyType_Spec *specs[] = {&a_spec, &b_spec}; … specs[i] …`.
    const table = /^(\w+)\[[^\]]*\]$/.exec(c.specExpression)?.[1];
    const fn = c.inFunction ? index.pick(index.functions, c.inFunction, c.file) : null;
    const init = table && fn ? fn.assignments.find((a) => a.target === table && a.value.startsWith('{')) : undefined;
    const globalTable = table && !init ? index.files.find((f) => f.file === c.file)?.globals.find((g) => g.name === table) : undefined;
    const entries = init ? [...init.value.matchAll(/&(\w+)/g)].map((m) => m[1]) : globalTable?.addressesInInitializer ?? [];
    const resolved = entries.map((e) => pickType(e, c.file, c.inFunction)).filter((t): t is ExtensionType => !!t);
    if (resolved.length && resolved.length === entries.length) {
      for (const t of resolved) t.creations.push({ ...c, spec: t.cName, storedIn: null });
      continue;
    }
    model.uncertainties.push({ file: c.file, line: c.line, message: `${c.creator}(${c.specExpression}, …): the spec could not be resolved` });
  }
}

/**
 * A spec that is never passed to a PyType_From* call we can see, but is used in code (a helper we cannot find,
 * a table walked in a loop), may get a base there: its bases are unknown.
 */
function markUnfollowedCreations(model: Model, index: FactIndex): void {
  const referenced = new Map<string, FunctionFact>();
  for (const fns of index.functions.values()) for (const fn of fns) for (const r of fn.references) if (!referenced.has(r)) referenced.set(r, fn);
  for (const t of model.types) {
    if (t.kind !== 'heap' || t.creations.length) continue;
    const user = referenced.get(t.cName);
    if (!user) continue;
    t.basesKnown = false;
    model.uncertainties.push({ file: t.file, line: t.line, message: `${t.cName} is used in ${user.name}() but never passed to a PyType_From* call the analysis can see; its base is unknown` });
  }
}

function addStorage(t: ExtensionType, storedIn: string | null, fn: FunctionFact | null): void {
  if (!storedIn || storedIn === 'return') {
    if (storedIn === 'return' && fn) t.storage.add(`return:${fn.name}`);
    return;
  }
  for (const place of followLocal(storedIn, fn)) {
    const field = /(?:->|\.)(\w+)$/.exec(place);
    if (field) t.storage.add(`field:${field[1]}`);
    else if (/^\w+$/.test(place)) {
      const isLocal = fn?.locals.some((l) => l.name === place) || fn?.params.some((p) => p.name === place);
      t.storage.add(isLocal && fn ? `local:${fn.name}:${place}` : `global:${place}`);
    }
  }
}

/** A local that receives the type is often copied to its real home: `st->Foo = (PyTypeObject *)tmp;`. */
function followLocal(place: string, fn: FunctionFact | null): string[] {
  const out = [place];
  if (!fn || !/^\w+$/.test(place)) return out;
  for (const a of fn.assignments) if (a.value === place && a.target !== place) out.push(a.target);
  return out;
}

function resolveBases(t: ExtensionType, model: Model, index: FactIndex): void {
  const expressions: { expr: string; fn: FunctionFact | null }[] = [];
  if (t.kind === 'heap') {
    for (const c of t.creations) if (c.bases) expressions.push({ expr: c.bases, fn: index.pick(index.functions, c.inFunction ?? '', c.file) });
    const base = t.slots.get('tp_base') ?? t.slots.get('tp_bases');
    if (base) expressions.push({ expr: base.function ?? base.expression ?? '', fn: null });
  } else {
    const base = t.slots.get('tp_base');
    if (base && (base.function || base.expression)) expressions.push({ expr: base.function ?? base.expression ?? '', fn: null });
  }
  for (const { expr, fn } of expressions) {
    for (const e of expandBaseExpression(expr, fn)) t.bases.push(resolveBase(e, t, model, index, fn));
  }
}

/** `PyTuple_Pack(1, X)` → X; a local assigned once → its value. */
function expandBaseExpression(expr: string, fn: FunctionFact | null, depth = 0): string[] {
  if (depth > 4) return [expr];
  const pack = /^PyTuple_Pack\(\d+,(.*)\)$/.exec(expr);
  if (pack) return splitArgs(pack[1]).flatMap((e) => expandBaseExpression(e, fn, depth + 1));
  if (fn && /^\w+$/.test(expr)) {
    // A parameter can hold any type, whatever default the function assigns to it.
    if (fn.params.some((p) => p.name === expr)) return [expr];
    const assigned = fn.assignments.filter((a) => a.target === expr);
    if (assigned.length === 1) return expandBaseExpression(assigned[0].value, fn, depth + 1);
  }
  return [expr];
}

function resolveBase(expr: string, owner: ExtensionType, model: Model, index: FactIndex, fn: FunctionFact | null): BaseRef {
  const builtin = builtinBase(expr);
  if (builtin) return { kind: 'builtin', expression: expr, name: builtin.name, gc: builtin.gc, traverseVisitsType: builtin.traverseVisitsType, heap: false };
  const found = resolveTypeExpression(expr, model, fn, owner.file);
  if (found && found !== owner) return { kind: 'model', expression: expr, type: found };
  if (isPythonClassPlace(expr, index)) return { kind: 'python-class', expression: expr };
  const where = owner.creations[0] ?? owner;
  model.uncertainties.push({ file: where.file, line: where.line, message: `the base ${expr} of ${owner.name ?? owner.cName} could not be resolved; GC inheritance is undecided` });
  return { kind: 'unknown', expression: expr };
}

/** True when the place is filled by PyErr_NewException(…) or a class created from Python code. */
function isPythonClassPlace(expr: string, index: FactIndex): boolean {
  const field = /(?:->|\.)(\w+)$/.exec(expr)?.[1];
  index.pythonClassPlaces ??= pythonClassPlaces(index.functions);
  return index.pythonClassPlaces.has(field ?? expr);
}

/** Fields and globals that receive PyErr_NewException(…): classes created at run time, like a class statement. */
function pythonClassPlaces(functions: ReadonlyMap<string, FunctionFact[]>): Set<string> {
  const places = new Set<string>();
  for (const fns of functions.values()) {
    for (const fn of fns) {
      for (const call of fn.calls) {
        if (!/^PyErr_NewException(WithDoc)?$/.test(call.callee) || !call.assignedTo) continue;
        places.add(/(?:->|\.)(\w+)$/.exec(call.assignedTo)?.[1] ?? call.assignedTo);
      }
    }
  }
  return places;
}

/**
 * What type object an expression denotes: `&Foo_Type`, `st->FooType`, `clinic_state()->FooType`, a global, or a
 * local that holds one of those. Returns null when it cannot tell.
 */
export function resolveTypeExpression(expr: string, model: Model, fn: FunctionFact | null, file: string, depth = 0): ExtensionType | null {
  if (depth > 5) return null;
  const e = expr.replace(/^\((?:PyObject|PyTypeObject)\*\)/, '');
  const created = /^PyType_From\w+\((?:[^&]*,)?&(\w+)[,)]/.exec(e);
  if (created) return pickNearest(model.types.filter((t) => t.kind === 'heap' && t.cName === created[1]), file);
  const amp = /^&(\w+)$/.exec(e);
  if (amp) return pickNearest(model.types.filter((t) => t.kind === 'static' && t.cName === amp[1]), file);
  const field = /(?:->|\.)(\w+)$/.exec(e);
  if (field && !/^Py_TYPE\(/.test(e)) {
    return pickNearest(model.types.filter((t) => t.storage.has(`field:${field[1]}`)), file);
  }
  if (/^\w+$/.test(e)) {
    if (fn) {
      if (fn.params.some((p) => p.name === e)) return null;
      const local = model.types.filter((t) => t.storage.has(`local:${fn.name}:${e}`));
      if (local.length) return pickNearest(local, file);
      const assigned = fn.assignments.filter((a) => a.target === e);
      if (assigned.length === 1) {
        const viaCall = /^(\w+)\(/.exec(assigned[0].value);
        if (viaCall) {
          const fromCall = model.types.filter((t) => t.storage.has(`return:${viaCall[1]}`));
          if (fromCall.length) return pickNearest(fromCall, file);
        }
        return resolveTypeExpression(assigned[0].value, model, fn, file, depth + 1);
      }
      if (fn.params.some((p) => p.name === e) || fn.locals.some((l) => l.name === e)) return null;
    }
    return pickNearest(model.types.filter((t) => t.storage.has(`global:${e}`) && t.kind === 'heap'), file)
      ?? pickNearest(model.types.filter((t) => t.kind === 'static' && t.cName === e), file);
  }
  return null;
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
  if (!size || (size.kind === 'number' && size.value <= 0) || (size.kind === 'expression' && /^-\d+$/.test(size.text))) kind = 'none';
  else if (size.kind === 'sizeof') {
    kind = 'state';
    stateStructName = size.typeName;
  }
  return { def, name, stateStruct: stateStructName ? index.struct(stateStructName, def.file) : null, stateStructName, size: kind };
}

// ---------------------------------------------------------------------------------------------------------------
// allocations

function findAllocations(model: Model): AllocationSite[] {
  const sites: AllocationSite[] = [];
  const slotOwners = slotOwnerIndex(model);
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      for (const call of fn.calls) {
        let allocator: Allocator | null = null;
        let typeExpr: string | undefined;
        let structName: string | null = null;
        const known = ALLOCATORS[call.callee];
        if (known) {
          allocator = known.allocator;
          typeExpr = call.args[known.typeArg];
          structName = known.structArg !== null ? call.args[known.structArg] ?? null : null;
          if (allocator === 'malloc-init' && !isMallocResult(call.args[0] ?? '', fn)) continue;
        } else if (/->tp_alloc$/.test(call.callee)) {
          allocator = 'tp-alloc';
          typeExpr = call.args[0] ?? call.callee.replace(/->tp_alloc$/, '');
        }
        if (!allocator || typeExpr === undefined) continue;
        let type = resolveAllocatedType(typeExpr, fn, model, slotOwners);
        if (!type && structName) {
          const byStruct = model.types.filter((t) => t.structName === structName);
          type = pickNearest(byStruct, fn.file);
        }
        if (type) sites.push({ function: fn, call, allocator, type });
      }
    }
  }
  return sites;
}

function isMallocResult(obj: string, fn: FunctionFact): boolean {
  const a = fn.assignments.filter((x) => x.target === obj);
  return a.some((x) => /^PyObject_(Malloc|MALLOC|Calloc)\(/.test(x.value) || /^PyMem_(Malloc|New)\b/.test(x.value));
}

/** Functions used in type slots, by name → the types that use them. */
function slotOwnerIndex(model: Model): Map<string, ExtensionType[]> {
  const owners = new Map<string, ExtensionType[]>();
  for (const t of model.types) for (const v of t.slots.values()) if (v.function) push(owners, v.function, t);
  return owners;
}

function resolveAllocatedType(typeExpr: string, fn: FunctionFact, model: Model, slotOwners: Map<string, ExtensionType[]>): ExtensionType | null {
  const direct = resolveTypeExpression(typeExpr, model, fn, fn.file);
  if (direct) return direct;
  // `type` in tp_new is the type being instantiated (or a Python subclass, which shares GC-ness).
  const bare = typeExpr.replace(/^\((?:PyObject|PyTypeObject)\*\)/, '');
  if (fn.params[0]?.name === bare) {
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
