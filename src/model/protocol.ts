// What traverse, clear, dealloc and module functions do to members: visits, clears, untracking, type decrefs.
// Member references are compared by their path after the object pointer: `self->a.b`, `((X *)op)->a.b` and
// `st->a.b` all denote `a.b`; `self->items[i]` denotes `items`.

import type { FunctionFact, Model } from './model.js';
import { findFunction } from './gc.js';
import { expandMacroCall, splitArgs } from './macros.js';

export interface PathSet {
  paths: Set<string>;
  /** False when part of the work is done by code the analysis cannot see (unknown function, opaque macro). */
  complete: boolean;
  /** What could not be followed, for messages and --verbose. */
  unknown: string | null;
}

/** `self->a.b[i]` → `a.b`; `get_state(m)->X` → `X`; anything else → null. */
export function memberPath(expr: string): string | null {
  const m = /^(?:[\w]+|\w+\(.*\)|\(.*\))->(.+)$/.exec(expr);
  if (m) {
    const path = m[1].replace(/\[[^\]]*\]/g, '');
    if (/^[\w.]+$/.test(path)) return path;
  }
  // A member wrapped in a macro or call: `JOIN_OBJ(self->text)`, `_PyObject_CAST(self->x)`.
  const inner = [...expr.matchAll(/\w->([\w.]+)/g)];
  return inner.length === 1 && /^\w+\(/.test(expr) ? inner[0][1] : null;
}

const VISIT_APIS: ReadonlySet<string> = new Set(['Py_VISIT']);

/** Members a traverse function visits, through helpers and macros it calls with `visit`. */
export function visitedPaths(model: Model, fn: FunctionFact): PathSet {
  return walk(model, fn, new Set(), (f) => {
    const visitParam = f.params.find((p) => p.typeName === 'visitproc')?.name ?? f.params[1]?.name ?? 'visit';
    const paths: string[] = [];
    const forwarded: string[] = [];
    const opaque: string[] = [];
    for (const call of f.calls) {
      if (VISIT_APIS.has(call.callee) || call.callee === visitParam) {
        const p = memberPath(call.args[0] ?? '');
        if (p) paths.push(p);
        continue;
      }
      if (call.args.includes(visitParam)) forwarded.push(call.callee);
      else if (model.macros.get(call.callee)?.some((m) => m.params !== null)) {
        const body = expandMacroCall(call.callee, call.args, model.macros, f.file);
        if (body) for (const m of body.matchAll(/Py_VISIT\(((?:[^()]|\([^()]*\))*)\)/g)) {
          const p = memberPath(stripCasts(m[1]));
          if (p) paths.push(p);
        }
      } else if (isOpaque(model, call.callee, f) && call.args.some((a) => a.includes('->') || f.params.some((p) => p.name === a) || f.locals.some((l) => l.name === a))) {
        // A macro from a header we were not given (`EXT_VISIT(self->x)`) may visit: we cannot tell.
        opaque.push(call.callee);
      }
    }
    return { paths, forwarded, opaque };
  });
}

const CLEARING_CALLS: ReadonlySet<string> = new Set(['Py_CLEAR', 'Py_XDECREF', 'Py_DECREF', 'Py_XSETREF', 'Py_SETREF', 'Py_DecRef', 'Py_XDecRef']);
const NON_CLEARING_APIS: ReadonlySet<string> = new Set(['PyObject_ClearManagedDict', '_PyObject_ClearManagedDict', 'PyObject_ClearWeakRefs', 'PyObject_GC_UnTrack']);

/**
 * Members a clear (or free) function releases, through helpers it passes the object to. With `mustReset`, a plain
 * Py_DECREF/Py_XDECREF counts only when the member is also set to NULL (tp_clear must not leave a dangling pointer
 * that a later traverse would follow); Py_CLEAR and Py_XSETREF/Py_SETREF(x, NULL) always count.
 */
