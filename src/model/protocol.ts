// What traverse, clear, dealloc and module functions do to members: visits, clears, untracking, type decrefs.
// Member references are compared by their path after the object pointer: `self->a.b`, `((X *)op)->a.b` and
// `st->a.b` all denote `a.b`; `self->items[i]` denotes `items`.

import type { Expr } from './facts.js';
import type { FunctionFact, Model } from './model.js';
import { findFunction } from './gc.js';
import { callsInMacroExpansion } from './macros.js';
import {
  ExprSet, calleeName, containsGetSlot, hasArrow, isArrowSlot, isName, isNull, isNullOrZero, isZero, leadingName,
  memberChain, name, namesIn, render, sameExpr, typeOfObject, type Step,
} from './expr.js';

export interface PathSet {
  paths: Set<string>;
  /** False when part of the work is done by code the analysis cannot see (unknown function, opaque macro). */
  complete: boolean;
  /** What could not be followed, for messages and --verbose. */
  unknown: string | null;
}

/** `self->a.b[i]` → `a.b`; `get_state(m)->X` → `X`; anything else → null. */
export function memberPath(expr: Expr | null | undefined): string | null {
  if (!expr) return null;
  const { root, steps } = memberChain(expr);
  // One arrow from a variable or a call's result, then only `.field` and `[i]`.
  const fromObject = root.k === 'name' || (root.k === 'call' && root.callee.k === 'name');
  if (fromObject && steps[0]?.k === 'arrow' && steps.slice(1).every((s) => s.k !== 'arrow')) return pathOf(steps);
  // A member wrapped in a macro or call: `JOIN_OBJ(self->text)`, `_PyObject_CAST(self->x)`.
  if (expr.k === 'call' && expr.callee.k === 'name') {
    const inner = arrowPathsIn(expr);
    return inner.length === 1 ? inner[0] : null;
  }
  return null;
}

/** The fields of steps, indexes left out: arrow a, index, dot b → `a.b`. */
function pathOf(steps: Step[]): string {
  return steps.flatMap((s) => (s.k === 'index' ? [] : [s.field])).join('.');
}

/**
 * Every `x->f.g` written inside `e` whose `x` is a variable or a member: `f.g` (the dotted run after the arrow,
 * up to an index or the next arrow, which then belongs to this one).
 */
function arrowPathsIn(e: Expr): string[] {
  const out: string[] = [];
  const walk = (x: Expr): void => {
    if (x.k === 'member' || x.k === 'index') {
      const { root, steps } = memberChain(x);
      let counted = false; // the member before this step ends a path already counted
      for (let j = 0; j < steps.length; j++) {
        const step = steps[j];
        if (step.k === 'arrow') {
          const afterWord = j === 0 ? root.k === 'name' : steps[j - 1].k !== 'index';
          if (afterWord && !counted) {
            let end = j + 1;
            while (end < steps.length && steps[end].k === 'dot') end++;
            out.push(pathOf(steps.slice(j, end)));
            counted = true;
            continue;
          }
          counted = false;
        } else if (step.k === 'index') counted = false;
      }
      walk(root);
      walkIndexes(x);
      return;
    }
    for (const c of childrenOf(x)) walk(c);
  };
  const walkIndexes = (x: Expr): void => {
    for (let cur = x; cur.k === 'member' || cur.k === 'index'; cur = cur.object) {
      if (cur.k === 'index' && cur.index) walk(cur.index);
    }
  };
  for (const a of e.k === 'call' ? e.args : []) walk(a);
  return out;
}

function childrenOf(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'call': return [e.callee, ...e.args];
    case 'addr': case 'deref': case 'unary': return [e.of];
    case 'binary': return [e.left, e.right];
    case 'concat': return e.parts;
    case 'init': return e.items;
    default: return [];
  }
}

const VISIT_APIS: ReadonlySet<string> = new Set(['Py_VISIT']);

