// Small, reusable views over tree-sitter-c nodes. Only model/extract uses these.

import type { Node as TreeSitterNode, Point, Tree, TreeCursor } from 'web-tree-sitter';
import { wasmBinding, type CursorBinding } from './parser.js';

/**
 * A syntax node as the extractor reads it: the part of web-tree-sitter's `Node` API it uses, answered from a copy
 * of the tree in plain arrays. web-tree-sitter marshals a node into wasm memory at every question (its type, its
 * end, a field, its children) and builds a new `Node` object for every node it returns; the extractor asks about
 * two million nodes of CPython several questions each, and that cost more than parsing. The copy is made in one
 * walk of a tree cursor (`SyntaxTree.of`), each node a few calls into wasm, and every question after that is
 * answered in JavaScript. Text is sliced from the parsed string: web-tree-sitter reads a JS string as UTF-16 and
 * its indices and columns are UTF-16 code units, the same as `String.prototype.slice`'s, so `text` is exactly what
 * `Node.text` returns; rows count `\n`, as tree-sitter's do.
 */
export class Node {
  private textMemo: string | undefined;
  private namedMemo: (Node | null)[] | undefined;

  constructor(private readonly tree: SyntaxTree, readonly id: number) {}

  get type(): string {
    return this.tree.typeName(this.id);
  }

  get startIndex(): number {
    return this.tree.start[this.id];
  }

  get endIndex(): number {
    return this.tree.end[this.id];
  }

  get startPosition(): Point {
    return this.tree.point(this.tree.start[this.id]);
  }

  get endPosition(): Point {
    return this.tree.point(this.tree.end[this.id]);
  }

  get text(): string {
    return (this.textMemo ??= this.tree.source.slice(this.tree.start[this.id], this.tree.end[this.id]));
  }

  get children(): (Node | null)[] {
    const out: Node[] = [];
    const t = this.tree;
    for (let c = t.firstChild[this.id]; c >= 0; c = t.nextSibling[c]) out.push(t.node(c));
    return out;
  }

  get namedChildren(): (Node | null)[] {
    if (!this.namedMemo) {
      const out: Node[] = [];
      const t = this.tree;
      for (let c = t.firstChild[this.id]; c >= 0; c = t.nextSibling[c]) if (t.named[c]) out.push(t.node(c));
      this.namedMemo = out;
    }
    return this.namedMemo;
  }

  childForFieldName(field: string): Node | null {
    const t = this.tree;
    const id = t.fieldId(field);
    if (id <= 0) return null;
    // An ERROR node's children can carry the fields of the rules error recovery took them from, which the cursor
    // reports and web-tree-sitter's childForFieldName does not: ask it. One other difference is known (seen 14
    // times in CPython 3.13's Modules/ and Python/, never in Objects/ or the fixtures): a function_definition asked
    // for `parameters`, a field of its function_declarator, gets the parameter list from web-tree-sitter and null
    // here; the extractor asks function_declarator nodes only.
    if (t.typeId[this.id] === ERROR_SYMBOL || !t.typeName(this.id) || t.typeName(this.id) === 'ERROR') {
      return t.fromLibrary(this.id, (raw) => raw.childForFieldName(field), this.id);
    }
    for (let c = t.firstChild[this.id]; c >= 0; c = t.nextSibling[c]) if (t.field[c] === id) return t.node(c);
    return null;
  }

  childrenForFieldName(field: string): Node[] {
    const t = this.tree;
    const id = t.fieldId(field);
    const out: Node[] = [];
    if (id <= 0) return out;
    for (let c = t.firstChild[this.id]; c >= 0; c = t.nextSibling[c]) if (t.field[c] === id) out.push(t.node(c));
    return out;
  }

  get parent(): Node | null {
    const p = this.tree.parent[this.id];
    return p >= 0 ? this.tree.node(p) : null;
  }

  /**
   * Siblings are asked of web-tree-sitter (rarely needed): its answer is not always the next child of the parent
   * (it passes over zero-width MISSING tokens, for one).
   */
  get nextSibling(): Node | null {
    const p = this.tree.parent[this.id];
    return p < 0 ? null : this.tree.fromLibrary(this.id, (raw) => raw.nextSibling, p);
  }

