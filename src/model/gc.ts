// Questions about the GC protocol, answered from the model. Every answer can be "unknown", with the reason.

import type { AllocationSite, BaseRef, ExtensionType, FunctionFact, Model } from './model.js';
import type { Expr } from './facts.js';
import { TRACKING_CALLS, TYPE_VISITING_TRAVERSES } from './capi.js';
import { ExprSet, calleeName, containsGetSlot, isArrowSlot, isName, isZero, leadingName, render, typeOfObject } from './expr.js';
import { callsInMacroBody } from './macros.js';

export type Answer = 'yes' | 'no' | 'unknown';

export interface GcAnswer {
  answer: Answer;
  /** How the type gets GC support, or why it is unknown. */
  reason: string;
  inheritedFrom?: BaseRef;
}

export function isGcType(model: Model, t: ExtensionType, seen = new Set<ExtensionType>()): GcAnswer {
  if (t.flags.names.has('Py_TPFLAGS_HAVE_GC')) return { answer: 'yes', reason: 'Py_TPFLAGS_HAVE_GC' };
  if (seen.has(t)) return { answer: 'unknown', reason: 'circular bases' };
  seen.add(t);
  const ownTraverseOrClear = hasOwnSlot(t, 'tp_traverse') || hasOwnSlot(t, 'tp_clear');
  let unknownReason: string | null = null;
  if (!ownTraverseOrClear) {
    for (const base of t.bases) {
      const g = baseIsGc(model, base, seen);
      if (g.answer === 'yes') return { answer: 'yes', reason: `inherited from ${describeBase(base)}`, inheritedFrom: base };
      if (g.answer === 'unknown') unknownReason ??= g.reason;
    }
  }
  if (!ownTraverseOrClear && !t.basesKnown) unknownReason ??= `${t.cName} is created where the analysis cannot see its base`;
  if (t.flags.unresolved.length) {
    return { answer: 'unknown', reason: `the flags use ${t.flags.unresolved.join(', ')}, which the analysed files do not define` };
  }
  if (unknownReason) return { answer: 'unknown', reason: unknownReason };
  return { answer: 'no', reason: 'no Py_TPFLAGS_HAVE_GC' };
}

function baseIsGc(model: Model, base: BaseRef, seen: Set<ExtensionType>): GcAnswer {
  switch (base.kind) {
    case 'builtin': return { answer: base.gc ? 'yes' : 'no', reason: base.name };
    case 'python-class': return { answer: 'yes', reason: 'a class created at run time' };
    case 'model': return isGcType(model, base.type, seen);
    case 'unknown': return { answer: 'unknown', reason: `the base ${render(base.expression)} could not be resolved` };
  }
}

export function describeBase(base: BaseRef): string {
  switch (base.kind) {
    case 'builtin': return base.name;
    case 'model': return displayName(base.type);
    default: return render(base.expression);
  }
}

export function displayName(t: ExtensionType): string {
  return t.name ?? t.cName;
}

export function hasOwnSlot(t: ExtensionType, slot: string): boolean {
  const v = t.slots.get(slot);
  return !!v && (v.function !== null || v.expression !== null);
}

// ---------------------------------------------------------------------------------------------------------------
// traverse

export type TraverseInfo =
  | { kind: 'own'; functionName: string; fn: FunctionFact | null; owner: ExtensionType }
  | { kind: 'inherited-builtin'; base: BaseRef; visitsType: boolean }
  | { kind: 'none' }
  | { kind: 'unknown'; reason: string };

/** The tp_traverse a type ends up with: its own, or one inherited from a base. */
export function traverseOf(model: Model, t: ExtensionType, seen = new Set<ExtensionType>()): TraverseInfo {
  const own = t.slots.get('tp_traverse');
  if (own?.function) {
    return { kind: 'own', functionName: own.function, fn: findFunction(model, own.function, own.file), owner: t };
  }
  if (own?.expression) return { kind: 'unknown', reason: `tp_traverse is ${render(own.expression)}` };
  if (!t.slotsKnown) return { kind: 'unknown', reason: 'its slots could not all be read' };
  if (seen.has(t)) return { kind: 'unknown', reason: 'circular bases' };
  seen.add(t);
  // inherit_special copies tp_traverse (with tp_clear and the flag) only into a type that sets none of the three.
  if (t.flags.names.has('Py_TPFLAGS_HAVE_GC') || hasOwnSlot(t, 'tp_clear')) return { kind: 'none' };
  if (!t.basesKnown) return { kind: 'unknown', reason: 'its base is unknown' };
  for (const base of t.bases) {
    const gc = baseIsGc(model, base, new Set());
    if (gc.answer === 'no') continue;
    if (gc.answer === 'unknown') return { kind: 'unknown', reason: gc.reason };
    switch (base.kind) {
      case 'builtin':
        return { kind: 'inherited-builtin', base, visitsType: base.traverseVisitsType };
      case 'python-class':
        // subtype_traverse visits the type of heap instances.
        return { kind: 'inherited-builtin', base, visitsType: true };
      case 'model': {
        const inherited = traverseOf(model, base.type, seen);
        return inherited;
      }
      case 'unknown':
        return { kind: 'unknown', reason: `the base ${render(base.expression)} could not be resolved` };
    }
  }
  return { kind: 'none' };
}

