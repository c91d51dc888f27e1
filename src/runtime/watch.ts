// `capi-gc verify --run CMD` / `check --run CMD` (issue 12): runs the user's command (a test suite) with the watch
// bootstrap (src/runtime/bootstrap/sitecustomize.py) on PYTHONPATH, so every Python process it starts records what
// the collector sees of the extension types it uses; the records become findings with the static rules' ids.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { displayPath } from '../files/discover.js';
import { formatMessage, type Finding, type Severity } from '../rules/rule.js';
import { runtimeLeak } from '../rules/runtime-leak.js';

export const BOOTSTRAP_DIR = fileURLToPath(new URL('../../../src/runtime/bootstrap/', import.meta.url));

export interface WatchedType {
  module: string;
  name: string;
  heap: boolean;
  gc: boolean;
  immutable: boolean;
  instances: number;
  untracked: number;
  type_not_visited: number;
  members: { attribute: string; checked: number; not_visited: number }[];
  alive_at_exit: number;
  leaked: number;
  leak_chain: string[] | null;
  /** References to the heap type at exit that nothing the collector sees accounts for (null: not measured). */
  refs_unaccounted?: number | null;
}

export interface WatchRecord {
  pid: number;
  python: string;
  argv: string[];
  collect_rounds: number[];
  modules: { name: string; file: string }[];
  types: WatchedType[];
  errors: string[];
}

export interface WatchRun {
  /** The command's exit code (128 + signal number when a signal ended it, as a shell says). */
  exitCode: number;
  signal: string | null;
  records: WatchRecord[];
  /** Record files that could not be read (a process killed while writing is not one: it wrote nothing). */
  unreadable: string[];
}

/**
 * Runs `command` through the shell, its stdin, stdout and stderr the user's own, with the bootstrap first on
 * PYTHONPATH, CAPI_GC_WATCH_DIR set and the interpreter's directory first on PATH (so `python` is that one).
 */
export async function runWatched(options: { python: string; command: string; cwd: string }): Promise<WatchRun> {
  const out = mkdtempSync(path.join(tmpdir(), 'capi-gc-watch-'));
  try {
    const env = { ...process.env };
    env['PYTHONPATH'] = [BOOTSTRAP_DIR.replace(/\/$/, ''), ...(env['PYTHONPATH'] ? [env['PYTHONPATH']] : [])].join(path.delimiter);
    env['CAPI_GC_WATCH_DIR'] = out;
    if (options.python.includes('/')) {
      env['PATH'] = [path.dirname(path.resolve(options.cwd, options.python)), env['PATH'] ?? ''].join(path.delimiter);
    }
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', options.command], { cwd: options.cwd, env, stdio: 'inherit' });
      child.on('error', () => resolve({ code: 127, signal: null }));
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    });
    const records: WatchRecord[] = [];
    const unreadable: string[] = [];
    for (const f of readdirSync(out).filter((x) => x.endsWith('.json')).sort()) {
      try {
        const r = JSON.parse(readFileSync(path.join(out, f), 'utf8')) as WatchRecord;
        if (r && Array.isArray(r.types) && Array.isArray(r.modules)) records.push(r);
        else unreadable.push(f);
      } catch {
        unreadable.push(f);
      }
    }
    const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
    return { exitCode: code ?? 128 + (signals[signal ?? ''] ?? 1), signal, records, unreadable };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** One type over every process that used it: counts summed. */
interface MergedType extends Omit<WatchedType, 'members'> {
  file: string;
  python: string;
  processes: number;
  rounds: number;
  members: Map<string, { checked: number; notVisited: number }>;
}

function mergeTypes(records: readonly WatchRecord[]): MergedType[] {
  const byName = new Map<string, MergedType>();
  for (const r of records) {
    const files = new Map(r.modules.map((m) => [m.name, m.file]));
    const rounds = r.collect_rounds?.length ?? 0;
    for (const t of r.types) {
      let m = byName.get(t.name);
      if (!m) {
        m = { ...t, file: files.get(t.module) ?? t.module, python: r.python, processes: 0, rounds: 0, members: new Map(),
          instances: 0, untracked: 0, type_not_visited: 0, alive_at_exit: 0, leaked: 0, leak_chain: null, refs_unaccounted: null };
        byName.set(t.name, m);
      }
      m.processes++;
      m.rounds = Math.max(m.rounds, rounds);
      m.instances += t.instances;
      m.untracked += t.untracked;
      m.type_not_visited += t.type_not_visited;
      m.alive_at_exit += t.alive_at_exit;
      m.leaked += t.leaked;
      m.leak_chain ??= t.leak_chain;
      if (typeof t.refs_unaccounted === 'number') m.refs_unaccounted = Math.max(m.refs_unaccounted ?? t.refs_unaccounted, t.refs_unaccounted);
      for (const a of t.members ?? []) {
        const x = m.members.get(a.attribute) ?? { checked: 0, notVisited: 0 };
        x.checked += a.checked;
        x.notVisited += a.not_visited;
        m.members.set(a.attribute, x);
      }
    }
  }
  return [...byName.values()];
}

/**
 * References to a heap type no referrer accounts for, from which a type leak is reported: a correct type shows
 * between -1 and 1 (CPython 3.9-3.13), every instance a leaky tp_dealloc frees adds one.
 */
