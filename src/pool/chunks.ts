// Parsing a huge file in pieces that each fit in the parser's memory. A C file splits cleanly where a line starts
// at brace depth 0 outside comments and strings: top-level items never straddle such a line. Each piece is parsed
// behind as many newlines as precede it, so rows and columns still point into the whole file.

import type { FileFacts } from '../model/facts.js';

/** Texts longer than this are parsed in pieces (tree-sitter needs about 100 bytes of memory per byte of text). */
export const CHUNKED_PARSE_BYTES = 2 * 1024 * 1024;
const TARGET_CHUNK_BYTES = 1024 * 1024;

export interface Chunk {
  /** The piece, preceded by one newline per line before it. */
  text: string;
  startLine: number;
}

export function splitTopLevel(text: string, target = TARGET_CHUNK_BYTES): Chunk[] {
  const chunks: Chunk[] = [];
  let depth = 0;
  let inBlock = false;
  let chunkStart = 0;
  let chunkStartLine = 0;
  let line = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (inBlock) {
      if (c === 42 /* * */ && text.charCodeAt(i + 1) === 47 /* / */) { inBlock = false; i += 2; continue; }
      if (c === 10) line++;
      i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) { inBlock = true; i += 2; continue; }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 34 || c === 39) {
      // A string or character literal ends at its closing quote or, unterminated, at the end of the line.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) {
          // A line continuation inside the literal is still a line of the file.
          if (text.charCodeAt(i + 1) === 10) line++;
          i += 2;
          continue;
        }
        if (d === c || d === 10) break;
        i++;
      }
      if (text.charCodeAt(i) === c) i++;
      continue;
    }
    if (c === 123) depth++;
    else if (c === 125) depth = Math.max(0, depth - 1);
    else if (c === 10) {
      line++;
      if (depth === 0 && i + 1 - chunkStart >= target) {
        chunks.push({ text: '\n'.repeat(chunkStartLine) + text.slice(chunkStart, i + 1), startLine: chunkStartLine });
        chunkStart = i + 1;
        chunkStartLine = line;
      }
    }
    i++;
  }
  if (chunkStart < n || !chunks.length) chunks.push({ text: '\n'.repeat(chunkStartLine) + text.slice(chunkStart), startLine: chunkStartLine });
  return chunks;
}

/** The facts of a file read in pieces: every list is the pieces' lists in order. */
export function mergeChunkFacts(parts: readonly FileFacts[], lengths: readonly number[]): FileFacts {
  const merged: Record<string, unknown> = { ...parts[0] };
  for (const [key, value] of Object.entries(parts[0])) {
    if (Array.isArray(value)) merged[key] = parts.flatMap((p) => (p as unknown as Record<string, unknown[]>)[key] ?? []);
  }
  const total = lengths.reduce((a, b) => a + b, 0) || 1;
  merged.errorRatio = parts.reduce((sum, p, i) => sum + p.errorRatio * lengths[i], 0) / total;
  merged.rootIsError = parts.every((p) => p.rootIsError);
  return merged as unknown as FileFacts;
}
