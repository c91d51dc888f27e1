// tree-sitter (wasm) set-up. One parser per thread, created once.

import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { Language, Parser, type Tree } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

let parserPromise: Promise<Parser> | undefined;

/**
 * The wasm cursor functions of web-tree-sitter's binding (the Emscripten module: `Parser.init` makes the object it
 * is given that module), for `SyntaxTree`'s walk. web-tree-sitter's own TreeCursor calls the same functions.
 */
export interface CursorBinding {
  /** Reads wasm memory through the binding's own (always current) view. */
  getValue(address: number, type: 'i32'): number;
  transferBuffer: number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_named_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_missing_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  _ts_tree_cursor_current_descendant_index_wasm(tree: number): number;
}

const CURSOR_FUNCTIONS = [
  '_ts_tree_cursor_current_node_type_id_wasm', '_ts_tree_cursor_current_field_id_wasm', '_ts_tree_cursor_current_node_is_named_wasm',
  '_ts_tree_cursor_current_node_is_missing_wasm', '_ts_tree_cursor_start_index_wasm', '_ts_tree_cursor_end_index_wasm',
  '_ts_tree_cursor_goto_first_child_wasm', '_ts_tree_cursor_goto_next_sibling_wasm', '_ts_tree_cursor_goto_parent_wasm', '_ts_tree_cursor_current_descendant_index_wasm', 'getValue',
];

const moduleObject: Record<string, unknown> = {};
let binding: CursorBinding | null = null;

/** The binding once the parser is loaded, or null when this web-tree-sitter does not have what the walk calls. */
export function wasmBinding(): CursorBinding | null {
  return binding;
}

let shortLived = false;

/** Said by a command that runs once and exits (the CLI), not by a long-lived process (the language server). */
export function markShortLivedProcess(): void {
  shortLived = true;
}

/**
 * Before this thread's parser is loaded, for a small amount of text in a process that exits soon: V8's baseline
 * wasm code only. Optimising the parser's hot functions costs more CPU (on background threads, which compete with
 * this one on a 2-core machine) than a few hundred KB of parsing gains from it: a check of multidict's tree
 * 0.37 -> 0.33 s; a wash at about 600 KB. The flag is process-wide: it is set only for a run parsed in this thread,
 * and cleared before fallback workers start.
 */
export function preferQuickStart(): void {
  if (shortLived && !parserPromise) {
    setFlagsFromString('--liftoff-only');
    baselineOnly = true;
  }
}

let baselineOnly = false;

/** Before worker threads start in a process that asked for a quick start: their parsers may be optimised again. */
export function allowOptimisedParsers(): void {
  if (!baselineOnly) return;
  setFlagsFromString('--no-liftoff-only');
  baselineOnly = false;
}

export function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init(moduleObject as object);
    if (CURSOR_FUNCTIONS.every((f) => typeof moduleObject[f] === 'function') && typeof moduleObject._ts_init === 'function') {
      // ts_init only fills the transfer buffer's first two words with ABI versions and returns its address.
      const transferBuffer = (moduleObject._ts_init as () => number)();
      const b: Record<string, unknown> = { transferBuffer };
      for (const f of CURSOR_FUNCTIONS) b[f] = moduleObject[f];
      binding = b as unknown as CursorBinding;
    }
    const language = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

/** A parse given up at its deadline (`performance.now()` milliseconds). */
export class ParseDeadlineError extends Error {}

/**
 * Parses, hands the tree to `use`, and always frees the tree (wasm memory is not garbage-collected). With a
 * deadline, tree-sitter is asked at intervals whether to go on and the parse is given up once it is passed.
 */
export async function withTree<T>(text: string, use: (tree: Tree) => T, deadline?: number): Promise<T> {
  const parser = await getParser();
  const tree = deadline === undefined ? parser.parse(text) : parser.parse(text, null, {
    // Typed as returning nothing; tree-sitter cancels the parse when it returns true.
    progressCallback: (() => performance.now() > deadline) as unknown as () => void,
  });
  if (!tree) {
    // A cancelled parse would resume on the next call: this thread's next file starts afresh.
    parser.reset();
    if (deadline !== undefined && performance.now() > deadline) throw new ParseDeadlineError('the parse passed its deadline');
    throw new Error('tree-sitter returned no tree');
  }
  try {
    return use(tree);
  } finally {
    tree.delete();
  }
}
