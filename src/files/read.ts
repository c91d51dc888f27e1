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
  const decoded = decode(bytes);
  if (!decoded.ok) return decoded;
  // Lone CRs end lines for the user's editor; tree-sitter and the preprocessor count only LF. Same length.
  const text = decoded.text.includes('\r') ? decoded.text.replace(/\r(?!\n)/g, '\n') : decoded.text;
  const encodingNote = decoded.note;
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

/**
 * Text from bytes: UTF-8 (a BOM becomes a space, keeping offsets), UTF-16 with a BOM, else Latin-1 with a note.
 * NUL bytes in an otherwise-text file become spaces; a file that is mostly not text is binary.
 */
export function decode(bytes: Buffer): { ok: true; text: string; note?: string } | { ok: false; reason: string } {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    const le = bytes[0] === 0xff;
    const body = bytes.subarray(2, bytes.length - ((bytes.length - 2) % 2));
    const swapped = le ? body : Buffer.from(body).swap16();
    return { ok: true, text: ' ' + new TextDecoder('utf-16le').decode(swapped), note: `read as UTF-16 ${le ? 'LE' : 'BE'} (byte order mark)` };
  }
  const sample = bytes.subarray(0, 65536);
  let nul = 0;
  let control = 0;
  // An indexed loop: a Buffer's iterator is slow before V8 optimises it, which a one-file check never waits for.
  for (let i = 0; i < sample.length; i++) {
    const b = sample[i];
    if (b === 0) nul++;
    else if (b < 9 || (b > 13 && b < 32 && b !== 27)) control++;
  }
  if (sample.length && (nul + control) / sample.length > 0.1) return { ok: false, reason: 'skipped: binary file (not text)' };
  const clean = nul ? Buffer.from(bytes).map((b) => (b === 0 ? 0x20 : b)) : bytes;
  try {
    let text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(clean);
    if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1);
    return nul ? { ok: true, text, note: `${nul === 1 ? 'a NUL byte was' : `${nul} NUL bytes were`} read as spaces` } : { ok: true, text };
  } catch {
    return { ok: true, text: Buffer.from(clean).toString('latin1'), note: 'not valid UTF-8; read as Latin-1 (positions in non-ASCII lines may be off)' };
  }
}