  get previousSibling(): Node | null {
    const p = this.tree.parent[this.id];
    return p < 0 ? null : this.tree.fromLibrary(this.id, (raw) => raw.previousSibling, p);
  }

  get isMissing(): boolean {
    return this.tree.missing[this.id] === 1;
  }

  get hasError(): boolean {
    return this.tree.hasError(this.id);
  }

  equals(other: Node): boolean {
    return this.id === other.id;
  }
}

/** tree-sitter's symbol for ERROR nodes. */
const ERROR_SYMBOL = 65535;

const KIND_OTHER = 0;
const KIND_TRANSPARENT = 1;
const KIND_TOP_LEVEL = 2;
const KIND_DECLARATION = 3;
const KIND_INIT_DECLARATOR = 4;
const KIND_INITIALIZER_LIST = 5;
const KIND_PLAIN_TYPE = 6;

/** Top-level items extractTopLevel reads (besides declarations). */
const TOP_LEVEL_READ = new Set(['preproc_def', 'preproc_function_def', 'preproc_include', 'type_definition', 'struct_specifier', 'function_definition']);

/** The types of the top-level tables whose initializers extractDeclaration reads. */
const TABLE_TYPES = new Set(['PyType_Spec', 'PyType_Slot', 'PyModuleDef_Slot', 'PyTypeObject', 'PyModuleDef', 'PyMemberDef', 'PyGetSetDef', 'PyMethodDef']);

const kindsByTypes = new WeakMap<string[], Uint8Array>();
const namedByTypes = new WeakMap<string[], Uint8Array>();

/** Which node types are named, by type id (ERROR, 65535, is). */
function namedTypes(root: TreeSitterNode): Uint8Array {
  const language = root.tree.language;
  let named = namedByTypes.get(language.types);
  if (!named) {
    named = new Uint8Array(65536);
    for (let id = 0; id < language.nodeTypeCount; id++) named[id] = language.nodeTypeIsNamed(id) ? 1 : 0;
    named[ERROR_SYMBOL] = 1;
    namedByTypes.set(language.types, named);
  }
  return named;
}

/** What `leftOut` needs to know of each node type, by type id (65536 of them: ERROR is 65535). */
function nodeKinds(types: string[]): Uint8Array {
  let kinds = kindsByTypes.get(types);
  if (!kinds) {
    kinds = new Uint8Array(65536);
    for (let id = 0; id < 65536; id++) {
      const name = types[id] || 'ERROR';
      kinds[id] = TRANSPARENT.has(name) ? KIND_TRANSPARENT
        : TOP_LEVEL_READ.has(name) ? KIND_TOP_LEVEL
          : name === 'declaration' ? KIND_DECLARATION
            : name === 'init_declarator' ? KIND_INIT_DECLARATOR
              : name === 'initializer_list' ? KIND_INITIALIZER_LIST
                : name === 'primitive_type' || name === 'type_identifier' || name === 'sized_type_specifier' ? KIND_PLAIN_TYPE
                  : KIND_OTHER;
    }
    kindsByTypes.set(types, kinds);
  }
  return kinds;
}

/** The arrays of a disposed tree, for the next one (one set per thread, at most SPARE_MAX_NODES long). */
let spare: Pick<SyntaxTree, 'typeId' | 'field' | 'named' | 'missing' | 'start' | 'end' | 'parent' | 'firstChild' | 'nextSibling' | 'descendant'> & { nodes: (Node | null)[] } | null = null;
const SPARE_MAX_NODES = 1 << 16;

/** One parsed text, its nodes in document order (index 0 the root) in arrays. */
export class SyntaxTree {
  typeId: Uint16Array;
  field: Uint16Array;
  named: Uint8Array;
  missing: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  parent: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  /** The cursor's descendant index of each node (the node's own index unless subtrees were left out). */
  descendant: Int32Array;
  count = 0;
  private nodes: (Node | null)[];
  private lineStarts: number[] | null = null;
  private errorMemo: Int8Array | null = null;
  private readonly types: string[];
  private readonly fields: (string | null)[];
  private fieldIds = new Map<string, number>();