export function clearedPaths(model: Model, fn: FunctionFact, mustReset = false): PathSet {
  return walk(model, fn, new Set(), (f) => {
    const paths: string[] = [];
    const decrefOnly: string[] = [];
    const opaque: string[] = [];
    const forwarded: string[] = [];
    // The object, and locals derived from it (`FooObject *self = (FooObject *)op;`, `st = get_state(m)`).
    const self = new Set(f.params.slice(0, 1).map((p) => p.name));
    for (const a of f.assignments) {
      if (/^\w+$/.test(a.target) && !a.value.includes('->') && [...self].some((v) => mentions(a.value, v))) self.add(a.target);
    }
    for (const call of f.calls) {
      if (CLEARING_CALLS.has(call.callee)) {
        const p = memberPath(call.args[0] ?? '');
        const resets = call.callee === 'Py_CLEAR' || (/SETREF$/.test(call.callee) && call.args[1] === 'NULL');
        if (p) (resets || !mustReset ? paths : decrefOnly).push(p);
        continue;
      }
      if (NON_CLEARING_APIS.has(call.callee) || /^(Py_|PyObject_|PyMem_|PyErr_|PyModule_|PyType_)/.test(call.callee)) continue;
      // A helper given a member's address (`clear_ptr(&self->x)`) can release it.
      for (const a of call.args) {
        const p = a.startsWith('&') ? memberPath(a.slice(1)) : null;
        if (p) paths.push(p);
      }
      if (isOpaque(model, call.callee, f) && call.args.some((a) => memberPath(a) !== null)) opaque.push(call.callee);
      // A helper handed the object (or its state, `clear_state(get_state(m))`) may release members for us.
      if (call.args.some((a) => self.has(a) || [...self].some((v) => /^\w+\(.*\)$/.test(a) && splitArgs(a.slice(a.indexOf('(') + 1, -1)).includes(v)))) {
        forwarded.push(call.callee);
      }
    }
    const reset = new Set<string>();
    for (const a of f.assignments) {
      const p = memberPath(a.target);
      if (p && (a.value === 'NULL' || a.value === '0')) reset.add(p);
    }
    // `tmp = self->x; self->x = NULL; Py_XDECREF(tmp);` (or a helper given tmp) releases x too.
    for (const a of f.assignments) {
      const p = memberPath(a.value);
      if (p && reset.has(p) && f.calls.some((c) => c.args.includes(a.target))) paths.push(p);
    }
    for (const p of decrefOnly) if (reset.has(p)) paths.push(p);
    return { paths, forwarded, opaque };
  });
}

