// One file's parse and extraction: what a worker runs, and what runs in-process when no worker is wanted.

import { withTree } from '../parse/parser.js';
import { extractFacts } from '../model/extract/extract.js';
import type { FileFacts } from '../model/facts.js';
import { CHUNKED_PARSE_BYTES, mergeChunkFacts, splitTopLevel } from './chunks.js';

/** `deadline`: when to give the parse up (`performance.now()` milliseconds), for a file prepared outside a worker. */
export async function extractFile(file: string, shimmedText: string, deadline?: number): Promise<FileFacts> {
  if (shimmedText.length <= CHUNKED_PARSE_BYTES) {
    return withTree(shimmedText, (tree) => extractFacts(file, tree.rootNode, shimmedText), deadline);
  }
  const chunks = splitTopLevel(shimmedText);
  const parts: FileFacts[] = [];
  for (const chunk of chunks) parts.push(await withTree(chunk.text, (tree) => extractFacts(file, tree.rootNode, chunk.text), deadline));
  return mergeChunkFacts(parts, chunks.map((c) => c.text.length - c.startLine));
}
