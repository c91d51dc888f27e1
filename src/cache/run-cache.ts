// The last result of a check, beside the per-file facts in the `--cache` folder: a run whose inputs (every file's
// path and text), options and capi-gc are those of the stored run gets its findings back without preprocessing,
// parsing or linking. This is what an unchanged tree costs in pre-commit or CI: reading and hashing the files.
//
// One entry per set of options (Python version, --define, --undefine, --select, --ignore), so alternating between
// two configurations keeps both. The key covers every compiled file of capi-gc (the rules too, not only the
// extractor) and the grammar. A run that could not analyse some file (a time-out, the parser's memory) is not
// stored: that outcome may not repeat. Entries are written atomically; an unreadable one is a miss.

import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { TOOL_VERSION } from '../version.js';
import { COMPILED_SOURCES } from '../paths.js';

const FORMAT = 2;

export interface RunCacheKey {
  /** Names the entry: the options, capi-gc and the grammar. */
  slot: string;
  /** Also covers every input's path and text. */
  key: string;
}

/** A file's text as a key (the facts cache keys its entries by it too). */
export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

export function runCacheKey(options: unknown, inputs: readonly { file: string; text: string; textHash?: string }[]): RunCacheKey {
  const slot = createHash('sha256').update(`${FORMAT}\0${codeFingerprint()}\0${JSON.stringify(options)}`).digest('hex');
  const hash = createHash('sha256').update(slot);
  for (const input of inputs) hash.update(`\0${input.file}\0${input.textHash ?? textDigest(input.text)}`);
  return { slot, key: hash.digest('hex') };
}

export function readRun<T>(dir: string, key: RunCacheKey, isResult: (x: unknown) => x is T): T | null {
  try {
    const entry = JSON.parse(readFileSync(join(dir, `run-${key.slot}.json`), 'utf8')) as { key?: unknown; result?: unknown };
    if (entry && entry.key === key.key && isResult(entry.result)) return entry.result;
  } catch {
    // Missing, unreadable or corrupt: the run is analysed, and written anew.
  }
  return null;
}

export function writeRun(dir: string, key: RunCacheKey, result: unknown): boolean {
  const target = join(dir, `run-${key.slot}.json`);
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify({ key: key.key, result }));
    renameSync(temporary, target);
    return true;
  } catch {
    rmSync(temporary, { force: true });
    return false;
  }
}

let fingerprintMemo: string | null = null;

/** Every compiled file of capi-gc under src/ and the C grammar: what a run's result depends on besides its inputs. */
function codeFingerprint(): string {
  if (fingerprintMemo) return fingerprintMemo;
  const hash = createHash('sha256').update(TOOL_VERSION);
  const root = COMPILED_SOURCES + sep;
  const walk = (dir: string): void => {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.(js|py|wasm)$/.test(e.name)) {
        try {
          hash.update(path.slice(root.length)).update(readFileSync(path));
        } catch {
          hash.update(`${path}: unreadable`);
        }
      }
    }
  };
  walk(root);
  try {
    hash.update(readFileSync(createRequire(import.meta.url).resolve('tree-sitter-c/tree-sitter-c.wasm')));
  } catch {
    hash.update('no grammar');
  }
  fingerprintMemo = hash.digest('hex');
  return fingerprintMemo;
}
