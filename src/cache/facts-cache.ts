// `--cache DIR`: per-file facts on disk, so a second run on an unchanged tree parses nothing.
//
// An entry holds one file's facts for every Python version of the run (src/pool/prepare.ts). It is keyed by the
// file's display path, a hash of its text as read, what its preparation depends on besides the text (the versions'
// macro environments with --define and --undefine, and the project's type-declaring macros where the file names
// one) and a fingerprint of the code that turns text into facts (capi-gc's version and the extractor's and
// parser's own compiled files), so a changed capi-gc never reads facts an older one wrote. A hit costs no
// preprocessing and no parsing. Entries are written atomically (a temporary file renamed into place); an entry
// that cannot be read or does not have the expected shape is a miss, never an error.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreparedFile } from '../pool/prepare.js';
import { TOOL_VERSION } from '../version.js';
import { COMPILED_SOURCES } from '../paths.js';

const FORMAT = 2;

export interface FactsCacheStats {
  hits: number;
  misses: number;
  written: number;
}

export interface FactsCache {
  readonly dir: string;
  readonly stats: FactsCacheStats;
  /** `textKey`: the hash of the text as read and the context key of src/pool/prepare.ts. */
  get(file: string, textKey: string): PreparedFile | null;
  /** `json`: `prepared` already as JSON text, when the caller has it. */
  put(file: string, textKey: string, prepared: PreparedFile, json?: string): void;
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
  const keyOf = (file: string, textKey: string) =>
    createHash('sha256').update(`${FORMAT}\0${fingerprint}\0${file}\0${textKey}`).digest('hex');
  return {
    dir,
    stats,
    get(file, textKey) {
      const key = keyOf(file, textKey);
      try {
        const entry = JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as { key?: unknown; prepared?: unknown };
        if (entry && entry.key === key && isPreparedFile(entry.prepared)) {
          stats.hits++;
          return entry.prepared;
        }
      } catch {
        // Missing, unreadable or corrupt: analysed again, and written anew.
      }
      stats.misses++;
      return null;
    },
    put(file, textKey, prepared, json) {
      if (!writable) return;
      const key = keyOf(file, textKey);
      const target = join(dir, `${key}.json`);
      const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        writeFileSync(temporary, `{"key":${JSON.stringify(key)},"prepared":${json ?? JSON.stringify(prepared)}}`);
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

function isPreparedFile(x: unknown): x is PreparedFile {
  if (!x || typeof x !== 'object') return false;
  const p = x as Record<string, unknown>;
  if (!Array.isArray(p.facts) || !Array.isArray(p.versions)) return false;
  const facts = p.facts as unknown[];
  return facts.every((f) => {
    if (!f || typeof f !== 'object') return false;
    const r = f as Record<string, unknown>;
    return typeof r.file === 'string' && Array.isArray(r.functions) && Array.isArray(r.structs);
  }) && (p.versions as unknown[]).every((v) => {
    if (!v || typeof v !== 'object') return false;
    const r = v as Record<string, unknown>;
    return typeof r.key === 'number' && Array.isArray(r.notes) && Array.isArray(r.unknownConditions)
      && typeof r.facts === 'number' && r.facts >= 0 && r.facts < facts.length;
  });
}

let fingerprintMemo: string | null = null;

/** capi-gc's version and the compiled extractor and parser: what the facts of a text depend on. */
function codeFingerprint(): string {
  if (fingerprintMemo) return fingerprintMemo;
  const hash = createHash('sha256').update(TOOL_VERSION);
  for (const folder of [['model', 'extract'], ['parse'], ['model'], ['pool']]) {
    const dir = join(COMPILED_SOURCES, ...folder);
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
