// What rules ask of one frozen model, each answer computed once and kept on this object (one per model): nothing
// is cached in module state, so two models (two Python versions, two editor buffers) never share an answer.

import type { AllocationSite, ExtensionType, Frozen, FunctionFact, GlobalFact, Model, ModuleInfo, StructMember } from './model.js';
import {
  allocationIsTracked, findFunction, inheritedSlot, isGcType, traverseOf, traverseVisitsType,
  trackingFacts, type Answer, type GcAnswer, type TrackingAnswer, type TrackingFacts, type TraverseInfo, type VisitAnswer,
} from './gc.js';
import {
  constructionFacts, dictMember, fieldHoldsOnlyLeafObjects, memberBreaksOwnCycles, fieldStores, isMutableMember, memberCannotHoldObjects,
  memberHoldsOnlyAtomicObjects, memberStores, memberWrites, objectMembers, type ConstructionFacts, type FieldStores,
  type MemberAnswer as MemberFacts, type MemberStore, type MemberStores, type MemberWrites,
} from './members.js';
import { typeResolver } from './link.js';
import { moduleFunction, moduleStateFields, stateFieldsHoldingModule, staticObjectGlobals } from './modules.js';
import {
  callsAny, clearedPaths, deallocFacts, typeRelease, visitedPaths, visitsSkippedByEarlyReturn, type DeallocFacts as DeallocAnswer,
  type PathSet as PathAnswer, type TypeRelease as TypeReleaseAnswer, type TypeResolver,
} from './protocol.js';

// Answers are shared by every rule that asks: they are handed out read-only.
export type PathSet = Frozen<PathAnswer>;
export type DeallocFacts = Frozen<DeallocAnswer>;
export type MemberAnswer = Frozen<MemberFacts>;
export type TypeRelease = Frozen<TypeReleaseAnswer>;

export type ModuleFunctionField = 'm_traverse' | 'm_clear' | 'm_free';

export class Queries {
  private readonly gc = new Map<ExtensionType, GcAnswer>();
  private readonly traverses = new Map<ExtensionType, TraverseInfo>();
  private readonly typeVisits = new Map<FunctionFact, Map<ExtensionType, VisitAnswer>>();
  private readonly inheritedSlots = new Map<ExtensionType, Map<'tp_clear', Answer | 'none'>>();
  private readonly functions = new Map<string, FunctionFact | null>();
  private readonly members = new Map<ExtensionType, MemberAnswer>();
  private readonly constructions = new Map<ExtensionType, ConstructionFacts>();
  private readonly mutableMembers = new Map<ExtensionType, Map<StructMember, boolean>>();
  private readonly visits = new Map<FunctionFact, PathSet>();
  private readonly clears = new Map<FunctionFact, Map<boolean, PathSet>>();
  private readonly earlyReturns = new Map<FunctionFact, ReturnType<typeof visitsSkippedByEarlyReturn>>();
  private readonly deallocs = new Map<FunctionFact, Map<string | null, DeallocFacts>>();
  private readonly releases = new Map<ExtensionType, TypeRelease>();
  private resolveType: TypeResolver | null = null;
  private readonly calls = new Map<ReadonlySet<string>, Map<FunctionFact, Answer>>();
  private readonly tracking = new Map<AllocationSite, TrackingAnswer>();
  private readonly stateFields = new Map<ModuleInfo, readonly StructMember[] | null>();
  private readonly moduleFunctions = new Map<ModuleInfo, Map<ModuleFunctionField, FunctionFact | 'none' | 'unknown'>>();
  private readonly moduleHolders = new Map<ModuleInfo, readonly StructMember[]>();
  private readonly staticGlobals = new Map<string, readonly GlobalFact[]>();
  private trackingFacts: TrackingFacts | null = null;
  private allocationsByType: Map<ExtensionType, AllocationSite[]> | null = null;
  private stores: FieldStores | null = null;
  private writes: MemberWrites | null = null;
  private stores_: MemberStores | null = null;
  private readonly atomicMembers = new Map<ExtensionType, Map<StructMember, boolean>>();
  private readonly selfClearingMembers = new Map<ExtensionType, Map<StructMember, boolean>>();