/** Members a traverse function visits, through helpers and macros it calls with `visit`. */
export function visitedPaths(model: Model, fn: FunctionFact): PathSet {
  return walk(model, fn, new Set(), (f) => {
    const visitParam = f.params.find((p) => p.typeName === 'visitproc')?.name ?? f.params[1]?.name ?? 'visit';
    const paths: string[] = [];
    const forwarded: Expr[] = [];
    const opaque: string[] = [];
    const isVariable = (a: Expr) => a.k === 'name' && (f.params.some((p) => p.name === a.name) || f.locals.some((l) => l.name === a.name));
    for (const call of f.calls) {
      const callee = calleeName(call.callee);
      if ((callee !== null && VISIT_APIS.has(callee)) || callee === visitParam) {
        const p = memberPath(call.args[0]);
        if (p) paths.push(p);
        continue;
      }
      if (call.args.some((a) => isName(a, visitParam))) forwarded.push(call.callee);
      else if (callee !== null && model.symbols.macro(callee, f.file, 'function')) {
        for (const inner of callsInMacroExpansion(callee, call.args, model.symbols, f.file) ?? []) {
          // A project's own VISIT macro calls Py_VISIT or the traverse's `visit` parameter directly.
          if (!isName(inner.callee, 'Py_VISIT') && !isName(inner.callee, visitParam)) continue;
          const p = memberPath(inner.args[0]);
          if (p) paths.push(p);
        }
      } else if (isOpaque(model, call.callee, f) && call.args.some((a) => hasArrow(a) || isVariable(a))) {
        // A macro from a header we were not given (`EXT_VISIT(self->x)`) may visit: we cannot tell.
        opaque.push(render(call.callee));
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
    const forwarded: Expr[] = [];
    // The object, and locals derived from it (`FooObject *self = (FooObject *)op;`, `st = get_state(m)`).
    const self = new Set(f.params.slice(0, 1).map((p) => p.name));
    for (const a of f.assignments) {
      if (a.target.k === 'name' && !hasArrow(a.value) && namesIn(a.value).some((v) => self.has(v))) self.add(a.target.name);
    }
    const isSelf = (a: Expr) => a.k === 'name' && self.has(a.name);
    for (const call of f.calls) {
      const callee = calleeName(call.callee);
      if (callee !== null && CLEARING_CALLS.has(callee)) {
        const p = memberPath(call.args[0]);
        const resets = callee === 'Py_CLEAR' || (/SETREF$/.test(callee) && isNull(call.args[1]));
        if (p) (resets || !mustReset ? paths : decrefOnly).push(p);
        continue;
      }
      if ((callee !== null && NON_CLEARING_APIS.has(callee)) || /^(Py_|PyObject_|PyMem_|PyErr_|PyModule_|PyType_)/.test(leadingName(call.callee) ?? '')) continue;
      // A helper given a member's address (`clear_ptr(&self->x)`) can release it.
      for (const a of call.args) {
        const p = a.k === 'addr' ? memberPath(a.of) : null;
        if (p) paths.push(p);
      }
      if (isOpaque(model, call.callee, f) && call.args.some((a) => memberPath(a) !== null)) opaque.push(render(call.callee));
      // A helper handed the object (or its state, `clear_state(get_state(m))`) may release members for us.
      if (call.args.some((a) => isSelf(a) || (a.k === 'call' && a.callee.k === 'name' && a.args.some(isSelf)))) {
        forwarded.push(call.callee);
      }
    }
    const reset = new Set<string>();
    for (const a of f.assignments) {
      const p = memberPath(a.target);
      if (p && isNullOrZero(a.value)) reset.add(p);
    }
    // `tmp = self->x; self->x = NULL; Py_XDECREF(tmp);` (or a helper given tmp) releases x too.
    for (const a of f.assignments) {
      const p = memberPath(a.value);
      if (p && reset.has(p) && f.calls.some((c) => c.args.some((x) => sameExpr(x, a.target)))) paths.push(p);
    }
    for (const p of decrefOnly) if (reset.has(p)) paths.push(p);
    return { paths, forwarded, opaque };
  });
}

function walk(
  model: Model,
  fn: FunctionFact,
  seen: Set<FunctionFact>,
  local: (f: FunctionFact) => { paths: string[]; forwarded: Expr[]; opaque: string[] },
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
      const name = calleeName(callee);
      const target = name !== null ? findFunction(model, name, f.file) : null;
      // A local holding the base's slot: `traverseproc base = PyType_GetSlot(base_type, Py_tp_traverse);`.
      const baseSlot = f.assignments.some((a) => sameExpr(a.target, callee) && (containsGetSlot(a.value) || isArrowSlot(a.value, isTraverseOrClear)));
      if (target) visit(target, depth + 1);
      else if (!baseSlot && !isArrowSlot(callee, isTraverseOrClear) && !containsGetSlot(callee)) {
        result.complete = false;
        result.unknown ??= `${render(callee)}()`;
      } else {
        // Delegation to a base's traverse/clear covers the base's members, not this type's own.
      }
    }
  };
  visit(fn, 0);
  return result;
}

const isTraverseOrClear = (slot: string) => slot === 'tp_traverse' || slot === 'tp_clear';

