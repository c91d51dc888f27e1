// The only place that reads syntax trees: turns one parsed file into plain FileFacts.

import type {
  AssignmentFact, CallFact, Expr, FileFacts, FunctionFact, GetSetTableFact, GlobalFact, MemberTableFact, ModuleDefFact, Position, SlotArrayFact, SlotFact,
  SpecFact, StaticTypeFact, StructFact, StructMember, ValueFact,
} from '../facts.js';
import {
  declaratorInfo, errorShare, hasStorageClass, namedNonComment, position, stripWhitespace,
  SyntaxTree, topLevelItems, typeName, type Node,
} from '../../parse/syntax.js';
import type { Node as TreeSitterNode } from 'web-tree-sitter';
import { lower, lowerValue } from './lower.js';
import { parseExpressionText } from './text.js';
import { STATIC_TYPE_FIELDS, MODULE_DEF_FIELDS, SPEC_FIELDS } from './layouts.js';
import { TYPE_CREATORS, isTypeCreator } from '../capi.js';


/** `source`: the very string the tree was parsed from (the texts of its nodes are sliced from it). */
export function extractFacts(file: string, tree: TreeSitterNode, source: string): FileFacts {
  // The share of text in ERROR nodes is web-tree-sitter's own answer: the copy leaves out subtrees never read.
  const share = errorShare(tree);
  const syntax = SyntaxTree.of(tree, source, true);
  try {
    return extractFrom(file, syntax.root(), share);
  } finally {
    syntax.dispose();
  }
}

function extractFrom(file: string, root: Node, share: { ratio: number; rootIsError: boolean }): FileFacts {
  const facts: FileFacts = {
    file, includes: [], structs: [], typedefs: [], slotArrays: [], specs: [], staticTypes: [], moduleDefs: [], functions: [],
    typeCreations: [], globals: [], methodTables: [], memberTables: [], getsetTables: [], macros: [], truncatedFunctions: [], staticFieldAssignments: [], unknownConditions: [],
    errorRatio: 0, rootIsError: false,
  };
  const { ratio, rootIsError } = share;
  facts.errorRatio = ratio;
  facts.rootIsError = rootIsError;
  for (const item of topLevelItems(root)) extractTopLevel(item, facts);
  return facts;
}

function extractTopLevel(node: Node, facts: FileFacts): void {
  switch (node.type) {
    case 'preproc_def':
    case 'preproc_function_def':
      recordMacro(node, facts);
      return;
    case 'preproc_include':
      recordInclude(node, facts);
      return;
    case 'type_definition':
      extractTypedef(node, facts);
      return;
    case 'struct_specifier':
      extractStruct(node, [], facts);
      return;
    case 'declaration':
      extractDeclaration(node, facts, null);
      return;
    case 'function_definition':
      extractFunction(node, facts);
      return;
    case 'expression_statement':
      // Top-level statements come from error recovery; a creation call or assignment may still be inside.
      return;
  }
}

function recordMacro(node: Node, facts: FileFacts): void {
  const name = node.childForFieldName('name')?.text;
  if (!name) return;
  const body = (node.childForFieldName('value')?.text ?? '').trim();
  if (node.type === 'preproc_def') {
    facts.macros.push({ file: facts.file, name, params: null, body, value: body ? parseExpressionText(body) : null, line: node.startPosition.row + 1 });
    return;
  }
  const params = node.childForFieldName('parameters');
  facts.macros.push({
    file: facts.file, name, params: params ? namedNonComment(params).map((p) => p.text) : [], body, value: null,
    line: node.startPosition.row + 1,
  });
}

