// The semantic model rules ask: extension types, modules, functions, linked across all files of a run.
// Linking builds it (with the shapes in draft.ts); from then on it is frozen, and derived facts live in queries.ts.

import type * as draft from './draft.js';
import type * as facts from './facts.js';
import type { SymbolTable } from './symbols.js';

/** `T` with every property, array, map and set readonly, all the way down. */
export type Frozen<T> =
  T extends (...args: never[]) => unknown ? T
    : T extends ReadonlyMap<infer K, infer V> ? ReadonlyMap<Frozen<K>, Frozen<V>>
      : T extends ReadonlySet<infer V> ? ReadonlySet<Frozen<V>>
        : T extends readonly (infer V)[] ? readonly Frozen<V>[]
          : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> }
            : T;

export type TypeKind = draft.TypeKind;
export type Allocator = draft.Allocator;
export type FlagSet = Frozen<draft.FlagSet>;
export type SlotValue = Frozen<draft.SlotValue>;
export type BaseRef = Frozen<draft.BaseRef>;
export type ExtensionType = Frozen<draft.ExtensionType>;
export type ModuleInfo = Frozen<draft.ModuleInfo>;
export type AllocationSite = Frozen<draft.AllocationSite>;
export type Uncertainty = Frozen<draft.Uncertainty>;
export type Place = Frozen<draft.Place>;
export { samePlace } from './draft.js';
/** What rules read. What linking could not decide is returned beside it (`LinkedModel`), not kept in it. */
export interface Model extends Frozen<Omit<draft.Model, 'uncertainties' | 'symbols'>> {
  /** Name lookup by C's linkage; it memoises what it resolves, so it is shared, not frozen. */
  readonly symbols: SymbolTable;
}

export interface LinkedModel {
  model: Model;
  uncertainties: readonly Uncertainty[];
}

export type FunctionFact = Frozen<facts.FunctionFact>;
export type StructFact = Frozen<facts.StructFact>;
export type StructMember = Frozen<facts.StructMember>;
export type CallFact = Frozen<facts.CallFact>;
export type MacroFact = Frozen<facts.MacroFact>;
export type GlobalFact = Frozen<facts.GlobalFact>;
export type FileFacts = Frozen<facts.FileFacts>;