function walk(
  model: Model,
  fn: FunctionFact,
  seen: Set<FunctionFact>,
  local: (f: FunctionFact) => { paths: string[]; forwarded: string[]; opaque: string[] },
): PathSet {
  const result: PathSet = { paths: new Set(), complete: true, unknown: null };
  const visit = (f: FunctionFact, depth: number) => {
    if (seen.has(f)) return;
    if (depth > 8) {
      result.complete = false;
      result.unknown ??= `${f.name}() (calls nested too deep to follow)`;
      return;
    }
    seen.add(f);
    const { paths, forwarded, opaque } = local(f);
    for (const p of paths) result.paths.add(p);
    if (opaque.length) {
      result.complete = false;
      result.unknown ??= `${opaque[0]}()`;
    }
    for (const callee of forwarded) {
      const target = /^\w+$/.test(callee) ? findFunction(model, callee, f.file) : null;
      // A local holding the base's slot: `traverseproc base = PyType_GetSlot(base_type, Py_tp_traverse);`.
      const baseSlot = f.assignments.some((a) => a.target === callee && /PyType_GetSlot\(|->tp_(traverse|clear)$/.test(a.value));
      if (target) visit(target, depth + 1);
      else if (!baseSlot && !/->tp_(traverse|clear)$/.test(callee) && !/PyType_GetSlot/.test(callee)) {
        result.complete = false;
        result.unknown ??= `${callee}()`;
      } else {
        // Delegation to a base's traverse/clear covers the base's members, not this type's own.
      }
    }
  };
  visit(fn, 0);
  return result;
}

/** A callee the analysis cannot see into: not a function or macro of the analysed code, nor the C API. */
export function isOpaque(model: Model, callee: string, from: FunctionFact): boolean {
  if (!/^\w+$/.test(callee)) return !/->tp_\w+$/.test(callee);
  if (/^_?Py|^PY_|^assert$|^mem(cpy|set|move)$|^str\w+$|^(f?printf|sprintf|snprintf|free|malloc|calloc|realloc)$/.test(callee)) return false;
  return !findFunction(model, callee, from.file) && !model.macros.has(callee);
}

/** Whether identifier `name` occurs in a normalised expression. */
function mentions(expr: string, name: string): boolean {
  const identifiers: string[] = expr.match(/[A-Za-z_]\w*/g) ?? [];
  return identifiers.includes(name);
}

function stripCasts(s: string): string {
  return s.replace(/\s+/g, '').replace(/^\((?:\w+\*+)\)/, '').replace(/\(\((?:\w+\*+)\)(\w+)\)/g, '$1');
}

// ---------------------------------------------------------------------------------------------------------------
// dealloc

export interface DeallocFacts {
  /** Order index of the first PyObject_GC_UnTrack (directly or in a helper called there), or null. */
  untrackAt: number | null;
  /** First operation that needs the object untracked: clearing a member, calling tp_clear, freeing. */
  firstUnsafe: { order: number; what: string; line: number; column: number } | null;
  /** Calls that free the instance. */
  frees: { callee: string; line: number; column: number; order: number }[];
  /** Py_DECREF of the type (Py_TYPE(self) or an alias), directly or in a helper. */
  decrefsType: boolean;
  /** Hands the object to a base type's tp_dealloc (which untracks, frees and decrefs the type). */
  delegatesToBase: boolean;
  /** Calls a function the analysis cannot see with the object. */
  unknownCall: string | null;
}

const UNTRACK: ReadonlySet<string> = new Set(['PyObject_GC_UnTrack', '_PyObject_GC_UNTRACK']);
const FREES: ReadonlySet<string> = new Set(['PyObject_GC_Del', 'PyObject_Del', 'PyObject_Free', 'PyObject_FREE', 'PyObject_DEL', 'PyMem_Free']);
const SAFE_BEFORE_UNTRACK = /^(PyObject_CallFinalizerFromDealloc|PyObject_ClearWeakRefs|Py_TYPE|PyType_GetSlot|PyObject_GC_IsTracked|_PyObject_GC_IS_TRACKED|PyErr_Fetch|PyErr_Restore|PyErr_GetRaisedException|PyErr_SetRaisedException|PyType_HasFeature|PyType_GetModuleState|PyType_GetModule|PyModule_GetState|PyType_GetModuleByDef|assert|_PyObject_ResurrectStart|PyObject_CallFinalizer)/;

export function deallocFacts(model: Model, fn: FunctionFact, clearFunction: string | null, seen = new Set<FunctionFact>()): DeallocFacts {
  const facts: DeallocFacts = { untrackAt: null, firstUnsafe: null, frees: [], decrefsType: false, delegatesToBase: false, unknownCall: null };
  seen.add(fn);
  const self = fn.params[0]?.name ?? 'self';
  const selves = new Set([self]);
  for (const a of fn.assignments) if (a.value === self) selves.add(a.target);
  const typeAliases = new Set<string>();
  for (const a of fn.assignments) if (/^Py_TYPE\(.+\)$|->ob_type$/.test(a.value)) typeAliases.add(a.target);
  const isType = (arg: string) => /^Py_TYPE\(.+\)$/.test(arg) || /->ob_type$/.test(arg) || typeAliases.has(arg);
  const baseDealloc = new Set<string>();
  for (const a of fn.assignments) if (/PyType_GetSlot\(.*Py_tp_dealloc\)|->tp_dealloc$/.test(a.value)) baseDealloc.add(a.target);

  for (const call of fn.calls) {
    const c = call.callee;
    const mark = (what: string) => {
      if (!facts.firstUnsafe) facts.firstUnsafe = { order: call.order, what, line: call.line, column: call.column };
    };
    if (UNTRACK.has(c)) {
      facts.untrackAt ??= call.order;
      continue;
    }
    if (FREES.has(c) || /->tp_free$/.test(c)) {
      facts.frees.push({ callee: c, line: call.line, column: call.column, order: call.order });
      mark(`${c}()`);
      continue;
    }
    if (/->tp_dealloc$/.test(c) || baseDealloc.has(c) || /PyType_GetSlot\(.*Py_tp_dealloc\)/.test(c)) {
      facts.delegatesToBase = true;
      continue;
    }
    if (CLEARING_CALLS.has(c)) {
      if (isType(call.args[0] ?? '')) facts.decrefsType = true;
      else if (memberPath(call.args[0] ?? '') || call.args[0] && !selves.has(call.args[0])) mark(`${c}(${call.args[0]})`);
      continue;
    }
    // The trashcan may deposit the object on a list that reuses its GC link: it must be untracked first.
    if (/^Py_TRASHCAN_(SAFE_)?BEGI/.test(c)) {
      mark('Py_TRASHCAN_BEGIN');
      continue;
    }
    if (SAFE_BEFORE_UNTRACK.test(c)) continue;
    if (c === clearFunction || /->tp_clear$/.test(c)) {
      mark(`${c}()`);
      continue;
    }
    // A function we cannot see, given the type (`release_type(tp)`), may be the decref.
    if (call.args.some((a) => isType(a)) && isOpaque(model, c, fn)) {
      facts.unknownCall ??= `${c}()`;
      continue;
    }
    // A helper given the object: look inside for untracking, freeing and the type decref.
    if (call.args.some((a) => selves.has(a)) && /^\w+$/.test(c)) {
      const helper = findFunction(model, c, fn.file);
      if (helper && seen.has(helper)) continue;
      if (helper && seen.size < 6) {
        const inner = deallocFacts(model, helper, clearFunction, seen);
        if (inner.untrackAt !== null) facts.untrackAt ??= call.order;
        if (inner.firstUnsafe && (inner.untrackAt === null || inner.firstUnsafe.order < inner.untrackAt)) mark(`${c}()`);
        if (inner.frees.length) facts.frees.push({ callee: c, line: call.line, column: call.column, order: call.order });
        if (inner.decrefsType) facts.decrefsType = true;
        if (inner.delegatesToBase) facts.delegatesToBase = true;
        if (inner.unknownCall) facts.unknownCall ??= inner.unknownCall;
      } else if (helper) {
        facts.unknownCall ??= `${c}() (too deep to follow)`;
      } else if (!/^Py|^_Py/.test(c)) {
        facts.unknownCall ??= `${c}()`;
      }
    }
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------------------------
// managed dict

/** Does `fn` call one of `names`, directly, through a macro or through a helper? Unknown when it cannot see. */
export function callsAny(model: Model, fn: FunctionFact, names: ReadonlySet<string>, seen = new Set<FunctionFact>()): 'yes' | 'no' | 'unknown' {
  if (seen.has(fn)) return 'no';
  seen.add(fn);
  let unknown = false;
  for (const call of fn.calls) {
    if (names.has(call.callee)) return 'yes';
    const body = model.macros.has(call.callee) ? expandMacroCall(call.callee, call.args, model.macros, fn.file) : null;
    if (body && [...names].some((n) => body.includes(`${n}(`))) return 'yes';
    const helper = /^\w+$/.test(call.callee) ? findFunction(model, call.callee, fn.file) : null;
    if (helper) {
      if (seen.size >= 8) unknown = true;
      else {
        const inner = callsAny(model, helper, names, seen);
        if (inner === 'yes') return 'yes';
        if (inner === 'unknown') unknown = true;
      }
    } else if (isOpaque(model, call.callee, fn) && call.args.length) {
      unknown = true;
    }
  }
  return unknown ? 'unknown' : 'no';
}

/**
 * Visits a traverse skips through an early `return 0` taken when one member is NULL
 * (`if (self->a == NULL) return 0; Py_VISIT(self->b);` never visits b while a is NULL).
 */
export function visitsSkippedByEarlyReturn(fn: FunctionFact): { member: string; guardMember: string; line: number }[] {
  const out: { member: string; guardMember: string; line: number }[] = [];
  for (const r of fn.returnSites) {
    if (r.value !== '0' || !r.guard) continue;
    const g = /^(?:!\(?([\w>.\-()*]+?)\)?|([\w>.\-()*]+)==(?:NULL|0)|(?:NULL|0)==([\w>.\-()*]+))$/.exec(r.guard);
    const guardMember = g ? memberPath(g[1] ?? g[2] ?? g[3] ?? '') : null;
    if (!guardMember) continue;
    const before = new Set<string>();
    fn.calls.forEach((c, i) => {
      if (c.callee !== 'Py_VISIT') return;
      const p = memberPath(c.args[0] ?? '');
      if (!p || p === guardMember) return;
      if (i < r.afterCalls) before.add(p);
      else if (!before.has(p)) out.push({ member: p, guardMember, line: r.line });
    });
  }
  return out;
}
