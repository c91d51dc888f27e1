// tree-sitter (wasm) set-up. One parser per thread, created once.

import { createRequire } from 'node:module';
import { Language, Parser, type Tree } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

let parserPromise: Promise<Parser> | undefined;

export function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

/** Parses, hands the tree to `use`, and always frees the tree (wasm memory is not garbage-collected). */
export async function withTree<T>(text: string, use: (tree: Tree) => T): Promise<T> {
  const parser = await getParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    return use(tree);
  } finally {
    tree.delete();
  }
}
