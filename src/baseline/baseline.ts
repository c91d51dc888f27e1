// Baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` reports only the ones not in it.
//
// The file is JSON, versioned (see README "Baselines"):
//   { "version": 1, "tool": "capi-gc", "findings": [ { "rule", "file", "type", "member", "line", "message",
//     "fingerprint", "lineFingerprint" } ] }
// `file` is relative to the baseline's own folder (with `/`), so the baseline works from any working directory.
// `line` and `message` are for people reading the file; matching uses the fingerprints only.

import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Finding } from '../rules/rule.js';
import type { SourceIndex } from '../report/source.js';
import { TOOL_VERSION } from '../version.js';
import { fingerprints } from './fingerprint.js';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  rule: string;
  file: string;
  type: string | null;
  member: string | null;
  line: number;
  message: string;
  fingerprint: string;
  lineFingerprint: string;
}

export interface Baseline {
  path: string;
  entries: BaselineEntry[];
}

export class BaselineError extends Error {}

/** Reads and checks a baseline; an unreadable or malformed file is a BaselineError saying what is wrong. */
export function readBaseline(path: string, cwd: string): Baseline {
  const abs = resolve(cwd, path);
  let text: string;
  try {
    if (statSync(abs).isDirectory()) throw new BaselineError(`baseline ${path} is a directory, not a baseline file`);
    text = readFileSync(abs, 'utf8');
  } catch (error) {
    if (error instanceof BaselineError) throw error;
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file (create it with --write-baseline)'
      : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.message;
    throw new BaselineError(`cannot read baseline ${path}: ${why}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')); // an editor's byte order mark is not an error
  } catch (error) {
    throw new BaselineError(`baseline ${path} is not valid JSON (${(error as Error).message}); write it again with --write-baseline`);
  }
  const bad = (what: string) => new BaselineError(`baseline ${path} is not a capi-gc baseline: ${what}`);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('expected a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.tool !== 'capi-gc') throw bad('"tool" is not "capi-gc"');
  if (d.version !== BASELINE_VERSION) {
    throw bad(`format version ${JSON.stringify(d.version)} is not ${BASELINE_VERSION} (this capi-gc reads version ${BASELINE_VERSION})`);
  }
  if (!Array.isArray(d.findings)) throw bad('"findings" is not a list');
  const entries: BaselineEntry[] = d.findings.map((e: unknown, i: number) => {
    const x = e as Record<string, unknown>;
    const str = (k: string) => typeof x?.[k] === 'string';
    const strOrNull = (k: string) => x?.[k] === null || str(k);
    if (!x || typeof x !== 'object' || !str('rule') || !str('file') || !str('fingerprint') || !str('lineFingerprint')
      || !strOrNull('type') || !strOrNull('member')) {
      throw bad(`findings[${i}] lacks rule, file, type, member, fingerprint or lineFingerprint`);
    }
    return {
      rule: x.rule as string, file: x.file as string, type: (x.type as string | null), member: (x.member as string | null),
      line: typeof x.line === 'number' ? x.line : 0, message: typeof x.message === 'string' ? x.message : '',
      fingerprint: x.fingerprint as string, lineFingerprint: x.lineFingerprint as string,
    };
  });
  return { path: abs, entries };
}

/** A finding's path as the baseline at `baselinePath` records it. */
function baselineFile(f: Finding, cwd: string, baselinePath: string): string {
  const rel = relative(dirname(baselinePath), resolve(cwd, f.file));
  return rel.split(sep).join('/');
}

export function baselineEntries(findings: readonly Finding[], index: SourceIndex, cwd: string, baselinePath: string): BaselineEntry[] {
  const abs = resolve(cwd, baselinePath);
  return findings.map((f) => {
    const file = baselineFile(f, cwd, abs);
    const fp = fingerprints(f, file, index);
    return { rule: f.rule, file, type: f.type, member: f.member, line: f.line, message: f.message, fingerprint: fp.context, lineFingerprint: fp.line };
  }).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
}

export function formatBaseline(entries: readonly BaselineEntry[]): string {
  const doc = {
    version: BASELINE_VERSION,
    tool: 'capi-gc',
    toolVersion: TOOL_VERSION,
    comment: 'Findings recorded by `capi-gc check --write-baseline`; `capi-gc check --baseline FILE` reports only findings not listed here.',
    findings: entries,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export interface BaselineMatch {
  /** Findings not in the baseline: reported. */
  fresh: Finding[];
  /** Findings the baseline lists: not reported. */
  known: Finding[];
  /** Baseline entries no finding matched any more (fixed, or changed beyond recognition). */
  stale: BaselineEntry[];
}

/**
 * Matches findings to entries, each entry at most once: first on the fingerprint with the surrounding code, then,
 * for what is left, on the finding's own line (so an edit next to a known finding does not make it new).
 */
export function applyBaseline(baseline: Baseline, findings: readonly Finding[], index: SourceIndex, cwd: string): BaselineMatch {
  const remaining = new Set(baseline.entries);
  const byContext = groupBy(baseline.entries, (e) => e.fingerprint);
  const byLine = groupBy(baseline.entries, (e) => e.lineFingerprint);
  const prints = findings.map((f) => fingerprints(f, baselineFile(f, cwd, baseline.path), index));
  const matched = new Array<boolean>(findings.length).fill(false);
  const take = (groups: Map<string, BaselineEntry[]>, key: string): boolean => {
    const e = groups.get(key)?.find((x) => remaining.has(x));
    if (!e) return false;
    remaining.delete(e);
    return true;
  };
  findings.forEach((_, i) => { matched[i] = take(byContext, prints[i].context); });
  findings.forEach((_, i) => { if (!matched[i]) matched[i] = take(byLine, prints[i].line); });
  return {
    fresh: findings.filter((_, i) => !matched[i]),
    known: findings.filter((_, i) => matched[i]),
    stale: baseline.entries.filter((e) => remaining.has(e)),
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
