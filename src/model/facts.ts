// Plain, serialisable facts extracted from one file. Linking them across the files of a run is model/link.ts.
// Expressions are kept as normalised text: casts, parentheses and white space removed
// (`(PyObject *)Py_TYPE(self)` → `Py_TYPE(self)`, `(( FooObject *) op)->x` → `op->x`).

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

export type ValueFact =
  | { kind: 'null' }
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'identifier'; name: string }
  | { kind: 'address'; name: string } // &identifier
  | { kind: 'sizeof'; typeName: string }
  | { kind: 'expression'; text: string; identifiers: string[] };

export interface SlotFact extends Position {
  slot: string; // Py_tp_traverse, or the raw text when not an identifier
  value: ValueFact;
}

export interface SlotArrayFact extends Located {
  name: string;
  /** The function it is declared in, or null at file scope. */
  scope: string | null;
  slots: SlotFact[];
}

export interface SpecFact extends Located {
  cName: string;
  /** The function it is declared in, or null at file scope. */
  scope: string | null;
  name: (ValueFact & Position) | null;
  basicsize: (ValueFact & Position) | null;
  itemsize: (ValueFact & Position) | null;
  flags: (ValueFact & Position) | null;
  slots: (ValueFact & Position) | null;
}

export interface StaticTypeFact extends Located {
  cName: string;
  /** Field values by field name (`tp_traverse`, `tp_flags` …), from designated or positional initializers. */
  fields: Record<string, ValueFact & Position>;
  /** True when a positional initializer could not be mapped to field names reliably. */
  positionalUnreliable: boolean;
}

export interface ModuleDefFact extends Located {
  cName: string;
  fields: Record<string, ValueFact & Position>;
}

export interface CallFact extends Position {
  /** Normalised callee: a function name, or e.g. `tp->tp_free`, `Py_TYPE(self)->tp_free`. */
  callee: string;
  args: string[];
  /** Identifiers mentioned in each argument (helps resolve what an argument refers to). */
  argIdentifiers: string[][];
  /** The variable or place the result is stored in (`self`, `st->FooType`), or `return` when returned. */
  assignedTo: string | null;
  /** Index in source order among this function's calls. */
  order: number;
  /** Call sits inside a for/while/do loop. */
  inLoop: boolean;
  /** Call sits inside an if/else/switch/?: (not executed on every path). */
  conditional: boolean;
}

export interface AssignmentFact extends Position {
  target: string;
  value: string;
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
  returns: string[];
  /** Each return statement: how many calls precede it, and the condition of the `if` it sits under, if any. */
  returnSites: { value: string; afterCalls: number; guard: string | null; line: number }[];
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
  specExpression: string;
  bases: string | null; // normalised expression of the bases argument
  module: string | null;
  storedIn: string | null; // where the result goes: `st->FooType`, `FooType`, a local, or `return`
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

/** A PyMemberDef table: which struct fields Python code can read or write as attributes. */
export interface MemberTableFact extends Located {
  name: string;
  entries: { field: string; writable: boolean; objectType: boolean }[];
}

export interface MacroFact {
  file: string;
  name: string;
  params: string[] | null; // null for object-like macros
  body: string;
  line: number;
}

export interface FileFacts {
  file: string;
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
  macros: MacroFact[];
  /** `Foo_Type.tp_flags = …` / `Foo_Type.tp_new = …` assignments at run time. */
  staticFieldAssignments: { typeName: string; field: string; value: string; line: number; column: number }[];
  unknownConditions: { line: number; condition: string; macros: string[] }[];
  /** Functions whose bodies nest too deep to walk completely. */
  truncatedFunctions: string[];
  /** Share of the text that tree-sitter could not place (ERROR nodes), 0..1. */
  errorRatio: number;
  rootIsError: boolean;
}
