// Plain, serialisable facts extracted from one file. Linking them across the files of a run is model/link.ts.
// Expressions are lowered to Expr, a small typed form, so that nothing after extraction reads C text again.

/**
 * A C expression as the model needs it. Casts and parentheses are dropped during lowering (the model never asks
 * what a value was cast to), so `((FooObject *)op)->x` is `op->x`. Plain objects only: facts cross worker threads
 * and sit in a cache. `Py_TYPE(x)`, `x->ob_type` and `PyType_GetSlot(t, Py_tp_x)` stay calls and members here;
 * model/expr.ts gives the views that read them as "type of" and "slot of".
 */
/** Expressions are values: never changed after lowering, so they are readonly all the way down. */
export type Expr =
  | { readonly k: 'name'; readonly name: string }
  /** A number, string or NULL; `text` is the spelling, for messages. */
  | { readonly k: 'literal'; readonly value: number | string | null; readonly text: string }
  | { readonly k: 'member'; readonly object: Expr; readonly field: string; readonly arrow: boolean }
  | { readonly k: 'call'; readonly callee: Expr; readonly args: readonly Expr[] }
  | { readonly k: 'addr'; readonly of: Expr }
  | { readonly k: 'deref'; readonly of: Expr }
  | { readonly k: 'index'; readonly object: Expr; readonly index: Expr | null }
  | { readonly k: 'unary'; readonly op: string; readonly of: Expr }
  | { readonly k: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'sizeof'; readonly typeName: string }
  | { readonly k: 'offsetof'; readonly typeName: string; readonly member: string }
  /** Adjacent string literals and macros, resolved when linking: `MODULE ".Foo"`. */
  | { readonly k: 'concat'; readonly parts: readonly Expr[] }
  /** An initializer list; designators are dropped. */
  | { readonly k: 'init'; readonly items: readonly Expr[] }
  /** Anything else (`a ? b : c`, `x++`, a compound literal): its text without white space, and the names in it. */
  | { readonly k: 'other'; readonly text: string; readonly names: readonly string[] };

export type CallExpr = Extract<Expr, { k: 'call' }>;

export interface Position {
  line: number; // 1-based
  column: number; // 1-based
}

export interface Located extends Position {
  file: string;
}

export interface StructMember extends Position {
  name: string;
  /** The declared type as written, without the declarator (e.g. `PyObject`, `struct foo`, `PyTypeObject`). */
  typeName: string;
  pointerDepth: number;
  arrayLength: string | null;
  /** True when the member is a function pointer or otherwise not a plain data member. */
  isFunctionPointer: boolean;
  /** A comment on the member line (or the line above), e.g. a "borrowed" marker. */
  comment: string | null;
}

export interface StructFact extends Located {
  /** Every name the struct is known by: its tag (`struct foo` → `foo`) and typedef names. */
  names: string[];
  members: StructMember[];
  /** First member is PyObject_HEAD / PyObject_VAR_HEAD / `PyObject ob_base` or another object struct. */
  headType: string | null;
}

export interface TypedefFact {
  alias: string;
  target: string;
  pointerDepth: number;
}

/** An initializer value where it is written. A missing value (`{Py_tp_x}`) is NULL. */
export type ValueFact = Expr & Position;

export interface SlotFact extends Position {
  slot: string; // Py_tp_traverse, or the raw text when not an identifier
  value: Expr;
}

export interface SlotArrayFact extends Located {
  name: string;
  /** The function it is declared in, or null at file scope. */
  scope: string | null;
  isStatic: boolean;
  slots: SlotFact[];
}

export interface SpecFact extends Located {
  cName: string;
  /** The function it is declared in, or null at file scope. */
  scope: string | null;
  isStatic: boolean;
  name: ValueFact | null;
  basicsize: ValueFact | null;
  itemsize: ValueFact | null;
  flags: ValueFact | null;
  slots: ValueFact | null;
}

export interface StaticTypeFact extends Located {
  cName: string;
  isStatic: boolean;
  /** Field values by field name (`tp_traverse`, `tp_flags` …), from designated or positional initializers. */
  fields: Record<string, ValueFact>;
  /** True when a positional initializer could not be mapped to field names reliably. */
  positionalUnreliable: boolean;
}

export interface ModuleDefFact extends Located {
  cName: string;
  fields: Record<string, ValueFact>;
}

export interface CallFact extends Position {
  /** A function name, or e.g. `tp->tp_free`, `Py_TYPE(self)->tp_free`. */
  callee: Expr;
  args: Expr[];
  /** The variable or place the result is stored in (`self`, `st->FooType`). */
  assignedTo: Expr | null;
  /** The result is returned by the calling function. */
  returned: boolean;
  /** Index in source order among this function's calls. */
  order: number;
  /** Call sits inside a for/while/do loop. */
  inLoop: boolean;
  /** Call sits inside an if/else/switch/?: (not executed on every path). */
  conditional: boolean;
}