/** A callee the analysis cannot see into: not a function or macro of the analysed code, nor the C API. */
export function isOpaque(model: Model, calleeExpr: Expr, from: FunctionFact): boolean {
  const callee = calleeName(calleeExpr);
  // Through a pointer: only a type's own slot (`tp->tp_free`) is known.
  if (callee === null) return !isArrowSlot(calleeExpr, () => true);
  if (/^_?Py|^PY_|^assert$|^mem(cpy|set|move)$|^str\w+$|^(f?printf|sprintf|snprintf|free|malloc|calloc|realloc)$/.test(callee)) return false;
  return !findFunction(model, callee, from.file) && !model.symbols.macro(callee, from.file);
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
  const selves = new ExprSet([name(self)]);
  for (const a of fn.assignments) if (isName(a.value, self)) selves.add(a.target);
  // `Py_TYPE(self)` and `self->ob_type` (not `.ob_type`, which is a type object's own head).
  const readsType = (e: Expr | undefined) => {
    const t = typeOfObject(e);
    return !!t && t.via !== '.';
  };
  const typeAliases = new ExprSet();
  for (const a of fn.assignments) if (readsType(a.value)) typeAliases.add(a.target);
  const isType = (arg: Expr | undefined) => readsType(arg) || typeAliases.has(arg);
  const isBaseDealloc = (e: Expr) => containsGetSlot(e, 'tp_dealloc') || isArrowSlot(e, 'tp_dealloc');
  const baseDealloc = new ExprSet();
  for (const a of fn.assignments) if (isBaseDealloc(a.value)) baseDealloc.add(a.target);

  for (const call of fn.calls) {
    const callee = call.callee;
    const c = calleeName(callee);
    const written = render(callee);
    const mark = (what: string) => {
      if (!facts.firstUnsafe) facts.firstUnsafe = { order: call.order, what, line: call.line, column: call.column };
    };
    if (c !== null && UNTRACK.has(c)) {
      facts.untrackAt ??= call.order;
      continue;
    }
    if ((c !== null && FREES.has(c)) || isArrowSlot(callee, 'tp_free')) {
      facts.frees.push({ callee: written, line: call.line, column: call.column, order: call.order });
      mark(`${written}()`);
      continue;
    }
    if (isBaseDealloc(callee) || baseDealloc.has(callee)) {
      facts.delegatesToBase = true;
      continue;
    }
    if (c !== null && CLEARING_CALLS.has(c)) {
      const arg = call.args[0];
      if (isType(arg)) facts.decrefsType = true;
      else if (memberPath(arg) || arg && !selves.has(arg)) mark(`${c}(${render(arg)})`);
      continue;
    }
    // The trashcan may deposit the object on a list that reuses its GC link: it must be untracked first.
    if (c !== null && /^Py_TRASHCAN_(SAFE_)?BEGI/.test(c)) {
      mark('Py_TRASHCAN_BEGIN');
      continue;
    }
    if (SAFE_BEFORE_UNTRACK.test(leadingName(callee) ?? '')) continue;
    if ((c !== null && c === clearFunction) || isArrowSlot(callee, 'tp_clear')) {
      mark(`${written}()`);
      continue;
    }
    // A function we cannot see, given the type (`release_type(tp)`), may be the decref.
    if (call.args.some((a) => isType(a)) && isOpaque(model, callee, fn)) {
      facts.unknownCall ??= `${written}()`;
      continue;
    }
    // A helper given the object: look inside for untracking, freeing and the type decref.
    if (call.args.some((a) => selves.has(a)) && c !== null) {
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
    const callee = calleeName(call.callee);
    if (callee !== null && names.has(callee)) return 'yes';
    const expanded = callee !== null ? callsInMacroExpansion(callee, call.args, model.symbols, fn.file) : null;
    if (expanded?.some((c) => names.has(calleeName(c.callee) ?? ''))) return 'yes';
    const helper = callee !== null ? findFunction(model, callee, fn.file) : null;
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
    if (!isZero(r.value) || !r.guard) continue;
    const guardMember = memberPath(testedForNull(r.guard));
    if (!guardMember) continue;
    const before = new Set<string>();
    fn.calls.forEach((c, i) => {
      if (!isName(c.callee, 'Py_VISIT')) return;
      const p = memberPath(c.args[0]);
      if (!p || p === guardMember) return;
      if (i < r.afterCalls) before.add(p);
      else if (!before.has(p)) out.push({ member: p, guardMember, line: r.line });
    });
  }
  return out;
}

/** What a condition tests for NULL: `!x`, `x == NULL`, `NULL == x` (0 for NULL too) → x. */
function testedForNull(guard: Expr): Expr | null {
  if (guard.k === 'unary' && guard.op === '!') return guard.of;
  if (guard.k === 'binary' && guard.op === '==') {
    if (isNullOrZero(guard.right)) return guard.left;
    if (isNullOrZero(guard.left)) return guard.right;
  }
  return null;
}