  private libraryCursor: TreeCursor | null = null;
  /** While copying for extraction: the top-level containers (see `leftOut`). */
  private container: Uint8Array | null = null;

  private constructor(readonly source: string, capacity: number, private readonly rawRoot: TreeSitterNode, private readonly rootHasError: boolean) {
    const root = rawRoot;
    this.types = root.tree.language.types;
    this.fields = root.tree.language.fields;
    const reused = spare && spare.typeId.length >= capacity ? spare : null;
    if (reused) spare = null;
    this.typeId = reused?.typeId ?? new Uint16Array(capacity);
    this.field = reused?.field ?? new Uint16Array(capacity);
    this.named = reused?.named ?? new Uint8Array(capacity);
    this.missing = reused?.missing ?? new Uint8Array(capacity);
    this.start = reused?.start ?? new Int32Array(capacity);
    this.end = reused?.end ?? new Int32Array(capacity);
    this.parent = reused?.parent ?? new Int32Array(capacity);
    this.firstChild = reused?.firstChild ?? new Int32Array(capacity);
    this.nextSibling = reused?.nextSibling ?? new Int32Array(capacity);
    this.descendant = reused?.descendant ?? new Int32Array(capacity);
    this.nodes = reused?.nodes ?? new Array<Node | null>(capacity).fill(null);
  }

  /**
   * The copy of the tree under `root` (the root of a tree parsed from `source`). With `forExtraction`, the insides
   * of what the extractor never looks into are left out (see `leftOut`): such a node is there, its children are
   * not; `errorShare` must then be asked of web-tree-sitter's own root.
   */
  static of(root: TreeSitterNode, source: string, forExtraction = false): SyntaxTree {
    const tree = new SyntaxTree(source, Math.max(1, root.descendantCount), root, root.hasError);
    const cursor = root.walk();
    try {
      const binding = wasmBinding();
      if (binding) tree.copyDirect(binding, root.tree, cursor, forExtraction);
      else tree.copy(cursor);
    } finally {
      cursor.delete();
    }
    return tree;
  }

  /**
   * web-tree-sitter's answer about node `index` (`ask` of its own Node), as one of ours: a child of `among`.
   * Node `index` is the cursor's descendant `index` (both count the visible nodes in document order).
   */
  fromLibrary(index: number, ask: (raw: TreeSitterNode) => TreeSitterNode | null, among: number): Node | null {
    this.libraryCursor ??= this.rawRoot.walk();
    this.libraryCursor.gotoDescendant(this.descendant[index]);
    const answer = ask(this.libraryCursor.currentNode);
    if (!answer) return null;
    const typeId = answer.typeId;
    const start = answer.startIndex;
    const end = answer.endIndex;
    for (let c = this.firstChild[among]; c >= 0; c = this.nextSibling[c]) {
      if (this.start[c] === start && this.end[c] === end && this.typeId[c] === typeId && c !== index) return this.node(c);
    }
    for (let c = this.firstChild[among]; c >= 0; c = this.nextSibling[c]) {
      if (this.start[c] === start && this.end[c] === end && this.typeId[c] === typeId) return this.node(c);
    }
    throw new Error(`web-tree-sitter answered with a node that is not a child of node ${among}`);
  }

  /** Frees what the copy holds in wasm memory (a cursor, when web-tree-sitter was asked something). */
  dispose(): void {
    this.libraryCursor?.delete();
    this.libraryCursor = null;
    // The arrays go to the next tree of this thread (unless they are large: memory is kept bounded).
    if (this.typeId.length <= SPARE_MAX_NODES && (!spare || spare.typeId.length < this.typeId.length)) {
      this.nodes.fill(null, 0, this.count);
      spare = {
        typeId: this.typeId, field: this.field, named: this.named, missing: this.missing, start: this.start, end: this.end,
        parent: this.parent, firstChild: this.firstChild, nextSibling: this.nextSibling, descendant: this.descendant, nodes: this.nodes,
      };
    }
  }

  node(index: number): Node {
    let n = this.nodes[index];
    if (!n) {
      n = new Node(this, index);
      this.nodes[index] = n;
    }
    return n;
  }