export interface AssignmentFact extends Position {
  target: Expr;
  value: Expr;
  /** Declared type of the target when this assignment is a declaration (`PyTypeObject *tp = …`). */
  declaredType: string | null;
}

export interface FunctionFact extends Located {
  name: string;
  isStatic: boolean;
  returnType: string;
  params: { name: string; typeName: string; pointerDepth: number }[];
  calls: CallFact[];
  assignments: AssignmentFact[];
  returns: Expr[];
  /**
   * Each return statement: how many calls precede it, and the condition of the `if` it sits under, if any (in an
   * `else` branch, the negated condition).
   */
  returnSites: { value: Expr | null; afterCalls: number; guard: Expr | null; line: number }[];
  /** Local variables with their declared types. */
  locals: { name: string; typeName: string; pointerDepth: number }[];
  /** Identifiers used as values (not called): function names passed around, globals read. */
  references: string[];
  endLine: number;
}

export interface TypeCreationFact extends Located {
  /** PyType_FromSpec, PyType_FromSpecWithBases, PyType_FromModuleAndSpec, PyType_FromMetaclass. */
  creator: string;
  spec: string | null; // C identifier of the spec (`&foo_spec` → foo_spec)
  specExpression: Expr;
  bases: Expr | null; // null when absent, NULL or 0
  module: Expr | null;
  storedIn: Expr | null; // where the result goes: `st->FooType`, `FooType`, a local
  /** The result is returned by the creating function. */
  returned: boolean;
  inFunction: string | null;
}

export interface GlobalFact extends Located {
  name: string;
  typeName: string;
  pointerDepth: number;
  isStatic: boolean;
  /** `&x` names in its initializer (a table such as `PyType_Spec *specs[] = {&a_spec, &b_spec}`). */
  addressesInInitializer: string[];
}

export interface MethodTableFact extends Located {
  name: string;
  functions: string[];
}

/** A PyGetSetDef table: the attributes whose getter and setter functions the type exposes to Python code. */
export interface GetSetTableFact extends Located {
  name: string;
  isStatic: boolean;
  entries: { name: string | null; getter: string | null; setter: string | null }[];
}

/** A PyMemberDef table: which struct fields Python code can read or write as attributes. */
export interface MemberTableFact extends Located {
  name: string;
  isStatic: boolean;
  /** `name` is the attribute name (`"__dictoffset__"`), when written as a string literal. */
  entries: { name: string | null; field: string; writable: boolean; objectType: boolean }[];
}

export interface MacroFact {
  file: string;
  name: string;
  params: string[] | null; // null for object-like macros
  /** Raw text: a macro body need not be an expression (model/macros.ts is where it is expanded). */
  body: string;
  /** An object-like macro's body read as an expression (flags, names); null for function-like macros. */
  value: Expr | null;
  line: number;
}

/** An `#include "path"` (or `<path>` when `system`) the preprocessor keeps. */
export interface IncludeFact {
  path: string;
  system: boolean;
  line: number;
}

/**
 * A type object's field written at run time, before (or after) `PyType_Ready`: `Foo_Type.tp_traverse = f;`,
 * `Foo_Type.tp_flags |= Py_TPFLAGS_HAVE_GC;`, or through a pointer, `tp->tp_flags &= ~Py_TPFLAGS_BASETYPE;`.
 */
export interface FieldAssignmentFact extends Position {
  /** The type object written to, or for `through` the pointer variable that is dereferenced. */
  typeName: string;
  field: string;
  value: Expr;
  /** `=`, `|=`, `&=` …: flags are replaced, extended or masked. */
  operator: string;
  /** Under an if/else/switch/?: or in a loop: not done on every path. */
  conditional: boolean;
  /** `tp->field = …`: `typeName` is a pointer local or parameter of `inFunction`, resolved when linking. */
  through: boolean;
  inFunction: string;
}

export interface FileFacts {
  file: string;
  includes: IncludeFact[];
  structs: StructFact[];
  typedefs: TypedefFact[];
  slotArrays: SlotArrayFact[];
  specs: SpecFact[];
  staticTypes: StaticTypeFact[];
  moduleDefs: ModuleDefFact[];
  functions: FunctionFact[];
  typeCreations: TypeCreationFact[];
  globals: GlobalFact[];
  methodTables: MethodTableFact[];
  memberTables: MemberTableFact[];
  getsetTables: GetSetTableFact[];
  macros: MacroFact[];
  /** `Foo_Type.tp_flags = …` / `tp->tp_traverse = …` assignments at run time, in source order. */
  staticFieldAssignments: FieldAssignmentFact[];
  unknownConditions: { line: number; condition: string; macros: string[] }[];
  /** Functions whose bodies nest too deep to walk completely. */
  truncatedFunctions: string[];
  /** Share of the text that tree-sitter could not place (ERROR nodes), 0..1. */
  errorRatio: number;
  rootIsError: boolean;
}
