// One file from its text as read to its facts for every Python version of the run: the preprocessor and the
// length-keeping rewrites for each version, then one parse per distinct text. It runs where the parse runs (a
// worker, or this thread for a small run), so the main thread only reads files and links.

import { createHash } from 'node:crypto';
import { shimSource } from '../parse/shim.js';
import { environmentsAgree, type MacroEnvironment } from '../parse/preprocessor.js';
import type { TypeMacroTable } from '../parse/type-macros.js';
import type { FileFacts } from '../model/facts.js';
import { extractFile } from './extract-job.js';

/** What turns a file's text into facts, the same for every file of a run. */
export interface PrepareContext {
  /** Each version's macro environment, keyed as the run keys versions (major * 100 + minor). */
  versions: { key: number; env: MacroEnvironment }[];
  typeMacros: TypeMacroTable;
}

export interface PreparedVersion {
  key: number;
  notes: { line: number; message: string }[];
  unknownConditions: FileFacts['unknownConditions'];
  /** Index into `PreparedFile.facts`; null when the preprocessor failed on this version's text. */
  facts: number | null;
  /** Why this version was not analysed (the preprocessor threw), with the stack for --verbose. */
  failure?: { reason: string; detail?: string };
}

export interface PreparedFile {
  /** One per distinct preprocessed text: versions whose text is the same share one entry. */
  facts: FileFacts[];
  versions: PreparedVersion[];
}

/**
 * Preprocesses and extracts `text` for every version of `context`. A preprocessor failure is that version's
 * failure; a parser failure throws (the caller decides whether the thread can go on).
 */
export async function prepareFile(file: string, text: string, context: PrepareContext, deadline?: number): Promise<PreparedFile> {
  const facts: FileFacts[] = [];
  const byText = new Map<string, number>();
  const versions: PreparedVersion[] = [];
  let last: { env: MacroEnvironment; shim: ReturnType<typeof shimSource>; at: number } | null = null;
  for (const { key, env } of context.versions) {
    // Versions differ only in macros: where the file read none that differ, its text is the previous version's.
    if (last && environmentsAgree(last.env, env, last.shim.consulted)) {
      versions.push({ key, notes: last.shim.notes, unknownConditions: last.shim.unknownConditions, facts: last.at });
      continue;
    }
    let shim: ReturnType<typeof shimSource>;
    try {
      shim = shimSource(text, env, context.typeMacros, file);
    } catch (error) {
      versions.push({ key, notes: [], unknownConditions: [], facts: null, failure: { reason: (error as Error).message, detail: (error as Error).stack } });
      continue;
    }
    // Only a hash of each text is kept to compare: keeping the texts cost as much memory as the sources.
    const textHash = createHash('sha256').update(shim.text).digest('base64');
    let at = byText.get(textHash);
    if (at === undefined) {
      at = facts.length;
      facts.push(await extractFile(file, shim.text, deadline));
      byText.set(textHash, at);
    }
    versions.push({ key, notes: shim.notes, unknownConditions: shim.unknownConditions, facts: at });
    last = { env, shim, at };
  }
  return { facts, versions };
}

/**
 * `prepareFile` for this thread: the prepared file read back from its JSON text, as a worker's arrives. The
 * strings of facts made here are slices of the preprocessed text (V8 keeps a slice's whole parent alive), so
 * facts kept for the run would keep a second copy of every file prepared in this thread: 13 MB of CPython's
 * tree. The JSON text is what the cache writes.
 */
export async function prepareFileDetached(
  file: string, text: string, context: PrepareContext, deadline?: number,
): Promise<{ prepared: PreparedFile; json: string }> {
  const json = JSON.stringify(await prepareFile(file, text, context, deadline));
  return { prepared: JSON.parse(json) as PreparedFile, json };
}

/**
 * What, besides its own text, a file's preparation depends on: the versions' environments and, only for a file
 * that names one of them, the project's type-declaring macros (so editing an unrelated macro keeps every entry).
 */
export function contextFingerprint(context: PrepareContext): { base: string; typeMacros: string | null; names: readonly string[] } {
  const envs = context.versions.map(({ key, env }) => [key, [...env.defined].sort(), [...env.undefined].sort()]);
  const base = createHash('sha256').update(JSON.stringify(envs)).digest('base64');
  const names = [...context.typeMacros.declaring.keys()];
  const typeMacros = names.length
    ? createHash('sha256').update(JSON.stringify([[...context.typeMacros.declaring], [...context.typeMacros.all]])).digest('base64')
    : null;
  return { base, typeMacros, names };
}

/** The part of the context a file's text can reach: a type-declaring macro is expanded only where it is named. */
export function contextKeyFor(text: string, fingerprint: ReturnType<typeof contextFingerprint>): string {
  const usesTypeMacros = fingerprint.typeMacros !== null && fingerprint.names.some((n) => text.includes(n));
  return usesTypeMacros ? `${fingerprint.base}\0${fingerprint.typeMacros}` : fingerprint.base;
}
