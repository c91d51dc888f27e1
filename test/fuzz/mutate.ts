// Mutations of C sources for property-based tests and fuzz campaigns, and the invariants any run must keep.

import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSources, type AnalysisResult } from '../../src/analyze.js';
import { decode } from '../../src/files/read.js';
import { REPO_ROOT } from '../helpers.js';

export type Mutation =
  | { kind: 'delete-line' | 'duplicate-line'; at: number }
  | { kind: 'swap-lines'; at: number; with: number }
  | { kind: 'delete-token' | 'duplicate-token'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'encode'; as: 'utf16le' | 'utf16be' | 'latin1' | 'crlf' | 'cr' | 'bom' };

const NASTY = ['{', '}', '(', ')', '/*', '*/', '"', "'", '#if 0\n', '#endif\n', '#else\n', '\\\n', '\0', 'PyObject_HEAD', 'Py_VISIT(', ';', '\r'];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete-line' as const, 'duplicate-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constantFrom('delete-token' as const, 'duplicate-token' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant('encode' as const), as: fc.constantFrom('utf16le' as const, 'utf16be' as const, 'latin1' as const, 'crlf' as const, 'cr' as const, 'bom' as const) }),
);

/** Applies mutations to a file's bytes, as a user's disk would hold them. */
export function mutate(source: string, mutations: readonly Mutation[]): Buffer {
  let text = source;
  let encoding: Mutation & { kind: 'encode' } | null = null;
  for (const m of mutations) {
    const lines = text.split('\n');
    const tokens = text.split(/(\s+)/);
    switch (m.kind) {
      case 'delete-line': lines.splice(m.at % lines.length, 1); text = lines.join('\n'); break;
      case 'duplicate-line': { const i = m.at % lines.length; lines.splice(i, 0, lines[i]); text = lines.join('\n'); break; }
      case 'swap-lines': { const i = m.at % lines.length; const j = m.with % lines.length; [lines[i], lines[j]] = [lines[j], lines[i]]; text = lines.join('\n'); break; }
      case 'delete-token': tokens.splice(m.at % tokens.length, 1); text = tokens.join(''); break;
      case 'duplicate-token': { const i = m.at % tokens.length; tokens.splice(i, 0, tokens[i]); text = tokens.join(''); break; }
      case 'truncate': text = text.slice(0, m.at % (text.length + 1)); break;
      case 'insert': { const i = m.at % (text.length + 1); text = text.slice(0, i) + m.text + text.slice(i); break; }
      case 'encode': encoding = m; break;
    }
  }
  if (!encoding) return Buffer.from(text);
  switch (encoding.as) {
    case 'utf16le': return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf16be': return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    case 'latin1': return Buffer.from(text.replace(/é|\*\//, 'caf\u00e9 */'), 'latin1');
    case 'crlf': return Buffer.from(text.replace(/\n/g, '\r\n'));
    case 'cr': return Buffer.from(text.replace(/\n/g, '\r'));
    case 'bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  }
}

/** Every .c fixture this project wrote, as seeds. */
export function seedFiles(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.[ch]$/.test(e)) out.push({ name: p.slice(REPO_ROOT.length + 1), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(REPO_ROOT, 'test', 'fixtures', 'rules'));
  walk(join(REPO_ROOT, 'test', 'fixtures', 'e2e'));
  walk(join(REPO_ROOT, 'examples'));
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** What must hold for any input: no failure, positions inside the file, identical output twice. */
export async function checkInvariants(bytes: Buffer, jobs = 0): Promise<string | null> {
  const decoded = decode(bytes);
  if (!decoded.ok) return null; // reported as binary: nothing to analyse
  const text = decoded.text.replace(/\r(?!\n)/g, '\n');
  const run = (): Promise<AnalysisResult> => analyzeSources([{ file: 'fuzzed.c', text }], { cwd: REPO_ROOT, pythonVersion: { major: 3, minor: 9 }, jobs });
  let a: AnalysisResult;
  let b: AnalysisResult;
  try {
    a = await run();
    b = await run();
  } catch (error) {
    return `analysis threw: ${(error as Error).stack ?? String(error)}`;
  }
  const failed = a.problems.find((p) => /failed and was skipped|analysis failed/.test(p.message));
  if (failed) return `${failed.file}: ${failed.message}`;
  const lines = text.split('\n');
  for (const f of a.findings) {
    if (f.line < 1 || f.line > lines.length) return `finding at line ${f.line} of a ${lines.length}-line file: ${f.rule}`;
    if (f.column < 1 || f.column > lines[f.line - 1].length + 1) return `finding at ${f.line}:${f.column}, past the end of its line: ${f.rule}`;
  }
  if (JSON.stringify(a.findings) !== JSON.stringify(b.findings)) return 'two runs on the same input gave different findings';
  return null;
}
