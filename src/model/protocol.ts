// What traverse, clear, dealloc and module functions do to members: visits, clears, untracking, type decrefs.
// Member references are compared by their path after the object pointer: `self->a.b`, `((X *)op)->a.b` and
// `st->a.b` all denote `a.b`; `self->items[i]` denotes `items`.

import type { Expr } from './facts.js';
import type { ExtensionType, FunctionFact, Model } from './model.js';
import { displayName, findFunction, type Answer } from './gc.js';
import { BUFFER_RELEASE_CALLS, CLEARING_CALLS, NON_CLEARING_CALLS, UNTRACKING_CALLS, VISIT_CALLS } from './capi.js';
import { callsInMacroExpansion } from './macros.js';
import { FREE_CALLS, LIBC_FREES, NO_RETURN_CALLS, RESURRECTING_CALLS, builtinBase, builtinDealloc } from './capi.js';
import {
  ExprSet, calleeName, containsGetSlot, hasArrow, isArrowSlot, isName, isNull, isNullOrZero, isZero, leadingName,
  memberChain, name, nameOrAddressed, namesIn, render, sameExpr, slotOf, some, typeOfObject, type Step,
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
      if ((callee !== null && VISIT_CALLS.has(callee)) || callee === visitParam) {
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
      if ((callee !== null && NON_CLEARING_CALLS.has(callee)) || /^(Py_|PyObject_|PyMem_|PyErr_|PyModule_|PyType_)/.test(leadingName(call.callee) ?? '')) continue;
      // Freeing the instance (`Py_TYPE(self)->tp_free(self)`, a base's tp_dealloc) releases none of its own members.
      if (isArrowSlot(call.callee, isFreeOrDealloc)) continue;
      // A helper given a member's address (`clear_ptr(&self->x)`, `PyBuffer_Release(&self->view)`) can release
      // it, and what it contains.
      for (const a of call.args) {
        const p = a.k === 'addr' ? memberPath(a.of) : null;
        if (p) paths.push(p);
      }
      if (callee !== null && BUFFER_RELEASE_CALLS.has(callee)) continue;
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

/** A member is released when it, or a struct member containing it (`view` for `view.obj`), is in `paths`. */
export function pathCovered(paths: ReadonlySet<string>, member: string): boolean {
  if (paths.has(member)) return true;
  for (let i = member.lastIndexOf('.'); i > 0; i = member.lastIndexOf('.', i - 1)) {
    if (paths.has(member.slice(0, i))) return true;
  }
  return false;
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

const isFreeOrDealloc = (slot: string) => slot === 'tp_free' || slot === 'tp_dealloc';
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
  /** Calls that free the instance (frees of a member's memory, `PyMem_Free(self->buf)`, are not among them). */
  frees: { callee: string; line: number; column: number; order: number; ofObject: boolean; viaSlot: boolean }[];
  /** Py_DECREF of the type (Py_TYPE(self) or an alias), directly or in a helper. */
  decrefsType: boolean;
  /** Hands the object to a base type's tp_dealloc read from a type object (`base->tp_dealloc`, `PyType_GetSlot`). */
  delegatesToBase: boolean;
  /** Each hand-off to another type's tp_dealloc (also `PyUnicode_Type.tp_dealloc`), with the type it belongs to. */
  handoffs: DeallocHandoff[];
  /** Calls a function the analysis cannot see with the object. */
  unknownCall: string | null;
  /** A call that never returns (`Py_FatalError`): such a dealloc frees nothing on purpose. */
  noReturn: string | null;
  /** Stores the object somewhere that outlives the call (a free list) or resurrects it: kept, not leaked. */
  keepsObject: boolean;
  /** The function does nothing (a dealloc of static singletons that are never freed). */
  empty: boolean;
}

export interface DeallocHandoff {
  /** The type whose tp_dealloc is called, as written (`PyUnicode_Type`, `Py_TYPE(self)->tp_base`); null if unreadable. */
  type: Expr | null;
  /** The function the type expression is read in (a helper's, when the hand-off is in a helper). */
  in: FunctionFact;
  /** The callee as written, for messages. */
  written: string;
  line: number;
  column: number;
}

const SAFE_BEFORE_UNTRACK = /^(PyObject_CallFinalizerFromDealloc|PyObject_ClearWeakRefs|Py_TYPE|PyType_GetSlot|PyObject_GC_IsTracked|_PyObject_GC_IS_TRACKED|PyErr_Fetch|PyErr_Restore|PyErr_GetRaisedException|PyErr_SetRaisedException|PyType_HasFeature|PyType_GetModuleState|PyType_GetModule|PyModule_GetState|PyType_GetModuleByDef|assert|_PyObject_ResurrectStart|PyObject_CallFinalizer)/;

/** A name the function declares itself (parameter or local variable): in C it hides any function or API name. */
export function isLocalName(fn: FunctionFact, n: string): boolean {
  return fn.params.some((p) => p.name === n) || fn.locals.some((l) => l.name === n);
}

/** A type's slot read in `e`: `t->tp_X`, `T.tp_X`, `PyType_GetSlot(t, Py_tp_X)` anywhere inside (through casts). */
function slotRead(e: Expr | null | undefined, slot: string): { type: Expr | null } | null {
  const s = slotOf(e);
  if (s?.slot === slot) return { type: s.type };
  if (!containsGetSlot(e, slot)) return null;
  let found: Expr | null = null;
  some(e, (x) => {
    if (x.k === 'call' && isName(x.callee, 'PyType_GetSlot') && isName(x.args[1], `Py_${slot}`)) found = x.args[0] ?? null;
    return found !== null;
  });
  return { type: found };
}

/**
 * What a call through a local function pointer or parameter calls: a type's tp_free or tp_dealloc read into it
 * (`freefunc free = PyType_GetSlot(tp, Py_tp_free);`, `destructor dealloc = base->tp_dealloc;`), else unknown.
 */
function localPointerTarget(fn: FunctionFact, n: string): { slot: 'tp_free' | 'tp_dealloc'; type: Expr | null } | 'unknown' {
  if (fn.params.some((p) => p.name === n)) return 'unknown';
  const values = fn.assignments.filter((a) => isName(a.target, n)).map((a) => a.value);
  if (!values.length) return 'unknown';
  for (const slot of ['tp_free', 'tp_dealloc'] as const) {
    const reads = values.map((v) => slotRead(v, slot));
    if (reads.every((r) => r !== null)) return { slot, type: reads.length === 1 ? reads[0]!.type : null };
  }
  return 'unknown';
}

export function deallocFacts(model: Model, fn: FunctionFact, clearFunction: string | null, seen = new Set<FunctionFact>()): DeallocFacts {
  const facts: DeallocFacts = {
    untrackAt: null, firstUnsafe: null, frees: [], decrefsType: false, delegatesToBase: false, handoffs: [], unknownCall: null,
    noReturn: null, keepsObject: false, empty: fn.calls.length === 0 && fn.assignments.length === 0,
  };
  seen.add(fn);
  const self = fn.params[0]?.name ?? 'self';
  const selves = new ExprSet([name(self)]);
  for (const a of fn.assignments) {
    // `FooObject *f = (FooObject *)op;`, `PyObject *o = _PyObject_CAST(self);`
    if (isName(a.value, self) || (a.target.k === 'name' && a.value.k === 'call' && !hasArrow(a.value) && a.value.args.length === 1 && isName(a.value.args[0], self))) {
      selves.add(a.target);
    }
  }
  // `Py_TYPE(self)` and `self->ob_type` (not `.ob_type`, which is a type object's own head).
  const readsType = (e: Expr | undefined) => {
    const t = typeOfObject(e);
    return !!t && t.via !== '.';
  };
  const typeAliases = new ExprSet();
  for (const a of fn.assignments) if (readsType(a.value)) typeAliases.add(a.target);
  const isType = (arg: Expr | undefined) => readsType(arg) || typeAliases.has(arg);
  // A function pointer assigned in the function but not declared there (a static global set here) still holds
  // what it was assigned.
  const baseDealloc = new ExprSet();
  for (const a of fn.assignments) if (slotRead(a.value, 'tp_dealloc')) baseDealloc.add(a.target);
  // What a free is given: the object (also through a cast macro), or memory of its own (`self->buf`, a local copy
  // of it, `_PyUnicode_DATA_ANY(self)`).
  const castOfSelf = (arg: Expr) => arg.k === 'call' && arg.args.length === 1 && selves.has(arg.args[0]) && /CAST/.test(calleeName(arg.callee) ?? '');
  const isObject = (arg: Expr | undefined) => !!arg && (selves.has(arg) || castOfSelf(arg));
  const isOtherMemory = (arg: Expr | undefined) => !!arg && !isObject(arg)
    && (hasArrow(arg) || arg.k === 'index' || arg.k === 'addr' || (arg.k === 'name' && isLocalName(fn, arg.name))
      || (arg.k === 'call' && arg.args.some((a) => selves.has(a))));
  for (const a of fn.assignments) {
    if (selves.has(a.value) && !(a.target.k === 'name' && isLocalName(fn, a.target.name))) facts.keepsObject = true;
  }

  for (const call of fn.calls) {
    const callee = call.callee;
    const declared = calleeName(callee);
    const shadowed = declared !== null && isLocalName(fn, declared);
    // A local or parameter hides the function or API of the same name: `freefunc free = …; free(self);`.
    const c = shadowed ? null : declared;
    const written = render(callee);
    const mark = (what: string) => {
      if (!facts.firstUnsafe) facts.firstUnsafe = { order: call.order, what, line: call.line, column: call.column };
    };
    const free = (viaSlot: boolean) => {
      if (!isOtherMemory(call.args[0])) {
        facts.frees.push({ callee: written, line: call.line, column: call.column, order: call.order, ofObject: isObject(call.args[0]), viaSlot });
      }
      mark(`${written}()`);
    };
    const handoff = (type: Expr | null) => {
      // `T.tp_dealloc(self)` names a type object directly; the dealloc-not-untracked rule trusts only a base's slot.
      if (slotOf(callee)?.via !== '.') facts.delegatesToBase = true;
      facts.handoffs.push({ type, in: fn, written, line: call.line, column: call.column });
    };
    if (shadowed) {
      const target = localPointerTarget(fn, declared);
      if (target === 'unknown') {
        if (call.args.some((a) => selves.has(a) || isType(a))) facts.unknownCall ??= `${declared}()`;
      } else if (target.slot === 'tp_free') free(true);
      else handoff(target.type);
      continue;
    }
    if (c !== null && UNTRACKING_CALLS.has(c)) {
      facts.untrackAt ??= call.order;
      continue;
    }
    if (c !== null && NO_RETURN_CALLS.has(c)) {
      facts.noReturn ??= `${c}()`;
      continue;
    }
    if (c !== null && RESURRECTING_CALLS.has(c) && call.args.some((a) => selves.has(a))) {
      facts.keepsObject = true;
      continue;
    }
    if ((c !== null && (FREE_CALLS.has(c) || LIBC_FREES.has(c))) || slotRead(callee, 'tp_free')) {
      free(c === null);
      continue;
    }
    const handedTo = slotRead(callee, 'tp_dealloc');
    if (handedTo || baseDealloc.has(callee)) {
      const assigned = handedTo ? null : fn.assignments.filter((a) => sameExpr(a.target, callee)).map((a) => slotRead(a.value, 'tp_dealloc'));
      handoff(handedTo ? handedTo.type : assigned?.length === 1 ? assigned[0]!.type : null);
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
        if (inner.frees.length) {
          facts.frees.push({
            callee: c, line: call.line, column: call.column, order: call.order, ofObject: inner.frees.some((f) => f.ofObject), viaSlot: inner.frees.some((f) => f.viaSlot),
          });
        }
        if (inner.decrefsType) facts.decrefsType = true;
        if (inner.delegatesToBase) facts.delegatesToBase = true;
        facts.handoffs.push(...inner.handoffs);
        if (inner.unknownCall) facts.unknownCall ??= inner.unknownCall;
        if (inner.noReturn) facts.noReturn ??= inner.noReturn;
        if (inner.keepsObject) facts.keepsObject = true;
      } else if (helper) {
        facts.unknownCall ??= `${c}() (too deep to follow)`;
      } else if (!/^Py|^_Py/.test(c)) {
        facts.unknownCall ??= `${c}()`;
      }
    } else if (c === null && call.args.some((a) => selves.has(a)) && isOpaque(model, callee, fn)) {
      // Through a pointer the analysis cannot follow (`self->on_free(self)`): it may free the object.
      facts.unknownCall ??= `${written}()`;
    }
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------------------------
// releasing the type: who runs Py_DECREF(Py_TYPE(self)) for an instance of a heap type

export interface TypeRelease {
  answer: Answer;
  reason: string;
  /** The tp_dealloc that runs for the type's instances: its own, or the base's one subtype_dealloc ends in. */
  fn: FunctionFact | null;
  /** The model type `fn` belongs to when the type has no tp_dealloc of its own. */
  inheritedFrom: ExtensionType | null;
  /** The type whose dealloc it hands the object to, when that frees without releasing (`PyUnicode_Type`). */
  handoff: { type: string; why: string } | null;
  /** The dealloc frees the instance (itself or through the dealloc it hands the object to). */
  frees: boolean;
}

/** A type expression in a dealloc: the object's own type, its base, or a type known by itself. */
type TypeRef = { k: 'own' } | { k: 'own-base' } | Target;

/**
 * Does the dealloc that runs for instances of heap type `t` release their reference to `t`? A dealloc of its own
 * decides by itself (or through the dealloc it hands the object to: a builtin's never releases, a model type's
 * as that one does, a Python class's subtype_dealloc does). Without one the type gets subtype_dealloc, which
 * releases the type only when the nearest base with a dealloc of its own is a static type: a heap base's dealloc
 * is trusted to do it.
 */
/** What type object an expression in a function denotes (link.ts `typeResolver`). */
export type TypeResolver = (e: Expr, fn: FunctionFact | null, file: string) => ExtensionType | null;

export function typeRelease(
  model: Model, t: ExtensionType, factsOf: (fn: FunctionFact) => DeallocFacts, resolve: TypeResolver, seen = new Set<ExtensionType>(),
): TypeRelease {
  const none = (answer: Answer, reason: string): TypeRelease => ({ answer, reason, fn: null, inheritedFrom: null, handoff: null, frees: false });
  if (seen.has(t)) return none('unknown', 'circular bases');
  seen.add(t);
  const slot = t.slots.get('tp_dealloc');
  if (slot?.function) {
    const fn = findFunction(model, slot.function, slot.file);
    if (!fn) return none('unknown', `${slot.function}() is not in the analysed files`);
    return functionRelease(model, fn, t, factsOf, resolve, seen);
  }
  if (slot?.expression) return none('unknown', `tp_dealloc is ${render(slot.expression)}`);
  if (!t.slotsKnown) return none('unknown', 'its slots could not all be read');
  if (t.kind !== 'heap') return none('unknown', 'a static type inherits its base\'s dealloc');
  if (!t.basesKnown) return none('unknown', 'its base is unknown');
  const base = t.bases[0];
  // subtype_dealloc hands the object to the nearest base with a dealloc of its own.
  if (!base || base.kind === 'builtin') return none('yes', 'subtype_dealloc releases the type before a static base');
  if (base.kind !== 'model') return none('unknown', `the dealloc of the base ${render(base.expression)} is unknown`);
  if (base.type.kind === 'static') return none('yes', 'subtype_dealloc releases the type before a static base');
  const inherited = typeRelease(model, base.type, factsOf, resolve, seen);
  return { ...inherited, inheritedFrom: inherited.inheritedFrom ?? base.type };
}

function functionRelease(
  model: Model, fn: FunctionFact, owner: ExtensionType, factsOf: (fn: FunctionFact) => DeallocFacts, resolve: TypeResolver, seen: Set<ExtensionType>,
): TypeRelease {
  const facts = factsOf(fn);
  const result = (answer: Answer, reason: string, handoff: TypeRelease['handoff'] = null, frees = facts.frees.length > 0): TypeRelease =>
    ({ answer, reason, fn, inheritedFrom: null, handoff, frees });
  if (facts.decrefsType) return result('yes', `${fn.name}() releases it`);
  if (facts.unknownCall) return result('unknown', `${fn.name}() calls ${facts.unknownCall}`);
  if (!facts.handoffs.length) return result('no', `${fn.name}() never releases it`);
  let notReleasing: { type: string; why: string; frees: boolean } | null = null;
  for (const h of facts.handoffs) {
    const ref = resolveTypeRef(resolve, h.type, h.in, 0);
    const target: Target = ref.k === 'own' ? { k: 'unknown', why: `${h.written} is the dealloc being run` }
      : ref.k === 'own-base' ? baseOf(owner) : ref;
    if (target.k === 'unknown') return result('unknown', `${h.written}: ${target.why}`);
    if (target.k === 'builtin') {
      const d = builtinDealloc(target.name);
      if (!d) return result('unknown', `the dealloc of ${target.name} is not in the catalogue`);
      if (d.releasesHeapType) return result('yes', `${target.name}'s dealloc releases it`);
      notReleasing ??= { type: target.name, why: 'a static type\'s dealloc never does: only subtype_dealloc releases a heap type', frees: d.frees };
      continue;
    }
    if (target.k === 'python-class') return result('yes', 'subtype_dealloc of the Python base releases it');
    const base = target.type;
    if (base === owner) return result('unknown', `${h.written} is the dealloc being run`);
    const baseSlot = base.slots.get('tp_dealloc');
    // A heap base without a dealloc of its own has subtype_dealloc, which releases the type.
    if (!baseSlot?.function) {
      if (base.kind === 'heap' && !baseSlot?.expression && base.slotsKnown) return result('yes', `subtype_dealloc of ${displayName(base)} releases it`);
      return result('unknown', `the dealloc of ${displayName(base)} is unknown`);
    }
    const baseFn = findFunction(model, baseSlot.function, baseSlot.file);
    if (!baseFn || seen.has(base)) return result('unknown', `the dealloc of ${displayName(base)} cannot be followed`);
    seen.add(base);
    const inner = functionRelease(model, baseFn, base, factsOf, resolve, seen);
    if (inner.answer !== 'no') return result(inner.answer, inner.reason);
    notReleasing ??= { type: displayName(base), why: `${baseFn.name}() does not`, frees: inner.frees };
  }
  const { type, why, frees } = notReleasing!;
  return result('no', `the dealloc of ${type} does not release it`, { type, why }, facts.frees.length > 0 || frees);
}

type Target = { k: 'builtin'; name: string } | { k: 'model'; type: ExtensionType } | { k: 'python-class' } | { k: 'unknown'; why: string };

/** The type `tp_base` of `owner` is, as the dealloc of "the base" (`Py_TYPE(self)->tp_base->tp_dealloc`) sees it. */
function baseOf(owner: ExtensionType): Target {
  if (!owner.basesKnown) return { k: 'unknown', why: `the base of ${displayName(owner)} is unknown` };
  const base = owner.bases[0];
  if (!base) return { k: 'builtin', name: 'PyBaseObject_Type' };
  switch (base.kind) {
    case 'builtin': return { k: 'builtin', name: base.name };
    case 'model': return { k: 'model', type: base.type };
    case 'python-class': return { k: 'python-class' };
    case 'unknown': return { k: 'unknown', why: `the base ${render(base.expression)} could not be resolved` };
  }
}

/** Which type a type expression in `fn` denotes: the object's own, its base, a builtin or a type of the model. */
function resolveTypeRef(resolve: TypeResolver, e: Expr | null, fn: FunctionFact, depth: number): TypeRef | Target {
  if (!e || depth > 4) return { k: 'unknown', why: 'the type cannot be read' };
  if (e.k === 'name' && isLocalName(fn, e.name)) {
    if (fn.params.some((p) => p.name === e.name)) return { k: 'unknown', why: `${e.name} is a parameter` };
    const values = fn.assignments.filter((a) => isName(a.target, e.name));
    if (values.length !== 1) return { k: 'unknown', why: `${e.name} is assigned ${values.length} times` };
    return resolveTypeRef(resolve, values[0].value, fn, depth + 1);
  }
  if (typeOfObject(e) && typeOfObject(e)!.via !== '.') return { k: 'own' };
  const s = slotOf(e);
  if (s?.slot === 'tp_base') {
    const of = resolveTypeRef(resolve, s.type, fn, depth + 1);
    if (of.k === 'own') return { k: 'own-base' };
    if (of.k === 'model') return baseOf(of.type);
    return { k: 'unknown', why: `the base of ${render(s.type)} is unknown` };
  }
  const builtin = builtinBase(nameOrAddressed(e));
  if (builtin) return { k: 'builtin', name: builtin.name };
  const found = resolve(e, fn, fn.file);
  if (found) return { k: 'model', type: found };
  return { k: 'unknown', why: `${render(e)} could not be resolved` };
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