function recordInclude(node: Node, facts: FileFacts): void {
  const path = node.childForFieldName('path');
  // `#include MACRO` (a computed include) names no file we can know.
  if (path?.type === 'string_literal' || path?.type === 'system_lib_string') {
    facts.includes.push({ path: path.text.slice(1, -1), system: path.type === 'system_lib_string', line: node.startPosition.row + 1 });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// structs and typedefs

function extractTypedef(node: Node, facts: FileFacts): void {
  const typeNode = node.childForFieldName('type');
  const aliases = node.childrenForFieldName('declarator').map((d) => ({ info: declaratorInfo(d) }));
  if (typeNode && (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier') && typeNode.childForFieldName('body')) {
    extractStruct(typeNode, aliases.filter((a) => a.info.pointerDepth === 0 && a.info.name).map((a) => a.info.name!.text), facts);
  }
  const target = typeName(typeNode);
  for (const { info } of aliases) {
    if (info.name && target && !info.isFunction) facts.typedefs.push({ alias: info.name.text, target, pointerDepth: info.pointerDepth });
  }
}

/**
 * Members of a struct body. Members of nested struct/union values (anonymous or named) are flattened with a
 * dotted name (`read_from.result`): an object pointer inside a union is still owned by the instance.
 */
function structMembers(body: Node, prefix: string): StructMember[] {
  const members: StructMember[] = [];
  for (const field of body.namedChildren) {
    if (!field || field.type !== 'field_declaration') continue;
    const t = field.childForFieldName('type');
    const tn = typeName(t);
    const nestedBody = t && (t.type === 'struct_specifier' || t.type === 'union_specifier') ? t.childForFieldName('body') : null;
    const declarators = field.childrenForFieldName('declarator');
    if (nestedBody && !declarators.length) {
      members.push(...structMembers(nestedBody, prefix));
      continue;
    }
    for (const d of declarators) {
      const info = declaratorInfo(d);
      if (!info.name) continue;
      if (nestedBody && info.pointerDepth === 0) {
        members.push(...structMembers(nestedBody, `${prefix}${info.name.text}.`));
        continue;
      }
      members.push({
        name: prefix + info.name.text, typeName: tn, pointerDepth: info.pointerDepth, arrayLength: info.arrayLength,
        isFunctionPointer: info.isFunction, comment: memberComment(field), ...position(info.name),
      });
    }
  }
  return members;
}

/**
 * The comment that describes a member: one on its own line, else one heading the run of members it belongs to
 * (`/* Exception objects: borrowed refs. *\/` above a block with no blank line in between).
 */
function memberComment(field: Node): string | null {
  const next = field.nextSibling;
  if (next?.type === 'comment' && next.startPosition.row === field.endPosition.row) return next.text;
  let first = field;
  let prev = field.previousSibling;
  while (prev && prev.type === 'field_declaration' && prev.endPosition.row === first.startPosition.row - 1) {
    first = prev;
    prev = prev.previousSibling;
  }
  // A trailing comment of the previous member belongs to that member, not to this run.
  if (prev?.type === 'comment' && prev.endPosition.row === first.startPosition.row - 1
    && prev.previousSibling?.endPosition.row !== prev.startPosition.row) return prev.text;
  return null;
}

function extractStruct(node: Node, typedefNames: string[], facts: FileFacts): void {
  const body = node.childForFieldName('body');
  if (!body) return;
  const tag = node.childForFieldName('name')?.text;
  const names = [...(tag ? [tag] : []), ...typedefNames];
  if (!names.length) return;
  const members = structMembers(body, '');
  // The shim turns PyObject_HEAD into `PyObject ob;`: the first member tells whether this is an object struct.
  const first = members[0];
  const headType = first && first.pointerDepth === 0 && first.arrayLength === null ? first.typeName : null;
  const struct: StructFact = { file: facts.file, names, members, headType, ...position(node) };
  facts.structs.push(struct);
}

// ---------------------------------------------------------------------------------------------------------------
// declarations: specs, slot arrays, static types, module definitions, method tables, globals

function extractDeclaration(node: Node, facts: FileFacts, inFunction: string | null): void {
  const typeNode = node.childForFieldName('type');
  const tn = typeName(typeNode);
  if (typeNode?.type === 'struct_specifier' && typeNode.childForFieldName('body')) extractStruct(typeNode, [], facts);
  const isStatic = hasStorageClass(node, 'static');
  for (const d of node.childrenForFieldName('declarator')) {
    const info = declaratorInfo(d);
    if (!info.name || info.isFunction) continue;
    const name = info.name.text;
    const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
    const where = position(info.name);
    if (value?.type === 'initializer_list' && info.pointerDepth === 0) {
      if (tn === 'PyType_Spec') { facts.specs.push({ ...extractSpec(name, value, facts.file, where, inFunction), isStatic }); continue; }
      if (tn === 'PyType_Slot' || tn === 'PyModuleDef_Slot') { facts.slotArrays.push({ ...extractSlotArray(name, value, facts.file, where, inFunction), isStatic }); continue; }
      if (tn === 'PyTypeObject') { facts.staticTypes.push({ ...extractStaticType(name, value, facts.file, where), isStatic }); continue; }
      if (tn === 'PyModuleDef') { facts.moduleDefs.push(extractModuleDef(name, value, facts.file, where)); continue; }
      if (tn === 'PyMemberDef') {
        facts.memberTables.push({ file: facts.file, name, isStatic, entries: memberEntries(value), ...where });
        continue;
      }
      if (tn === 'PyGetSetDef') {
        facts.getsetTables.push({ file: facts.file, name, isStatic, entries: getsetEntries(value), ...where });
        continue;
      }
      if (tn === 'PyMethodDef') {
        facts.methodTables.push({ file: facts.file, name, functions: methodFunctions(value), ...where });
        continue;
      }
    }
    if (inFunction === null) {
      const addresses = value?.type === 'initializer_list' ? [...stripWhitespace(value.text).matchAll(/&(\w+)/g)].map((m) => m[1]) : [];
      const g: GlobalFact = { file: facts.file, name, typeName: tn, pointerDepth: info.pointerDepth, isStatic, addressesInInitializer: addresses, ...where };
      facts.globals.push(g);
    }
  }
}

/** Values of a designated or positional initializer, keyed by field name. */
function initializerFields(
  list: Node,
  layout: readonly string[],
): { fields: Record<string, ValueFact>; unreliable: boolean } {
  const fields: Record<string, ValueFact> = {};
  let index = 0;
  let unreliable = false;
  for (const child of namedNonComment(list)) {
    if (child.type === 'ERROR') { unreliable = true; continue; }
    if (child.type === 'initializer_pair') {
      const designator = child.childForFieldName('designator');
      const fieldName = designator?.type === 'field_designator'
        ? namedNonComment(designator)[0]?.text ?? designator.text.replace(/^\./, '')
        : designator?.text ?? '';
      const value = child.childForFieldName('value');
      if (fieldName) fields[fieldName] = { ...lowerValue(value), ...position(value ?? child) };
      const at = layout.indexOf(fieldName);
      if (at >= 0) index = at + 1;
      continue;
    }
    const fieldName = layout[index];
    if (fieldName) fields[fieldName] = { ...lower(child), ...position(child) };
    index++;
  }
  return { fields, unreliable };
}

function extractSpec(cName: string, list: Node, file: string, where: Position, scope: string | null): Omit<SpecFact, 'isStatic'> {
  const { fields } = initializerFields(list, SPEC_FIELDS);
  return {
    file, cName, scope, ...where,
    name: fields.name ?? null, basicsize: fields.basicsize ?? null, itemsize: fields.itemsize ?? null,
    flags: fields.flags ?? null, slots: fields.slots ?? null,
  };
}

function extractSlotArray(name: string, list: Node, file: string, where: Position, scope: string | null): Omit<SlotArrayFact, 'isStatic'> {
  const slots: SlotFact[] = [];
  for (const entry of namedNonComment(list)) {
    if (entry.type !== 'initializer_list') continue;
    const parts = namedNonComment(entry);
    let slotNode: Node | undefined;
    let valueNode: Node | undefined;
    if (parts[0]?.type === 'initializer_pair') {
      // {.slot = Py_tp_traverse, .pfunc = foo_traverse}
      for (const p of parts) {
        const field = namedNonComment(p.childForFieldName('designator') ?? p)[0]?.text;
        if (field === 'slot') slotNode = p.childForFieldName('value') ?? undefined;
        else if (field === 'pfunc' || field === 'value') valueNode = p.childForFieldName('value') ?? undefined;
      }
    } else {
      [slotNode, valueNode] = parts;
    }
    if (!slotNode) continue;
    const slot = stripWhitespace(slotNode.text);
    if (slot === '0') continue; // sentinel
    slots.push({ slot, value: lowerValue(valueNode), ...position(entry) });
  }
  return { file, name, scope, slots, ...where };
}

function extractStaticType(cName: string, list: Node, file: string, where: Position): Omit<StaticTypeFact, 'isStatic'> {
  const children = namedNonComment(list);
  // The shim turned PyVarObject_HEAD_INIT(t, n) into `{t, n}` and PyObject_HEAD_INIT(t) into `{t}`; the latter is
  // followed by a positional ob_size.
  const first = children[0];
  const objectHeadOnly = first?.type === 'initializer_list' && namedNonComment(first).length === 1
    && children[1] !== undefined && children[1].type !== 'initializer_pair';
  const layout = objectHeadOnly ? ['ob_base', 'ob_size', ...STATIC_TYPE_FIELDS] : ['ob_base', ...STATIC_TYPE_FIELDS];
  const { fields, unreliable } = initializerFields(list, layout);
  delete fields.ob_base;
  delete fields.ob_size;
  return { file, cName, fields, positionalUnreliable: unreliable, ...where };
}

function extractModuleDef(cName: string, list: Node, file: string, where: Position): ModuleDefFact {
  const { fields } = initializerFields(list, MODULE_DEF_FIELDS);
  return { file, cName, fields, ...where };
}

/** `{"name", T_OBJECT_EX, offsetof(FooObject, field), READONLY, doc}` entries. */
function memberEntries(list: Node): MemberTableFact['entries'] {
  const out: MemberTableFact['entries'] = [];
  for (const entry of namedNonComment(list)) {
    if (entry.type !== 'initializer_list') continue;
    const text = stripWhitespace(entry.text);
    const field = /offsetof\(\w+(?:\s*\w+)?,([\w.]+)\)/.exec(text)?.[1];
    if (!field) continue;
    const parts = namedNonComment(entry).map((p) => stripWhitespace(p.text));
    const flags = parts[3] ?? '0';
    const first = namedNonComment(entry)[0];
    const named = first ? lower(first) : null;
    out.push({
      name: named?.k === 'literal' && typeof named.value === 'string' ? named.value : null,
      field,
      writable: !/READONLY|READ_ONLY/.test(flags),
      objectType: /OBJECT/.test(parts[1] ?? ''),
    });
  }
  return out;
}

/** `{"name", getter, setter, doc, closure}` entries, positional or designated (`.set = foo_set`). */
function getsetEntries(list: Node): GetSetTableFact['entries'] {
  const out: GetSetTableFact['entries'] = [];
  const functionName = (n: Node | null | undefined) => {
    const v = n ? lowerValue(n) : null;
    return v?.k === 'name' ? v.name : null;
  };
  for (const entry of namedNonComment(list)) {
    if (entry.type !== 'initializer_list') continue;
    const parts = namedNonComment(entry);
    const fields: (Node | undefined)[] = [];
    let index = 0;
    for (const p of parts) {
      if (p.type === 'initializer_pair') {
        const field = namedNonComment(p.childForFieldName('designator') ?? p)[0]?.text;
        index = ['name', 'get', 'set', 'doc', 'closure'].indexOf(field ?? '');
        if (index >= 0) fields[index] = p.childForFieldName('value') ?? undefined;
        index++;
      } else {
        fields[index++] = p;
      }
    }
    const named = fields[0] ? lower(fields[0]) : null;
    const name = named?.k === 'literal' && typeof named.value === 'string' ? named.value : null;
    if (name === null && !fields[1] && !fields[2]) continue; // the sentinel
    out.push({ name, getter: functionName(fields[1]), setter: functionName(fields[2]) });
  }
  return out;
}

function methodFunctions(list: Node): string[] {
  const out: string[] = [];
  for (const entry of namedNonComment(list)) {
    if (entry.type === 'initializer_list') {
      const parts = namedNonComment(entry);
      const fn = parts[1] ? lower(parts[1]) : null;
      if (fn?.k === 'name') out.push(fn.name);
      for (const p of parts) {
        if (p.type === 'initializer_pair' && /ml_meth/.test(p.childForFieldName('designator')?.text ?? '')) {
          const v = lowerValue(p.childForFieldName('value'));
          if (v.k === 'name') out.push(v.name);
        }
      }
    } else if (entry.type === 'identifier') {
      out.push(entry.text.replace(/_METHODDE$/, '_METHODDEF')); // a Clinic macro: resolved through its #define
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// functions

interface WalkContext {
  inLoop: boolean;
  conditional: boolean;
  /** Condition of the innermost enclosing `if` (negated in its `else`), for statements in its branches. */
  guard?: Expr | null;
}

function extractFunction(node: Node, facts: FileFacts): void {
  const declarator = node.childForFieldName('declarator');
  let fnDeclarator: Node | null = declarator;
  let returnPointers = 0;
  while (fnDeclarator && fnDeclarator.type !== 'function_declarator') {
    if (fnDeclarator.type === 'pointer_declarator') returnPointers++;
    fnDeclarator = fnDeclarator.childForFieldName('declarator');
  }
  if (!fnDeclarator) return;
  const nameNode = fnDeclarator.childForFieldName('declarator');
  if (!nameNode || nameNode.type !== 'identifier') return;
  const name = nameNode.text;
  const params: FunctionFact['params'] = [];
  const paramList = fnDeclarator.childForFieldName('parameters');
  for (const p of paramList ? namedNonComment(paramList) : []) {
    if (p.type !== 'parameter_declaration') continue;
    const info = declaratorInfo(p.childForFieldName('declarator'));
    const tn = typeName(p.childForFieldName('type'));
    // `PyObject *Py_UNUSED(ignored)` parses as a function declarator named Py_UNUSED.
    params.push({ name: info.name?.text ?? '', typeName: tn, pointerDepth: info.pointerDepth });
  }
  const fn: FunctionFact = {
    file: facts.file, name, ...position(nameNode),
    isStatic: hasStorageClass(node, 'static'),
    returnType: typeName(node.childForFieldName('type')) + '*'.repeat(returnPointers),
    params, calls: [], assignments: [], returns: [], returnSites: [], locals: [], references: [],
    endLine: node.endPosition.row + 1,
  };
  const references = new Set<string>();
  const body = node.childForFieldName('body');
  if (body) walkBody(body, { inLoop: false, conditional: false }, fn, facts, references);
  fn.references = [...references];
  facts.functions.push(fn);
}

/** The types of the tables a function may declare that extractDeclaration reads (a spec made in a function). */
const LOCAL_TABLE_TYPES = new Set(['PyType_Spec', 'PyType_Slot', 'PyTypeObject', 'PyModuleDef', 'PyMethodDef', 'PyModuleDef_Slot']);

/** Deeper nesting than this (generated code) is not walked: the stack stays bounded whatever the input. */
const MAX_NESTING = 400;

function walkBody(node: Node, ctx: WalkContext, fn: FunctionFact, facts: FileFacts, references: Set<string>, depth = 0): void {
  if (depth > MAX_NESTING) {
    facts.truncatedFunctions.push(fn.name);
    return;
  }
  switch (node.type) {
    case 'if_statement': {
      const condition = node.childForFieldName('condition');
      walkChild(condition, ctx, fn, facts, references, depth);
      const guard = condition ? lower(condition) : null;
      walkChild(node.childForFieldName('consequence'), { ...ctx, conditional: true, guard }, fn, facts, references, depth);
      walkChild(node.childForFieldName('alternative'), { ...ctx, conditional: true, guard: guard && { k: 'unary', op: '!', of: guard } }, fn, facts, references, depth);
      return;
    }
    case 'conditional_expression': {
      walkChild(node.childForFieldName('condition'), ctx, fn, facts, references, depth);
      walkChild(node.childForFieldName('consequence'), { ...ctx, conditional: true }, fn, facts, references, depth);
      walkChild(node.childForFieldName('alternative'), { ...ctx, conditional: true }, fn, facts, references, depth);
      return;
    }
    case 'switch_statement': {
      walkChild(node.childForFieldName('condition'), ctx, fn, facts, references, depth);
      walkChild(node.childForFieldName('body'), { ...ctx, conditional: true }, fn, facts, references, depth);
      return;
    }
    case 'while_statement':
    case 'do_statement':
    case 'for_statement': {
      // Every part of a loop, the `for` initializer included, is walked as in the loop: this compared two
      // distinct web-tree-sitter Node objects (`c === node.childForFieldName('initializer')`), which never holds,
      // and the facts keep that meaning until a change of it is made (and measured) on purpose.
      for (const c of node.namedChildren) if (c) walkBody(c, { ...ctx, inLoop: true }, fn, facts, references, depth + 1);
      return;
    }
    case 'binary_expression': {
      const op = node.childForFieldName('operator')?.text;
      walkChild(node.childForFieldName('left'), ctx, fn, facts, references, depth);
      walkChild(node.childForFieldName('right'), op === '&&' || op === '||' ? { ...ctx, conditional: true } : ctx, fn, facts, references, depth);
      return;
    }
    case 'call_expression':
      recordCall(node, ctx, fn, facts);
      walkChild(node.childForFieldName('function'), ctx, fn, facts, references, depth, true);
      walkChild(node.childForFieldName('arguments'), ctx, fn, facts, references, depth);
      return;
    case 'assignment_expression': {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left && right) recordAssignment(lower(left), right, null, fn, facts, node, ctx, node.childForFieldName('operator')?.text ?? '=');
      walkChild(left, ctx, fn, facts, references, depth);
      walkChild(right, ctx, fn, facts, references, depth);
      return;
    }
    case 'declaration': {
      const tn = typeName(node.childForFieldName('type'));
      if (LOCAL_TABLE_TYPES.has(tn)) {
        extractDeclaration(node, facts, fn.name);
      }
      for (const d of node.childrenForFieldName('declarator')) {
        const info = declaratorInfo(d);
        if (!info.name) continue;
        fn.locals.push({ name: info.name.text, typeName: tn, pointerDepth: info.pointerDepth });
        const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
        if (value) {
          recordAssignment({ k: 'name', name: info.name.text }, value, tn + '*'.repeat(info.pointerDepth), fn, facts, d, ctx, '=');
          walkChild(value, ctx, fn, facts, references, depth);
        }
      }
      return;
    }
    case 'return_statement': {
      const value = namedNonComment(node)[0];
      const returned = value ? lower(value) : null;
      if (returned) fn.returns.push(returned);
      fn.returnSites.push({ value: returned, afterCalls: fn.calls.length, guard: ctx.conditional ? ctx.guard ?? null : null, line: node.startPosition.row + 1 });
      for (const c of node.namedChildren) if (c) walkBody(c, ctx, fn, facts, references, depth + 1);
      return;
    }
    case 'identifier':
      references.add(node.text);
      return;
    case 'preproc_include':
    case 'preproc_def':
    case 'preproc_function_def':
      // A macro defined inside a function (`#define VISIT(x) …` just for one traverse) is a macro like any other;
      // ceval.c includes its generated cases inside a function body, and they are part of the unit all the same.
      extractTopLevel(node, facts);
      return;
    case 'comment':
    case 'string_literal':
      return;
    default:
      for (const c of node.namedChildren) if (c) walkBody(c, ctx, fn, facts, references, depth + 1);
  }
}

function walkChild(
  child: Node | null, childCtx: WalkContext, fn: FunctionFact, facts: FileFacts, references: Set<string>, depth: number, isCallee = false,
): void {
  if (!child) return;
  // A called function name is a call, not a reference; `ptr->fn(...)` still mentions `ptr`.
  if (isCallee && child.type === 'identifier') return;
  walkBody(child, childCtx, fn, facts, references, depth + 1);
}

/** Where the value of `node` ends up: an assignment target, a declared local, the function's result, or nowhere. */
function destinationOf(node: Node): { assignedTo: Expr | null; returned: boolean } {
  let child = node;
  let parent = node.parent;
  while (parent && (parent.type === 'cast_expression' || parent.type === 'parenthesized_expression')) {
    child = parent;
    parent = parent.parent;
  }
  const nowhere = { assignedTo: null, returned: false };
  if (!parent) return nowhere;
  if (parent.type === 'assignment_expression' && parent.childForFieldName('right')?.equals(child)) {
    const left = parent.childForFieldName('left');
    return { assignedTo: left ? lower(left) : null, returned: false };
  }
  if (parent.type === 'init_declarator' && parent.childForFieldName('value')?.equals(child)) {
    const declared = declaratorInfo(parent.childForFieldName('declarator')).name?.text;
    return { assignedTo: declared ? { k: 'name', name: declared } : null, returned: false };
  }
  if (parent.type === 'return_statement') return { assignedTo: null, returned: true };
  return nowhere;
}

function recordCall(node: Node, ctx: WalkContext, fn: FunctionFact, facts: FileFacts): void {
  const calleeNode = node.childForFieldName('function');
  const argsNode = node.childForFieldName('arguments');
  const call: CallFact = {
    callee: calleeNode ? lower(calleeNode) : { k: 'other', text: '', names: [] },
    args: argsNode ? namedNonComment(argsNode).map((a) => lower(a)) : [],
    ...destinationOf(node),
    order: fn.calls.length,
    inLoop: ctx.inLoop,
    conditional: ctx.conditional,
    ...position(node),
  };
  fn.calls.push(call);
  const creator = call.callee.k === 'name' && isTypeCreator(call.callee.name) ? call.callee.name : null;
  if (creator) {
    const layout = TYPE_CREATORS[creator];
    const specArg = call.args[layout.spec] ?? { k: 'other', text: '', names: [] };
    let bases = layout.bases === null ? null : call.args[layout.bases] ?? null;
    if (bases?.k === 'literal' && (bases.value === null || bases.value === 0)) bases = null;
    const module = layout.module === null ? null : call.args[layout.module] ?? null;
    facts.typeCreations.push({
      file: facts.file, creator, specExpression: specArg, spec: specName(specArg),
      bases, module, storedIn: call.assignedTo, returned: call.returned, inFunction: fn.name, line: call.line, column: call.column,
    });
  }
}

/** `&foo_spec` or `foo_spec` → foo_spec. */
function specName(e: Expr): string | null {
  if (e.k === 'name') return e.name;
  return e.k === 'addr' && e.of.k === 'name' ? e.of.name : null;
}

function recordAssignment(
  target: Expr, value: Node, declaredType: string | null, fn: FunctionFact, facts: FileFacts, at: Node, ctx: WalkContext, operator: string,
): void {
  const a: AssignmentFact = { target, value: lower(value), declaredType, ...position(at) };
  fn.assignments.push(a);
  // `Foo_Type.tp_flags = …` or `tp->tp_traverse = …`: a type object finished at run time.
  if (target.k === 'member' && target.object.k === 'name' && /^tp_\w+$/.test(target.field)) {
    facts.staticFieldAssignments.push({
      typeName: target.object.name, field: target.field, value: a.value, operator, conditional: ctx.conditional || ctx.inLoop,
      through: target.arrow, inFunction: fn.name, line: a.line, column: a.column,
    });
  }
}