  constructor(readonly model: Model) {}

  // types -------------------------------------------------------------------------------------------------------

  isGc(t: ExtensionType): GcAnswer {
    return once(this.gc, t, () => isGcType(this.model, t));
  }

  /** The tp_traverse a type ends up with: its own, or one inherited from a base. */
  traverseOf(t: ExtensionType): TraverseInfo {
    return once(this.traverses, t, () => traverseOf(this.model, t));
  }

  /** Does traverse function `fn` of `owner` visit the type of the object, directly or through what it calls? */
  traverseVisitsType(fn: FunctionFact, owner: ExtensionType): VisitAnswer {
    return once(inner(this.typeVisits, fn), owner, () => traverseVisitsType(this.model, fn, owner));
  }

  /** Whether the type gets the slot from a base (only through inherit_special). */
  inheritedSlot(t: ExtensionType, slot: 'tp_clear'): Answer | 'none' {
    return once(inner(this.inheritedSlots, t), slot, () => inheritedSlot(this.model, t, slot));
  }

  /** The definition of `name` as seen from `nearFile`. */
  findFunction(name: string, nearFile: string): FunctionFact | null {
    return once(this.functions, `${name}\0${nearFile}`, () => findFunction(this.model, name, nearFile));
  }

  // members -----------------------------------------------------------------------------------------------------

  /** Object-holding members the type adds to its base's layout. */
  objectMembers(t: ExtensionType): MemberAnswer {
    return once(this.members, t, () => objectMembers(this.model, t));
  }

  /** Whether code other than construction and destruction can store into the member. */
  isMutableMember(t: ExtensionType, m: StructMember): boolean {
    return once(inner(this.mutableMembers, t), m, () => {
      this.writes ??= memberWrites(this.model);
      return isMutableMember(t, m, this.construction(t), this.writes);
    });
  }

  private allocationsOf(t: ExtensionType): readonly AllocationSite[] {
    if (!this.allocationsByType) {
      this.allocationsByType = new Map();
      for (const a of this.model.allocations) once(this.allocationsByType, a.type, () => []).push(a);
    }
    return this.allocationsByType.get(t) ?? [];
  }

  /**
   * Whether every object the code can store in the member is a new int, str, bytes or float (or None): such a
   * member cannot be part of a cycle.
   */
  memberHoldsOnlyAtomicObjects(t: ExtensionType, m: StructMember): boolean {
    return once(inner(this.atomicMembers, t), m, () => {
      this.stores_ ??= memberStores(this.model);
      return memberHoldsOnlyAtomicObjects(t, m, this.construction(t), this.stores_);
    });
  }

  /**
   * Whether the member only ever holds an exact dict, list or set (the instance `__dict__`, or a member only ever
   * assigned a new container): the collector breaks a cycle through it by clearing the container itself.
   */
  memberBreaksOwnCycles(t: ExtensionType, m: StructMember): boolean {
    return once(inner(this.selfClearingMembers, t), m, () => {
      this.stores_ ??= memberStores(this.model);
      return memberBreaksOwnCycles(t, m, dictMember(this.model, t), this.construction(t), this.stores_);
    });
  }

  /** Every non-NULL store into `<var>->path` in the analysed code (a call given the member's address included). */
  storesInto(path: string): readonly MemberStore[] {
    this.stores_ ??= memberStores(this.model);
    return this.stores_.get(path) ?? [];
  }

  private construction(t: ExtensionType): ConstructionFacts {
    return once(this.constructions, t, () => constructionFacts(this.model, t, this.allocationsOf(t)));
  }

  memberCannotHoldObjects(m: StructMember): boolean {
    return memberCannotHoldObjects(this.model, m);
  }