  root(): Node {
    return this.node(0);
  }

  typeName(index: number): string {
    return this.types[this.typeId[index]] || 'ERROR';
  }

  fieldId(name: string): number {
    let id = this.fieldIds.get(name);
    if (id === undefined) {
      id = this.fields.indexOf(name);
      this.fieldIds.set(name, id);
    }
    return id;
  }

  /** Row and column (UTF-16 code units) of a text index, as tree-sitter counts them: rows end at `\n`. */
  point(index: number): Point {
    if (!this.lineStarts) {
      const starts = [0];
      const s = this.source;
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: index - starts[lo] };
  }

  /**
   * Whether a node is or holds an ERROR or MISSING node. The root's answer is web-tree-sitter's own; below it,
   * this only decides which subtrees `errorShare` looks into for ERROR nodes, and a subtree holding one says yes.
   */
  hasError(index: number): boolean {
    if (index === 0) return this.rootHasError;
    if (!this.errorMemo) {
      const memo = new Int8Array(this.count);
      for (let i = this.count - 1; i >= 0; i--) {
        if (this.typeId[i] === 65535 || this.types[this.typeId[i]] === 'ERROR' || !this.types[this.typeId[i]] || this.missing[i]) memo[i] = 1;
        if (memo[i] && this.parent[i] >= 0) memo[this.parent[i]] = 1;
      }
      this.errorMemo = memo;
    }
    return this.errorMemo[index] === 1;
  }

  private grow(): void {
    const size = this.typeId.length * 2;
    const widen = <T extends Uint16Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.typeId = widen(this.typeId, (n) => new Uint16Array(n));
    this.field = widen(this.field, (n) => new Uint16Array(n));
    this.named = widen(this.named, (n) => new Uint8Array(n));
    this.missing = widen(this.missing, (n) => new Uint8Array(n));
    this.start = widen(this.start, (n) => new Int32Array(n));
    this.end = widen(this.end, (n) => new Int32Array(n));
    this.parent = widen(this.parent, (n) => new Int32Array(n));
    this.firstChild = widen(this.firstChild, (n) => new Int32Array(n));
    this.nextSibling = widen(this.nextSibling, (n) => new Int32Array(n));
    this.descendant = widen(this.descendant, (n) => new Int32Array(n));
    if (this.container) this.container = widen(this.container, (n) => new Uint8Array(n));
    const nodes = new Array<Node | null>(size).fill(null);
    for (let i = 0; i < this.count; i++) nodes[i] = this.nodes[i];
    this.nodes = nodes;
  }

  /** Records the node at the cursor, the child of `parent` after `previous` (-1: its first child). */
  private add(parent: number, previous: number, typeId: number, field: number, named: boolean, missing: boolean, start: number, end: number): number {
    if (this.count === this.typeId.length) this.grow();
    const i = this.count++;
    this.typeId[i] = typeId;
    this.field[i] = field;
    this.named[i] = named ? 1 : 0;
    this.missing[i] = missing ? 1 : 0;
    this.start[i] = start;
    this.end[i] = end;
    this.parent[i] = parent;
    this.firstChild[i] = -1;
    this.nextSibling[i] = -1;
    this.descendant[i] = i;
    if (previous >= 0) this.nextSibling[previous] = i;
    else if (parent >= 0) this.firstChild[parent] = i;
    return i;
  }

