// Compares SyntaxTree, the extractor's copy of a parsed tree, with web-tree-sitter's own Node API, node by node.

import assert from 'node:assert/strict';
import type { Node as TreeSitterNode } from 'web-tree-sitter';
import { getParser, withTree } from '../src/parse/parser.js';
import { SyntaxTree, errorShare, type Node } from '../src/parse/syntax.js';

/** Every difference between the copy and web-tree-sitter's own answers, at most `limit` of them. */
export async function differences(text: string, limit = 5): Promise<string[]> {
  const parser = await getParser();
  const fields = parser.language!.fields.filter((f): f is string => !!f);
  return withTree(text, (tree) => {
    const out: string[] = [];
    const copy = SyntaxTree.of(tree.rootNode, text);
    const same = (a: Node | null, b: TreeSitterNode | null, what: string, at: TreeSitterNode) => {
      if ((a === null) !== (b === null) || (a && b && (a.startIndex !== b.startIndex || a.endIndex !== b.endIndex || a.type !== b.type))) {
        out.push(`${what} of ${at.type} at ${at.startIndex}: ${a ? `${a.type}@${a.startIndex}` : 'null'} vs ${b ? `${b.type}@${b.startIndex}` : 'null'}`);
      }
    };
    const visit = (a: Node, b: TreeSitterNode) => {
      if (out.length >= limit) return;
      const where = `${b.type} at ${b.startIndex}`;
      if (a.type !== b.type) out.push(`type ${a.type} vs ${b.type} at ${b.startIndex}`);
      if (a.text !== b.text) out.push(`text of ${where}`);
      if (a.startIndex !== b.startIndex || a.endIndex !== b.endIndex) out.push(`indices of ${where}`);
      assert.deepEqual(a.startPosition, b.startPosition, `start of ${where}`);
      assert.deepEqual(a.endPosition, b.endPosition, `end of ${where}`);
      if (a.isMissing !== b.isMissing) out.push(`isMissing of ${where}`);
      same(a.parent, b.parent, 'parent', b);
      same(a.nextSibling, b.nextSibling, 'nextSibling', b);
      same(a.previousSibling, b.previousSibling, 'previousSibling', b);
      for (const f of fields) {
        same(a.childForFieldName(f), b.childForFieldName(f), `field ${f}`, b);
        const ac = a.childrenForFieldName(f);
        const bc = b.childrenForFieldName(f);
        if (ac.length !== bc.length) out.push(`fields ${f} of ${where}: ${ac.length} vs ${bc.length}`);
        else ac.forEach((c, i) => same(c, bc[i], `field ${f}[${i}]`, b));
      }
      const an = a.namedChildren;
      const bn = b.namedChildren;
      if (an.length !== bn.length) out.push(`named children of ${where}: ${an.length} vs ${bn.length}`);
      else an.forEach((c, i) => same(c, bn[i], `named child ${i}`, b));
      const ac = a.children;
      const bc = b.children;
      if (ac.length !== bc.length) {
        out.push(`children of ${where}: ${ac.length} vs ${bc.length}`);
        return;
      }
      for (let i = 0; i < ac.length; i++) visit(ac[i]!, bc[i]!);
    };
    visit(copy.root(), tree.rootNode);
    // hasError is the library's own at the root; below it, it only steers errorShare, whose answer must agree.
    if (copy.root().hasError !== tree.rootNode.hasError) out.push('hasError of the root');
    const mine = errorShare(copy.root());
    const theirs = errorShare(tree.rootNode as unknown as Node);
    if (mine.ratio !== theirs.ratio || mine.rootIsError !== theirs.rootIsError) out.push(`errorShare ${JSON.stringify(mine)} vs ${JSON.stringify(theirs)}`);
    copy.dispose();
    return out;
  });
}