export const UNACCOUNTED_TYPE_REFS = 10;

/** What the watched run showed, one finding per defect, located at the extension module's file. */
export function watchFindings(run: WatchRun, cwd: string, command: string): Finding[] {
  const out: Finding[] = [];
  for (const t of mergeTypes(run.records)) {
    const where = `(seen while running \`${command}\` on Python ${t.python}, ${t.processes} process${t.processes === 1 ? '' : 'es'})`;
    const add = (rule: string, severity: Severity, message: string, member: string | null = null, messageId?: string): void => {
      out.push({
        rule, ...(messageId ? { messageId } : {}), severity, message: `${message} ${where}`,
        file: displayPath(t.file, cwd), line: 1, column: 1,
        type: t.name, typeKind: t.heap ? 'heap' : 'static', spec: null, function: null, member, module: t.module,
      });
    };
    if (t.heap && !t.gc) {
      add('gc-flag-missing', t.immutable ? 'note' : 'error',
        `heap type ${t.name} does not have Py_TPFLAGS_HAVE_GC: the collector never sees its ${t.instances} instance(s) seen`);
    }
    if (t.gc && t.untracked > 0) {
      add('instances-not-tracked', 'error',
        `${t.untracked} of the instances of GC type ${t.name} checked were not tracked (gc.is_tracked() is false)`);
    }
    if (t.heap && t.gc && t.type_not_visited > 0) {
      add('traverse-type-not-visited', 'error',
        `${t.name} was not among gc.get_referents(instance) for ${t.type_not_visited} instance(s) checked: its tp_traverse does not visit the type`);
    }
    for (const [attribute, m] of t.members) {
      if (m.notVisited === 0) continue;
      add('traverse-member-not-visited', 'error',
        `the object held in ${t.name}.${attribute} was not among gc.get_referents(instance) for ${m.notVisited} of ${m.checked} instance(s) checked: its tp_traverse does not visit that member`,
        attribute);
    }
    if (t.heap && typeof t.refs_unaccounted === 'number' && t.refs_unaccounted >= UNACCOUNTED_TYPE_REFS) {
      add('dealloc-type-not-decrefed', 'error',
        `at exit, ${t.refs_unaccounted} reference(s) to ${t.name} were held by nothing the collector sees (not by its live instances either): instances freed left their reference to the type behind, so its tp_dealloc does not Py_DECREF the type`);
    }
    if (t.leaked > 0) {
      add(runtimeLeak.id, runtimeLeak.defaultSeverity, formatMessage(runtimeLeak, 'unreachableAtExit', {
        count: t.leaked, type: t.name, rounds: t.rounds, chain: (t.leak_chain ?? []).join(' <- ') || 'nothing seen',
      }), null, 'unreachableAtExit');
    }
  }
  return out;
}

/** A one-line account of the run for stderr. */
export function describeWatch(run: WatchRun): string {
  const types = mergeTypes(run.records);
  const modules = new Set(run.records.flatMap((r) => r.modules.map((m) => m.name)));
  const rounds = Math.max(0, ...run.records.map((r) => r.collect_rounds?.length ?? 0));
  return `${run.records.length} Python process(es) watched, ${modules.size} extension module(s), ${types.length} type(s), `
    + `${types.reduce((n, t) => n + t.instances, 0)} instance(s) seen; gc.collect() at exit reached 0 after at most ${rounds} round(s)`
    + (run.unreadable.length ? `; ${run.unreadable.length} record(s) unreadable` : '');
}

function sameType(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/**
 * `check --run`: each static finding says whether the watched run showed it ("confirmed by the test suite") or
 * not ("not exercised", with what was seen of its type); the run's findings no static finding predicted follow as
 * "found at run time only".
 */
export function mergeWatch(staticFindings: readonly Finding[], run: WatchRun, watched: readonly Finding[]): Finding[] {
  const types = mergeTypes(run.records);
  const annotated = staticFindings.map((f): Finding => {
    const hit = watched.find((w) => w.rule === f.rule && sameType(f.type, w.type) && (f.rule !== 'traverse-member-not-visited' || !f.member || !w.member || f.member === w.member));
    let runtime: NonNullable<Finding['runtime']>;
    if (hit) runtime = { verdict: 'confirmed by the test suite', evidence: hit.message };
    else {
      const t = f.type ? types.find((x) => sameType(f.type, x.name)) : undefined;
      runtime = {
        verdict: 'not exercised',
        evidence: !f.type ? 'the run checks types, not this finding'
          : !t ? `the run never imported a module with type ${f.type}`
            : t.instances === 0 ? `no instance of ${t.name} was seen during the run`
              : `${t.instances} instance(s) of ${t.name} were seen; none showed it`,
      };
    }
    return { ...f, message: `${f.message} [${runtime.verdict}: ${runtime.evidence}]`, runtime };
  });
  const only = watched.filter((w) => !staticFindings.some((f) => f.rule === w.rule && sameType(f.type, w.type))).map((w): Finding => {
    const runtime = { verdict: 'found at run time only', evidence: 'capi-gc check did not predict it' } as const;
    return { ...w, message: `${w.message} [${runtime.verdict}: ${runtime.evidence}]`, runtime };
  });
  return [...annotated, ...only];
}