/**
 * Whether a type gets tp_clear (or another GC slot) from a base: only through inherit_special, i.e. when it sets
 * none of HAVE_GC, tp_traverse and tp_clear itself.
 */
export function inheritedSlot(model: Model, t: ExtensionType, slot: 'tp_clear', seen = new Set<ExtensionType>()): Answer | 'none' {
  if (seen.has(t)) return 'unknown';
  seen.add(t);
  if (t.flags.names.has('Py_TPFLAGS_HAVE_GC') || hasOwnSlot(t, 'tp_traverse') || hasOwnSlot(t, 'tp_clear')) return 'none';
  if (!t.basesKnown) return 'unknown';
  for (const base of t.bases) {
    if (base.kind === 'unknown') return 'unknown';
    if (base.kind === 'python-class') return 'yes';
    if (base.kind === 'builtin') {
      if (base.gc) return 'yes';
      continue;
    }
    if (hasOwnSlot(base.type, slot)) return 'yes';
    const deeper = inheritedSlot(model, base.type, slot, seen);
    if (deeper !== 'none') return deeper;
  }
  return 'none';
}

/** The definition of `name` a call in `nearFile` links to (see SymbolTable), or null. */
export function findFunction(model: Model, name: string, nearFile: string): FunctionFact | null {
  return model.symbols.function(name, nearFile);
}

export interface VisitAnswer {
  answer: Answer;
  reason: string;
  /**
   * With a `yes`: the `return 0` statements taken before the visit (in the traverse or in the helper it reaches the
   * visit through), on whose paths the type is never visited.
   */
  escapes?: EarlyReturn[];
}

/** A `return 0;` a traverse takes before visiting the type. */
export interface EarlyReturn {
  /** The function the return is in (the traverse itself, or a helper that does the visit). */
  function: string;
  file: string;
  line: number;
  /** The condition the return sits under, if any. */
  guard: Expr | null;
}

/**
 * The `return 0;` statements of `fn` before its call number `callIndex`: a nonzero result (`if (err) return err;`,
 * what Py_VISIT does inside) stops the traversal on an error and is no escape.
 */
function returnsBefore(fn: FunctionFact, callIndex: number): EarlyReturn[] {
  return fn.returnSites
    .filter((r) => r.afterCalls <= callIndex && isZero(r.value))
    .map((r) => ({ function: fn.name, file: fn.file, line: r.line, guard: r.guard }));
}

function visitAt(fn: FunctionFact, callIndex: number, reason: string, inner: EarlyReturn[] = []): VisitAnswer {
  return { answer: 'yes', reason, escapes: [...returnsBefore(fn, callIndex), ...inner] };
}

/**
 * Does traverse function `fn` visit the type of the object (`Py_VISIT(Py_TYPE(self))`), directly or through
 * what it calls? `owner` is the type whose traverse this is (for delegation to its base).
 */
export function traverseVisitsType(model: Model, fn: FunctionFact, owner: ExtensionType, depth = 0, seen = new Set<string>()): VisitAnswer {
  if (seen.has(fn.name)) return { answer: 'no', reason: 'recursion' };
  if (depth > 8) return { answer: 'unknown', reason: `${fn.name}() is nested too deep to follow` };
  seen.add(fn.name);
  const visitParam = fn.params.find((p) => p.typeName === 'visitproc')?.name ?? fn.params[1]?.name ?? 'visit';
  let unknown: string | null = null;
  for (const [i, call] of fn.calls.entries()) {
    const callee = calleeName(call.callee);
    if (callee === 'Py_VISIT' && denotesTypeOfObject(call.args[0], fn)) return visitAt(fn, i, `Py_VISIT(${render(call.args[0])})`);
    if (callee === visitParam && denotesTypeOfObject(call.args[0], fn)) return visitAt(fn, i, `${visitParam}(${render(call.args[0])}, …)`);
    if (callee !== null && TYPE_VISITING_TRAVERSES.has(callee)) return visitAt(fn, i, callee);
    if (!call.args.some((a) => isName(a, visitParam))) {
      if (callee !== null && macroVisitsType(model, callee, fn.file) === 'yes') return visitAt(fn, i, `macro ${callee}`);
      continue;
    }
    const delegated = delegationVisitsType(model, call.callee, fn, owner, depth, seen);
    if (delegated.answer === 'yes') return visitAt(fn, i, delegated.reason, delegated.escapes);
    if (delegated.answer === 'unknown') unknown ??= delegated.reason;
  }
  if (unknown) return { answer: 'unknown', reason: unknown };
  return { answer: 'no', reason: 'no visit of the type' };
}