  /**
   * Whether the extractor never reads below node `i` (just added, its children not yet): a top-level item that
   * `extractTopLevel` passes over (an expression statement or a `case` that error recovery left at the top level,
   * an enum, a comment), or the initializer list of a top-level declaration whose type is none of the C-API
   * tables the extractor reads (`static const unsigned char table[] = {…}`: only its type and text are read).
   * `container` marks the top-level containers met so far (the root, and `#if`, `extern "C"`, ERROR in them).
   */
  private leftOut(i: number, kinds: Uint8Array, container: Uint8Array): boolean {
    const parent = this.parent[i];
    const kind = kinds[this.typeId[i]];
    if (parent < 0) {
      container[i] = 1;
      return false;
    }
    if (container[parent]) {
      if (kind === KIND_TRANSPARENT && this.named[i]) {
        container[i] = 1;
        return false;
      }
      return kind !== KIND_TOP_LEVEL && kind !== KIND_DECLARATION;
    }
    if (kind !== KIND_INITIALIZER_LIST || kinds[this.typeId[parent]] !== KIND_INIT_DECLARATOR) return false;
    const declaration = this.parent[parent];
    if (declaration < 0 || kinds[this.typeId[declaration]] !== KIND_DECLARATION || !container[this.parent[declaration]]) return false;
    const typeField = this.fieldId('type');
    for (let c = this.firstChild[declaration]; c >= 0; c = this.nextSibling[c]) {
      if (this.field[c] !== typeField) continue;
      // typeName() of these is their text without whitespace or comments.
      if (kinds[this.typeId[c]] !== KIND_PLAIN_TYPE) return false;
      return !TABLE_TYPES.has(stripWhitespace(this.source.slice(this.start[c], this.end[c])));
    }
    return false;
  }

  /** The walk through web-tree-sitter's TreeCursor methods (each marshals the cursor into wasm memory and back). */
  private copy(cursor: TreeCursor): void {
    const parents: number[] = [];
    let previous = -1;
    for (;;) {
      const parent = parents.length ? parents[parents.length - 1] : -1;
      const i = this.add(parent, previous, cursor.nodeTypeId, cursor.currentFieldId, cursor.nodeIsNamed, cursor.nodeIsMissing, cursor.startIndex, cursor.endIndex);
      if (cursor.gotoFirstChild()) {
        parents.push(i);
        previous = -1;
        continue;
      }
      previous = i;
      while (!cursor.gotoNextSibling()) {
        if (!parents.length || !cursor.gotoParent()) return;
        previous = parents.pop()!;
      }
    }
  }

  /**
   * The same walk calling web-tree-sitter's wasm cursor functions directly: the cursor stays in the binding's
   * transfer buffer from one call to the next (nothing else runs in between), instead of being written there and
   * read back around every call. The buffer is handed back to the TreeCursor object at the end, as its own
   * methods do, so that `delete()` frees what the cursor now holds.
   */
  private copyDirect(b: CursorBinding, tree: Tree, cursor: TreeCursor, forExtraction: boolean): void {
    const t = (tree as unknown as { 0: number })[0];
    const kinds = forExtraction ? nodeKinds(this.types) : null;
    const named = namedTypes(this.rawRoot);
    if (forExtraction) this.container = new Uint8Array(this.typeId.length);
    let skipped = false;
    // Any method of the cursor writes it to the transfer buffer first.
    void cursor.nodeTypeId;
    const parents: number[] = [];
    let previous = -1;
    try {
      for (;;) {
        const parent = parents.length ? parents[parents.length - 1] : -1;
        const typeId = b._ts_tree_cursor_current_node_type_id_wasm(t);
        const start = b._ts_tree_cursor_start_index_wasm(t);
        const end = b._ts_tree_cursor_end_index_wasm(t);
        // Whether a node is named depends on its type only; a MISSING node is always zero-width.
        const i = this.add(
          parent, previous, typeId, b._ts_tree_cursor_current_field_id_wasm(t), named[typeId] === 1,
          start === end && b._ts_tree_cursor_current_node_is_missing_wasm(t) === 1, start, end,
        );
        if (skipped) this.descendant[i] = b._ts_tree_cursor_current_descendant_index_wasm(t);
        if (kinds && this.leftOut(i, kinds, this.container!)) {
          skipped = true;
        } else if (b._ts_tree_cursor_goto_first_child_wasm(t) === 1) {
          parents.push(i);
          previous = -1;
          continue;
        }
        previous = i;
        let done = false;
        while (b._ts_tree_cursor_goto_next_sibling_wasm(t) !== 1) {
          if (!parents.length || b._ts_tree_cursor_goto_parent_wasm(t) !== 1) {
            done = true;
            break;
          }
          previous = parents.pop()!;
        }
        if (done) return;
      }
    } finally {
      this.container = null;
      const c = cursor as unknown as Record<number, number>;
      for (let k = 0; k < 4; k++) c[k] = b.getValue(b.transferBuffer + 4 * k, 'i32');
    }
  }
}

