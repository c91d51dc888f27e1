// `--cache DIR`: per-file facts on disk, so a second run on an unchanged tree parses nothing.
//
// An entry is keyed by the file's display path, a hash of its shimmed text (which already reflects the Python
// version, --define and --undefine: the preprocessor ran before it) and a fingerprint of the code that turns text
// into facts (capi-gc's version and the extractor's and parser's own compiled files), so a changed capi-gc never
// reads facts an older one wrote. Entries are written atomically (a temporary file renamed into place); an entry
// that cannot be read or does not have the expected shape is a miss, never an error.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileFacts } from '../model/facts.js';
import { TOOL_VERSION } from '../version.js';

const FORMAT = 1;

export interface FactsCacheStats {
  hits: number;
  misses: number;
  written: number;
}

export interface FactsCache {
  readonly dir: string;
  readonly stats: FactsCacheStats;
  get(file: string, textHash: string): FileFacts | null;
  put(file: string, textHash: string, facts: FileFacts): void;
}

/** The cache in `dir`, created if missing; a string saying why when it cannot be used. */
export function openFactsCache(dir: string): FactsCache | string {
  try {
    mkdirSync(dir, { recursive: true });
    // As ruff's and pytest's caches do: the folder ignores itself, so it never shows in `git status`.
    writeFileSync(join(dir, '.gitignore'), '# Created by capi-gc: per-file facts, safe to delete.\n*\n', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return openExisting(dir);
    return `cache directory ${dir} cannot be created (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); analysing without a cache`;
  }
  return openExisting(dir);
}

function openExisting(dir: string): FactsCache {
  const fingerprint = codeFingerprint();
  const stats: FactsCacheStats = { hits: 0, misses: 0, written: 0 };
  let writable = true;
  const keyOf = (file: string, textHash: string) =>
    createHash('sha256').update(`${FORMAT}\0${fingerprint}\0${file}\0${textHash}`).digest('hex');
  return {
    dir,
    stats,
    get(file, textHash) {
      const key = keyOf(file, textHash);
      try {
        const entry = JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as { key?: unknown; facts?: unknown };
        if (entry && entry.key === key && isFileFacts(entry.facts)) {
          stats.hits++;
          return entry.facts;
        }
      } catch {
        // Missing, unreadable or corrupt: analysed again, and written anew.
      }
      stats.misses++;
      return null;
    },
    put(file, textHash, facts) {
      if (!writable) return;
      const key = keyOf(file, textHash);
      const target = join(dir, `${key}.json`);
      const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        writeFileSync(temporary, JSON.stringify({ key, facts }));
        renameSync(temporary, target);
        stats.written++;
      } catch {
        // A full disk or a read-only folder: the run goes on without writing more.
        writable = false;
        rmSync(temporary, { force: true });
      }
    },
  };
}

function isFileFacts(x: unknown): x is FileFacts {
  if (!x || typeof x !== 'object') return false;
  const f = x as Record<string, unknown>;
  return typeof f.file === 'string' && Array.isArray(f.functions) && Array.isArray(f.structs);
}

let fingerprintMemo: string | null = null;

/** capi-gc's version and the compiled extractor and parser: what the facts of a text depend on. */
function codeFingerprint(): string {
  if (fingerprintMemo) return fingerprintMemo;
  const hash = createHash('sha256').update(TOOL_VERSION);
  for (const folder of ['../model/extract/', '../parse/', '../model/']) {
    const dir = fileURLToPath(new URL(folder, import.meta.url));
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => /\.(js|ts|wasm)$/.test(n)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        hash.update(name).update(readFileSync(join(dir, name)));
      } catch {
        hash.update(`${name}: unreadable`);
      }
    }
  }
  fingerprintMemo = hash.digest('hex');
  return fingerprintMemo;
}