const NON_TYPE_VISITING_APIS: ReadonlySet<string> = new Set(['PyObject_VisitManagedDict', '_PyObject_VisitManagedDict', 'Py_VISIT']);

/** `base->tp_traverse`, or `PyType_GetSlot(base, Py_tp_traverse)` anywhere in it. */
function isBaseTraverse(e: Expr): boolean {
  return isArrowSlot(e, 'tp_traverse') || containsGetSlot(e, 'tp_traverse');
}

function delegationVisitsType(model: Model, calleeExpr: Expr, fn: FunctionFact, owner: ExtensionType, depth: number, seen: Set<string>): VisitAnswer {
  const callee = calleeName(calleeExpr);
  if (callee !== null) {
    if (NON_TYPE_VISITING_APIS.has(callee)) return { answer: 'no', reason: callee };
    const target = findFunction(model, callee, fn.file);
    if (target) return traverseVisitsType(model, target, owner, depth + 1, seen);
    // A local function pointer from PyType_GetSlot(base, Py_tp_traverse) or base->tp_traverse.
    const assigned = fn.assignments.filter((a) => isName(a.target, callee));
    if (assigned.some((a) => isBaseTraverse(a.value))) return baseTraverseVisitsType(model, owner, depth, seen);
    if (model.symbols.macro(callee, fn.file)) return { answer: 'unknown', reason: `the macro ${callee} hides what it visits` };
    return { answer: 'unknown', reason: `${callee}() is not defined in the analysed files` };
  }
  if (isBaseTraverse(calleeExpr)) return baseTraverseVisitsType(model, owner, depth, seen);
  return { answer: 'unknown', reason: `the call through ${render(calleeExpr)} cannot be followed` };
}

/** Delegating to "the base's traverse": covers the type visit only when that base is a heap type that visits it. */
function baseTraverseVisitsType(model: Model, owner: ExtensionType, depth: number, seen: Set<string>): VisitAnswer {
  if (!owner.bases.length) return { answer: 'unknown', reason: `the base of ${displayName(owner)} is not known` };
  for (const base of owner.bases) {
    if (base.kind === 'builtin') return { answer: 'no', reason: `the base ${base.name} is a static type whose traverse does not visit the type` };
    if (base.kind === 'python-class') return { answer: 'yes', reason: 'subtype_traverse of the base' };
    if (base.kind === 'unknown') return { answer: 'unknown', reason: `the base ${render(base.expression)} could not be resolved` };
    const t = traverseOf(model, base.type);
    if (t.kind === 'own' && t.fn) return traverseVisitsType(model, t.fn, base.type, depth + 1, seen);
    if (t.kind === 'inherited-builtin') return { answer: t.visitsType ? 'yes' : 'no', reason: describeBase(t.base) };
    if (t.kind === 'own' && TYPE_VISITING_TRAVERSES.has(t.functionName)) return { answer: 'yes', reason: t.functionName };
    return { answer: 'unknown', reason: `the traverse of ${displayName(base.type)} cannot be followed` };
  }
  return { answer: 'unknown', reason: 'no base' };
}

/** `Py_TYPE(self)`, `self->ob_type`, `self->ob_base.ob_type`, or a local assigned one of those. */
function denotesTypeOfObject(expr: Expr | undefined, fn: FunctionFact, depth = 0): boolean {
  if (!expr) return false;
  if (typeOfObject(expr)) return true;
  if (depth < 3 && expr.k === 'name') {
    const assigned = fn.assignments.filter((a) => isName(a.target, expr.name));
    return assigned.length > 0 && assigned.every((a) => denotesTypeOfObject(a.value, fn, depth + 1));
  }
  return false;
}