/** Containers whose children are themselves top-level items (after error recovery or `extern "C" {}`). */
const TRANSPARENT = new Set([
  'translation_unit', 'ERROR', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list',
]);

/** Top-level items in source order, descending into containers that error recovery or `extern "C" {}` create. */
export function topLevelItems(root: Node): Node[] {
  const items: Node[] = [];
  const walk = (node: Node) => {
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (TRANSPARENT.has(child.type)) walk(child);
      else items.push(child);
    }
  };
  walk(root);
  return items;
}

export function stripWhitespace(s: string): string {
  return s
    .replace(/\/\*.*?\*\//gs, '')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '');
}

/** Identifiers mentioned in a node (in source order, unique). */
export function identifiersIn(node: Node | null | undefined): string[] {
  if (!node) return [];
  const out = new Set<string>();
  const stack: Node[] = [node];
  const found: Node[] = [];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'identifier' || n.type === 'field_identifier' || n.type === 'type_identifier') found.push(n);
    const children = n.namedChildren;
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i];
      if (c) stack.push(c);
    }
  }
  for (const n of found) out.add(n.text);
  return [...out];
}

export function position(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

export function namedNonComment(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
}

/** Unwraps pointer, array, parenthesised and init declarators to the declared identifier and pointer depth. */
export function declaratorInfo(declarator: Node | null): {
  name: Node | null;
  pointerDepth: number;
  arrayLength: string | null;
  isFunction: boolean;
} {
  let pointerDepth = 0;
  let arrayLength: string | null = null;
  let isFunction = false;
  let node = declarator;
  while (node) {
    switch (node.type) {
      case 'pointer_declarator':
        pointerDepth++;
        node = node.childForFieldName('declarator');
        continue;
      case 'array_declarator':
        arrayLength = node.childForFieldName('size')?.text ?? '';
        node = node.childForFieldName('declarator');
        continue;
      case 'init_declarator':
      case 'parenthesized_declarator':
      case 'attributed_declarator':
        node = node.childForFieldName('declarator') ?? namedNonComment(node)[0] ?? null;
        continue;
      case 'function_declarator':
        isFunction = true;
        node = node.childForFieldName('declarator');
        continue;
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        // Error recovery inserts zero-width MISSING identifiers: they name nothing.
        return { name: node.isMissing || !node.text ? null : node, pointerDepth, arrayLength, isFunction };
      default:
        return { name: null, pointerDepth, arrayLength, isFunction };
    }
  }
  return { name: null, pointerDepth, arrayLength, isFunction };
}

/** The base type name of a declaration's `type` field (`struct foo` → `foo`, `PyObject` → `PyObject`). */
export function typeName(typeNode: Node | null): string {
  if (!typeNode) return '';
  if (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier' || typeNode.type === 'enum_specifier') {
    return typeNode.childForFieldName('name')?.text ?? '';
  }
  if (typeNode.type === 'macro_type_specifier') {
    return typeName(typeNode.childForFieldName('type')?.childForFieldName('type') ?? null) || typeNode.text;
  }
  return stripWhitespace(typeNode.text);
}

export function hasStorageClass(node: Node, keyword: string): boolean {
  return node.namedChildren.some((c) => c?.type === 'storage_class_specifier' && c.text === keyword);
}

/** What errorShare reads of a node: ours, or web-tree-sitter's own. */
interface ErrorShareNode {
  readonly type: string;
  readonly hasError: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly children: (ErrorShareNode | null)[];
}

/** Share of the file's text that sits directly in ERROR nodes. */
export function errorShare(root: ErrorShareNode): { ratio: number; rootIsError: boolean } {
  if (!root.hasError) return { ratio: 0, rootIsError: false };
  let errorChars = 0;
  const stack: ErrorShareNode[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'ERROR' && n !== root) {
      errorChars += n.endIndex - n.startIndex;
      continue;
    }
    if (!n.hasError) continue;
    for (const c of n.children) if (c) stack.push(c);
  }
  const total = Math.max(1, root.endIndex - root.startIndex);
  return { ratio: errorChars / total, rootIsError: root.type === 'ERROR' };
}