  /** True when every store into `<anything>->name` is a new string, number or bytes object. */
  fieldHoldsOnlyLeafObjects(name: string): boolean {
    this.stores ??= fieldStores(this.model);
    return fieldHoldsOnlyLeafObjects(name, this.stores);
  }

  // traverse, clear, dealloc ------------------------------------------------------------------------------------

  /** Members a traverse function visits. */
  visitedPaths(fn: FunctionFact): PathSet {
    return once(this.visits, fn, () => visitedPaths(this.model, fn));
  }

  /** Members a clear (or free) function releases; with `mustReset`, a plain decref counts only if it resets. */
  clearedPaths(fn: FunctionFact, mustReset = false): PathSet {
    return once(inner(this.clears, fn), mustReset, () => clearedPaths(this.model, fn, mustReset));
  }

  /** Visits a traverse skips through an early `return 0` taken when one member is NULL. */
  visitsSkippedByEarlyReturn(fn: FunctionFact): ReturnType<typeof visitsSkippedByEarlyReturn> {
    return once(this.earlyReturns, fn, () => visitsSkippedByEarlyReturn(fn));
  }

  /** What a tp_dealloc does, and in which order; `clearFunction` is the type's tp_clear. */
  deallocFacts(fn: FunctionFact, clearFunction: string | null): DeallocFacts {
    return once(inner(this.deallocs, fn), clearFunction, () => deallocFacts(this.model, fn, clearFunction));
  }

  /** Does the dealloc that runs for instances of heap type `t` (its own or the one it inherits) release `t`? */
  typeRelease(t: ExtensionType): TypeRelease {
    return once(this.releases, t, () => {
      this.resolveType ??= typeResolver(this.model);
      return typeRelease(this.model, t, (fn) => this.deallocFacts(fn, null) as DeallocAnswer, this.resolveType);
    });
  }

  /** Does `fn` call one of `names`, directly, through a macro or a helper? Pass the same set each time. */
  callsAny(fn: FunctionFact, names: ReadonlySet<string>): Answer {
    return once(inner(this.calls, names), fn, () => callsAny(this.model, fn, names));
  }

  /** Is the object allocated at `site` tracked before it escapes to Python? */
  allocationIsTracked(site: AllocationSite): TrackingAnswer {
    return once(this.tracking, site, () => {
      this.trackingFacts ??= trackingFacts(this.model);
      return allocationIsTracked(this.model, site, this.trackingFacts);
    });
  }

  // modules -----------------------------------------------------------------------------------------------------

  /** Object-holding fields of the module state, or null when the state struct is unknown. */
  moduleStateFields(mod: ModuleInfo): readonly StructMember[] | null {
    return once(this.stateFields, mod, () => moduleStateFields(this.model, mod));
  }

  /** Object fields of the module state known to hold something that refers back to a module (a type made with one). */
  stateFieldsHoldingModule(mod: ModuleInfo): readonly StructMember[] {
    return once(this.moduleHolders, mod, () => stateFieldsHoldingModule(this.model, this.moduleStateFields(mod) ?? []));
  }

  moduleFunction(mod: ModuleInfo, field: ModuleFunctionField): FunctionFact | 'none' | 'unknown' {
    return once(inner(this.moduleFunctions, mod), field, () => moduleFunction(this.model, mod, field));
  }

  /** Static object globals of a file that some function stores an object in. */
  staticObjectGlobals(file: string): readonly GlobalFact[] {
    return once(this.staticGlobals, file, () => staticObjectGlobals(this.model, file));
  }
}

function once<K, V>(cache: Map<K, V>, key: K, compute: () => V): V {
  if (cache.has(key)) return cache.get(key) as V;
  const value = compute();
  cache.set(key, value);
  return value;
}

function inner<K, K2, V>(cache: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  return once(cache, key, () => new Map<K2, V>());
}
