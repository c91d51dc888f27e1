// The model's shapes while link.ts builds it in place. Everything after linking sees them through model.ts, frozen:
// the same names, deeply readonly, so that nothing but linking can write into the model.

import type {
  CallFact, Expr, FileFacts, FunctionFact, MacroFact, ModuleDefFact, Position, SpecFact, StaticTypeFact, StructFact,
  StructMember, TypeCreationFact,
} from './facts.js';
import type { SymbolTable } from './symbols.js';

export type TypeKind = 'heap' | 'static';

/** What a flags expression is known to contain. */
export interface FlagSet {
  names: Set<string>;
  /** Identifiers or expressions that could not be resolved to Py_TPFLAGS_* names. */
  unresolved: string[];
  /** Where the flags are written, if anywhere. */
  position: Position | null;
}

export interface SlotValue extends Position {
  /** Name of the function in the slot, or null for NULL. */
  function: string | null;
  /** The value when the slot holds something other than a plain function name or NULL. */
  expression: Expr | null;
  file: string;
  /** The function that fills the slot at run time (`slots[i].pfunc = …;`), when it does. */
  patchedIn?: string;
}

/** What a base-type expression refers to. */
export type BaseRef =
  | { kind: 'model'; expression: Expr; type: ExtensionType }
  | { kind: 'builtin'; expression: Expr; name: string; gc: boolean; traverseVisitsType: boolean; heap: boolean }
  | { kind: 'python-class'; expression: Expr } // created by PyErr_NewException or a class statement
  | { kind: 'unknown'; expression: Expr };

/**
 * A place a type object is kept: a field of some struct (module state, usually), a global, a local of a function,
 * or the result of a function that returns it.
 */
export type Place =
  | { k: 'field'; field: string }
  | { k: 'global'; name: string }
  | { k: 'local'; fn: string; name: string }
  | { k: 'return'; fn: string };

export function samePlace(a: Readonly<Place>, b: Readonly<Place>): boolean {
  switch (a.k) {
    case 'field': return b.k === 'field' && a.field === b.field;
    case 'global': return b.k === 'global' && a.name === b.name;
    case 'local': return b.k === 'local' && a.fn === b.fn && a.name === b.name;
    case 'return': return b.k === 'return' && a.fn === b.fn;
  }
}

export interface ExtensionType {
  id: string;
  kind: TypeKind;
  /** C identifier of the spec (heap) or of the PyTypeObject (static). */
  cName: string;
  /** Python-visible dotted name (`_random.Random`), when known. */
  name: string | null;
  module: string | null;
  file: string;
  line: number;
  column: number;
  flags: FlagSet;
  /** Slots by tp_* name (`tp_traverse`), own only. */
  slots: Map<string, SlotValue>;
  /** Instance struct, when basicsize is sizeof(a struct found in the analysed code). */
  struct: StructFact | null;
  /** sizeof() type name, even when the struct itself was not found. */
  structName: string | null;
  bases: BaseRef[];
  creations: TypeCreationFact[];
  /** Places the type object is stored in (each once). */
  storage: Place[];
  spec: SpecFact | null;
  staticType: StaticTypeFact | null;
  /** False when the slots could not all be read (slot array not found, initializer misparsed). */
  slotsKnown: boolean;
  /** False when the type may get a base the analysis cannot see (created through code it cannot follow). */
  basesKnown: boolean;
}

export interface ModuleInfo {
  def: ModuleDefFact;
  name: string | null;
  /** State struct when m_size is sizeof(a struct found). */
  stateStruct: StructFact | null;
  stateStructName: string | null;
  size: 'none' | 'state' | 'unknown';
}

/** Something the model could not decide, said once. */
export interface Uncertainty {
  file: string;
  line: number;
  message: string;
}

export interface AllocationSite {
  function: FunctionFact;
  call: CallFact;
  allocator: Allocator;
  type: ExtensionType;
}

export type Allocator = 'gc-new' | 'new' | 'tp-alloc' | 'generic-alloc' | 'malloc-init';

export interface Model {
  files: FileFacts[];
  types: ExtensionType[];
  modules: ModuleInfo[];
  /** Which definition a name used in a file refers to (C's linkage); every lookup by name goes through it. */
  symbols: SymbolTable;
  /** Every definition by name, for walks over the whole run (look names up through `symbols`). */
  functions: Map<string, FunctionFact[]>;
  macros: Map<string, MacroFact[]>;
  structs: Map<string, StructFact[]>;
  allocations: AllocationSite[];
  /** Functions that call each function (by callee name). */
  callers: Map<string, FunctionFact[]>;
  /** Functions referenced as values (slots, method tables, function pointers): reachable from Python. */
  exposedFunctions: Set<string>;
  uncertainties: Uncertainty[];
  pythonVersion: { major: number; minor: number };
}

export type { FunctionFact, StructFact, StructMember, CallFact };
