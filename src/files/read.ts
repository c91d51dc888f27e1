// Reading a source file: size limits, binary detection, encodings.

import { readFileSync, statSync } from 'node:fs';
import { describeFsError } from './discover.js';

export interface ReadOptions {
  /** Files larger than this are not parsed. */
  maxBytes: number;
  /** Files larger than this are parsed only when they mention the C API parts capi-gc models. */
  largeFileBytes: number;
}

export const DEFAULT_READ_OPTIONS: ReadOptions = { maxBytes: 4 * 1024 * 1024, largeFileBytes: 256 * 1024 };

export type ReadResult =
  | { ok: true; text: string; /** Set when the file is not valid UTF-8 and was read as Latin-1. */ encodingNote?: string }
  | { ok: false; reason: string; skippedQuietly?: boolean };

const RELEVANT = /PyType_Spec|PyTypeObject|PyModuleDef|tp_traverse|Py_VISIT|PyObject_GC_|PyObject_New|PyType_From|visitproc/;

export function readSource(path: string, options: ReadOptions = DEFAULT_READ_OPTIONS): ReadResult {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    return { ok: false, reason: describeFsError(error, 'cannot read file') };
  }
  if (size > options.maxBytes) {
    return { ok: false, reason: `skipped: ${formatSize(size)} is over the ${formatSize(options.maxBytes)} limit (--max-file-size)` };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return { ok: false, reason: describeFsError(error, 'cannot read file') };
  }
  if (bytes.subarray(0, 8192).includes(0)) return { ok: false, reason: 'skipped: binary file (contains NUL bytes)' };
  let text: string;
  let encodingNote: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1); // keep offsets: a BOM becomes a space
  } catch {
    text = bytes.toString('latin1');
    encodingNote = 'not valid UTF-8; read as Latin-1 (positions in non-ASCII lines may be off)';
  }
  if (size > options.largeFileBytes && !RELEVANT.test(text)) {
    return { ok: false, reason: `skipped: ${formatSize(size)} generated-looking file with no type, module or GC code`, skippedQuietly: true };
  }
  return encodingNote ? { ok: true, text, encodingNote } : { ok: true, text };
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${bytes} B`;
}