function macroVisitsType(model: Model, name: string, file: string): Answer {
  const def = model.symbols.macro(name, file);
  if (!def) return 'no';
  const visitsType = (call: Expr & { k: 'call' }) => {
    const callee = calleeName(call.callee);
    return (callee === 'Py_VISIT' && typeOfObject(call.args[0])?.via === 'Py_TYPE') || (callee !== null && TYPE_VISITING_TRAVERSES.has(callee));
  };
  return callsInMacroBody(def).some(visitsType) ? 'yes' : 'no';
}

// ---------------------------------------------------------------------------------------------------------------
// tracking

export interface TrackingAnswer {
  answer: Answer;
  reason: string;
}

/**
 * Is the object allocated at `site` (with PyObject_GC_New) tracked before it escapes to Python? `facts` come from
 * `trackingFacts(model)`, computed once per model by the caller.
 */
export function allocationIsTracked(model: Model, site: AllocationSite, facts: TrackingFacts): TrackingAnswer {
  const answer = functionTracksResult(model, facts, site.function, site.call.assignedTo, site.call.returned, site.call.order, 0);
  if (answer.answer !== 'no') return answer;
  // Some types track their instances later, on purpose (a capsule once it gets a traverse function).
  const deferred = deferredTracker(site, facts.trackers);
  return deferred ? { answer: 'unknown', reason: `tracking may be deferred to ${deferred.name}()` } : answer;
}

export type TrackersByStruct = ReadonlyMap<string, readonly FunctionFact[]>;

/** What every tracking question about one model needs, computed once per model by the caller. */
export interface TrackingFacts {
  trackers: TrackersByStruct;
  /** Fields whose value some function tracks. */
  trackedFields: ReadonlySet<string>;
}

export function trackingFacts(model: Model): TrackingFacts {
  return { trackers: trackersByStruct(model), trackedFields: fieldsTrackedAnywhere(model) };
}

/** Functions that track an object without allocating one, by the type names of their parameters and locals. */
export function trackersByStruct(model: Model): TrackersByStruct {
  const allocating = new Set(model.allocations.map((a) => a.function));
  const trackers = new Map<string, FunctionFact[]>();
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      if (allocating.has(fn) || !fn.calls.some(isTrackingCall)) continue;
      for (const typeName of new Set([...fn.params, ...fn.locals].map((v) => v.typeName))) {
        const list = trackers.get(typeName);
        if (list) list.push(fn);
        else trackers.set(typeName, [fn]);
      }
    }
  }
  return trackers;
}

/** A function that tracks an existing instance of the type (one it did not allocate itself). */
function deferredTracker(site: AllocationSite, trackers: TrackersByStruct): FunctionFact | null {
  const structName = site.type.structName;
  if (!structName) return null;
  return trackers.get(structName)?.find((fn) => fn !== site.function) ?? null;
}

function isTrackingCall(call: { callee: Expr }): boolean {
  const callee = calleeName(call.callee);
  return callee !== null && TRACKING_CALLS.has(callee);
}

function functionTracksResult(model: Model, facts: TrackingFacts, fn: FunctionFact, variable: Expr | null, isReturned: boolean, afterOrder: number, depth: number): TrackingAnswer {
  const names = aliasesOf(isReturned ? null : variable, fn);
  let opaqueHelper: string | null = null;
  for (const call of fn.calls) {
    if (call.order < afterOrder) continue;
    if (isTrackingCall(call)) return { answer: 'yes', reason: `${render(call.callee)} in ${fn.name}()` };
    // Handed to a helper that tracks it.
    if (call.args.some((a) => names.has(a))) {
      const callee = calleeName(call.callee);
      const helper = callee === null ? null : findFunction(model, callee, fn.file);
      if (helper && helper !== fn && helper.calls.some(isTrackingCall)) {
        return { answer: 'yes', reason: `${callee}() tracks it` };
      }
      if (!helper && !/^_?Py/.test(leadingName(call.callee) ?? '')) opaqueHelper ??= render(call.callee);
    }
  }
  if (opaqueHelper) return { answer: 'unknown', reason: `${fn.name}() hands it to ${opaqueHelper}(), which the analysis cannot see` };
  // Stored through an out-parameter (`*out = op;`): the callers get it in the variable they passed.
  const outParam = outParameterReceiving(fn, names);
  if (outParam >= 0) return callersTrackOutParam(model, facts, fn, outParam, depth);
  // Stored into a field of another object: tracked later by whoever tracks what that field holds, if anyone.
  const field = fn.assignments.find((a) => names.has(a.value) && a.target.k === 'member' && !names.has(a.target.object));
  if (field && field.target.k === 'member' && facts.trackedFields.has(field.target.field)) {
    return { answer: 'unknown', reason: `${fn.name}() stores it in ${render(field.target)}, which another function tracks` };
  }
  const returned = isReturned || fn.returns.some((r) => names.has(r));
  if (!returned) return { answer: 'no', reason: `${fn.name}() never calls PyObject_GC_Track` };
  // The object leaves through `return`: the callers must track it.
  if (model.exposedFunctions.has(fn.name)) return { answer: 'no', reason: `${fn.name}() returns it to Python untracked` };
  const callers = (model.callers.get(fn.name) ?? []).filter((c) => c !== fn);
  if (!callers.length) {
    return fn.isStatic
      ? { answer: 'no', reason: `${fn.name}() returns it untracked` }
      : { answer: 'unknown', reason: `${fn.name}() returns it and its callers are not in the analysed files` };
  }
  if (depth >= 3) return { answer: 'unknown', reason: 'the object passes through too many callers' };
  let unknown: string | null = null;
  for (const caller of callers) {
    for (const call of caller.calls) {
      if (!isName(call.callee, fn.name)) continue;
      const r = functionTracksResult(model, facts, caller, call.assignedTo, call.returned, call.order, depth + 1);
      if (r.answer === 'no') return { answer: 'no', reason: `${caller.name}() gets it from ${fn.name}() and never tracks it` };
      if (r.answer === 'unknown') unknown ??= r.reason;
    }
  }
  return unknown ? { answer: 'unknown', reason: unknown } : { answer: 'yes', reason: 'every caller tracks it' };
}

/** The index of the parameter the object is stored through (`*out = op;`), or -1. */
function outParameterReceiving(fn: FunctionFact, names: ExprSet): number {
  for (const a of fn.assignments) {
    if (a.target.k !== 'deref' || !names.has(a.value)) continue;
    const pointer = a.target.of;
    const i = fn.params.findIndex((p) => isName(pointer, p.name));
    if (i >= 0) return i;
  }
  return -1;
}

/** `alloc(&r)` in each caller of `fn`: is `r` tracked after the call? */
function callersTrackOutParam(model: Model, facts: TrackingFacts, fn: FunctionFact, paramIndex: number, depth: number): TrackingAnswer {
  const callers = (model.callers.get(fn.name) ?? []).filter((c) => c !== fn);
  if (!callers.length) return { answer: 'unknown', reason: `${fn.name}() hands it out through a parameter and its callers are not in the analysed files` };
  if (depth >= 3) return { answer: 'unknown', reason: 'the object passes through too many callers' };
  let unknown: string | null = null;
  for (const caller of callers) {
    for (const call of caller.calls) {
      if (!isName(call.callee, fn.name)) continue;
      const arg = call.args[paramIndex];
      const variable = arg?.k === 'addr' ? arg.of : null;
      if (!variable) {
        unknown ??= `${caller.name}() passes ${render(arg)} to ${fn.name}()`;
        continue;
      }
      const r = functionTracksResult(model, facts, caller, variable, false, call.order + 1, depth + 1);
      if (r.answer === 'no') return { answer: 'no', reason: `${caller.name}() gets it from ${fn.name}() and never tracks it` };
      if (r.answer === 'unknown') unknown ??= r.reason;
    }
  }
  return unknown ? { answer: 'unknown', reason: unknown } : { answer: 'yes', reason: 'every caller tracks it' };
}

/** Field names whose value some function hands to PyObject_GC_Track, directly or through a local read from it. */
function fieldsTrackedAnywhere(model: Model): ReadonlySet<string> {
  const fields = new Set<string>();
  for (const fns of model.functions.values()) {
    for (const fn of fns) {
      for (const call of fn.calls) {
        if (!isTrackingCall(call)) continue;
        const arg = call.args[0];
        if (arg?.k === 'member') fields.add(arg.field);
        else if (arg?.k === 'name') {
          for (const a of fn.assignments) if (isName(a.target, arg.name) && a.value.k === 'member') fields.add(a.value.field);
        }
      }
    }
  }
  return fields;
}

function aliasesOf(variable: Expr | null, fn: FunctionFact): ExprSet {
  const names = new ExprSet();
  if (!variable) return names;
  names.add(variable);
  for (let i = 0; i < 3; i++) {
    for (const a of fn.assignments) if (names.has(a.value)) names.add(a.target);
  }
  return names;
}
