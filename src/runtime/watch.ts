// `capi-gc verify --run CMD` / `check --run CMD` (issue 12): runs the user's command (a test suite) with the watch
// bootstrap (src/runtime/bootstrap/sitecustomize.py) on PYTHONPATH, so every Python process it starts records what
// the collector sees of the extension types it uses; the records become findings with the static rules' ids.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { displayPath } from '../files/discover.js';
import { fromPackage } from '../paths.js';
import { formatMessage, type Finding, type Severity } from '../rules/rule.js';
import { runtimeCrash } from '../rules/runtime-crash.js';
import { runtimeLeak } from '../rules/runtime-leak.js';

export const BOOTSTRAP_DIR = fromPackage('src', 'runtime', 'bootstrap') + path.sep;

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

/** What the subinterpreter rounds measured for a module: allocated blocks left per round, with and without it. */
export interface SubinterpreterRounds {
  rounds: number;
  blocks: number[];
  control_blocks: number[];
  /** sys.gettotalrefcount() growth per round (debug builds only; empty elsewhere). */
  refs: number[];
  control_refs: number[];
}

export interface WatchedModule {
  name: string;
  file: string;
  /** The key the module's Py_Finalize witness writes (null: no witness was put there). */
  witness?: string | null;
  /** From the PyModuleDef, at exit (null or absent: not read). */
  multi_phase?: boolean | null;
  /** The rounds (run in a helper process), why there were none, or how loading it crashed the helper. */
  subinterpreters?: SubinterpreterRounds | { skipped: string } | { crashed: string; dump: string } | null;
}

export interface WatchRecord {
  pid: number;
  /** Names the process's side files (fault-, phase-, witness-TOKEN.txt); absent in older records. */
  token?: string;
  python: string;
  argv: string[];
  /** Whose faulthandler was on: capi-gc's (into the fault file) or the program's own; null if neither. */
  faulthandler?: 'capi-gc' | 'program' | null;
  collect_rounds: number[];
  modules: WatchedModule[];
  types: WatchedType[];
  errors: string[];
}

/** One watched process as its side files tell it, with its record when it wrote one. */
export interface WatchedProcess {
  token: string;
  record: WatchRecord | null;
  argv: string[];
  /** Whose faulthandler was on when the process started (null: unknown, or none). */
  faulthandler?: 'capi-gc' | 'program' | null;
  /** faulthandler's dump ('' when nothing crashed, or faulthandler was not capi-gc's). */
  fault: string;
  /** The last phase written: what the process was doing, and the watched types newest among the young objects. */
  phase: { phase: string; detail: string; young: string[] } | null;
  /** The witness keys by what was seen: the module freed (at any time), its namespace cleared with it alive. */
  witnesses: { freed: Set<string>; cleared: Set<string> };
}

export interface WatchRun {
  /** The command's exit code (128 + signal number when a signal ended it, as a shell says). */
  exitCode: number;
  signal: string | null;
  records: WatchRecord[];
  /** Every process that started watched, whether or not it wrote a record (a crash, os._exit, a kill). */
  processes?: WatchedProcess[];
  /** Record files that could not be read (a process killed while writing is not one: it wrote nothing). */
  unreadable: string[];
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The side files of every process, by token, joined with the records. */
function readProcesses(out: string, files: string[], records: WatchRecord[]): WatchedProcess[] {
  const tokens = new Set<string>();
  for (const f of files) {
    const m = /^(?:phase|fault|witness)-(.+)\.txt$/.exec(f);
    if (m) tokens.add(m[1]!);
  }
  for (const r of records) if (r.token) tokens.add(r.token);
  const out2: WatchedProcess[] = [];
  for (const token of [...tokens].sort()) {
    // "faulthandler\tOWNER", "argv\tA\tB...", then the phase line (padded with spaces when it got shorter).
    const [fh = '', head = '', line = ''] = readText(path.join(out, `phase-${token}.txt`)).split('\n');
    const argv = head.startsWith('argv\t') ? head.slice(5).split('\t') : [];
    const faulthandler = fh.startsWith('faulthandler\t') ? fh.slice(13) : '';
    const [phase = '', detail = '', young = ''] = line.trimEnd().split('\t');
    const witnesses = { freed: new Set<string>(), cleared: new Set<string>() };
    for (const w of readText(path.join(out, `witness-${token}.txt`)).split('\n')) {
      const m = /^(freed|cleared) (\S+)$/.exec(w.trim());
      if (m) witnesses[m[1] as 'freed' | 'cleared'].add(m[2]!);
    }
    out2.push({
      token, record: records.find((r) => r.token === token) ?? null, argv,
      faulthandler: faulthandler === 'capi-gc' || faulthandler === 'program' ? faulthandler : null,
      fault: readText(path.join(out, `fault-${token}.txt`)),
      phase: phase ? { phase, detail, young: young ? young.split(',') : [] } : null,
      witnesses,
    });
  }
  return out2;
}

/**
 * A copy of the bootstrap in `dir`, compiled for `python` (its __pycache__ beside it): every process and every
 * subinterpreter then loads the bytecode instead of compiling the bootstrap again (7 ms each on 3.12), even under
 * PYTHONDONTWRITEBYTECODE, which stops only the writing. A compile that fails costs nothing but that time.
 */
export async function prepareBootstrap(python: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'sitecustomize.py');
  copyFileSync(path.join(BOOTSTRAP_DIR, 'sitecustomize.py'), file);
  const code = 'import importlib.util, py_compile, sys; f = sys.argv[1]; py_compile.compile(f, cfile=importlib.util.cache_from_source(f), doraise=True)';
  await new Promise<void>((resolve) => {
    const child = spawn(python, ['-I', '-c', code, file], { stdio: 'ignore', timeout: 30_000 });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
  return dir;
}

/**
 * Runs `command` through the shell, its stdin, stdout and stderr the user's own, with the bootstrap first on
 * PYTHONPATH, CAPI_GC_WATCH_DIR set and the interpreter's directory first on PATH (so `python` is that one).
 */
export async function runWatched(options: { python: string; command: string; cwd: string }): Promise<WatchRun> {
  const out = mkdtempSync(path.join(tmpdir(), 'capi-gc-watch-'));
  try {
    const env = { ...process.env };
    const bootstrap = await prepareBootstrap(options.python.includes('/') ? path.resolve(options.cwd, options.python) : options.python, path.join(out, 'bootstrap'));
    env['PYTHONPATH'] = [bootstrap, ...(env['PYTHONPATH'] ? [env['PYTHONPATH']] : [])].join(path.delimiter);
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
    const files = readdirSync(out);
    for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
      try {
        const r = JSON.parse(readFileSync(path.join(out, f), 'utf8')) as WatchRecord;
        if (r && Array.isArray(r.types) && Array.isArray(r.modules)) records.push(r);
        else unreadable.push(f);
      } catch {
        unreadable.push(f);
      }
    }
    const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
    return { exitCode: code ?? 128 + (signals[signal ?? ''] ?? 1), signal, records, processes: readProcesses(out, files, records), unreadable };
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
  out.push(...moduleFindings(run, cwd, command), ...crashFindings(run, cwd, command));
  return out;
}

/** Python minor versions on which a clean multi-phase module was seen to be freed during Py_Finalize (3.9-3.13). */
export const WITNESS_CALIBRATED = new Set([9, 10, 11, 12, 13]);

/**
 * Blocks (sys.getallocatedblocks()) a subinterpreter round with the module may leave beyond the same round without
 * it: a correct module leaves 1-2 per type on 3.12 and 3.13 (CPython's own per-load caches); one whose state holds a
 * type m_traverse does not visit leaves 300 and more, every round.
 */
export const SUBINTERPRETER_GROWTH_BLOCKS = 100;

const minorOf = (python: string): number => Number(python.split('.')[1]);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : 0;
};

function isRounds(x: WatchedModule['subinterpreters']): x is SubinterpreterRounds {
  return !!x && Array.isArray((x as SubinterpreterRounds).blocks);
}

/** Module-level findings: the Py_Finalize witness and the subinterpreter rounds. */
function moduleFindings(run: WatchRun, cwd: string, command: string): Finding[] {
  const out: Finding[] = [];
  const byModule = new Map<string, {
    file: string; python: string; processes: number; cleared: number; freed: number; rounds: SubinterpreterRounds | null;
    crash: { crashed: string; dump: string } | null;
  }>();
  for (const p of run.processes ?? []) {
    const r = p.record;
    // A process that crashed in (or before) Py_Finalize says nothing about what Py_Finalize frees.
    if (!r || /Fatal Python error/.test(p.fault)) continue;
    for (const m of r.modules) {
      if (m.multi_phase !== true) continue;
      let x = byModule.get(m.name);
      if (!x) {
        x = { file: m.file, python: r.python, processes: 0, cleared: 0, freed: 0, rounds: null, crash: null };
        byModule.set(m.name, x);
      }
      x.processes++;
      if (m.witness && WITNESS_CALIBRATED.has(minorOf(r.python))) {
        // Evidence is a namespace Py_Finalize cleared with the module alive and a module never freed after (the
        // weak reference's "freed" comes even after the clearing, from the last collection). A witness never
        // finalized at all (Py_Finalize did not get that far) proves nothing.
        if (p.witnesses.freed.has(m.witness)) x.freed++;
        else if (p.witnesses.cleared.has(m.witness)) x.cleared++;
      }
      if (isRounds(m.subinterpreters) && !x.rounds && subinterpreterGrowth(m.subinterpreters) !== null) x.rounds = m.subinterpreters;
      const sub = m.subinterpreters as { crashed?: unknown; dump?: unknown } | null | undefined;
      if (sub && typeof sub.crashed === 'string') x.crash ??= { crashed: sub.crashed, dump: typeof sub.dump === 'string' ? sub.dump : '' };
    }
  }
  for (const [name, x] of byModule) {
    const where = `(seen while running \`${command}\` on Python ${x.python}, ${x.processes} process${x.processes === 1 ? '' : 'es'})`;
    const add = (messageId: keyof typeof runtimeLeak.messages, data: Record<string, string | number>): void => {
      out.push({
        rule: runtimeLeak.id, messageId, severity: runtimeLeak.defaultSeverity,
        message: `${formatMessage(runtimeLeak, messageId, data)} ${where}`,
        file: displayPath(x.file, cwd), line: 1, column: 1,
        type: null, typeKind: null, spec: null, function: null, member: null, module: name,
      });
    };
    if (x.cleared > 0) {
      add('moduleNotFreed', { module: name, witness: WITNESS_NAME, count: `${x.cleared} of ${x.cleared + x.freed}` });
    }
    if (x.crash) {
      const dump = parseFaultDump(x.crash.dump);
      const frames = dump?.frames ?? [];
      out.push({
        rule: runtimeCrash.id, messageId: 'subinterpreterCrash', severity: runtimeCrash.defaultSeverity,
        message: `${formatMessage(runtimeCrash, 'subinterpreterCrash', {
          module: name, how: x.crash.crashed + (dump && !x.crash.crashed.includes(dump.signal.split(' ')[0]!) ? ` (${dump.signal})` : ''),
          stack: frames.length ? frames.slice(0, 8).map((f) => `${displayPath(f.file, cwd)}:${f.line} in ${f.func}`).join(' <- ') : 'none in the dump',
        })} ${where}`,
        file: displayPath(x.file, cwd), line: 1, column: 1,
        type: null, typeKind: null, spec: null, function: null, member: null, module: name,
      });
    }
    if (x.rounds) {
      const g = subinterpreterGrowth(x.rounds)!;
      add('subinterpreterGrowth', {
        module: name, rounds: x.rounds.blocks.length, blocks: x.rounds.blocks.join(', '), control: x.rounds.control_blocks.join(', '),
        median: g, refs: x.rounds.refs.length ? `; sys.gettotalrefcount() grew by ${x.rounds.refs.join(', ')} against ${x.rounds.control_refs.join(', ')}` : '',
      });
    }
  }
  return out;
}

/** The module's own growth per subinterpreter round (against the median control round), when it is steady and large. */
export function subinterpreterGrowth(r: SubinterpreterRounds): number | null {
  if (r.blocks.length < 3 || !r.control_blocks.length) return null;
  const control = median(r.control_blocks);
  const growth = r.blocks.map((b) => b - control);
  const m = median(growth);
  // Steady: every round grows, by at least half the threshold; the median is past it.
  return m >= SUBINTERPRETER_GROWTH_BLOCKS && Math.min(...growth) >= SUBINTERPRETER_GROWTH_BLOCKS / 2 ? m : null;
}

/** The witness's name in each watched extension module's namespace (src/runtime/bootstrap/sitecustomize.py). */
export const WITNESS_NAME = '__capi_gc_witness__';

const SIGNALS: Record<string, string> = {
  'Segmentation fault': 'SIGSEGV', Aborted: 'SIGABRT', 'Bus error': 'SIGBUS', 'Floating point exception': 'SIGFPE', 'Illegal instruction': 'SIGILL',
};
const CRASH_EXIT: Record<number, string> = { 132: 'SIGILL', 134: 'SIGABRT', 135: 'SIGBUS', 136: 'SIGFPE', 139: 'SIGSEGV' };

export interface FaultDump {
  /** e.g. 'SIGSEGV (Segmentation fault)'. */
  signal: string;
  /** The crashing thread's Python frames, most recent first. */
  frames: { file: string; line: number; func: string }[];
}

/** faulthandler's dump: its "Fatal Python error: ..." line and the current thread's frames. */
export function parseFaultDump(text: string): FaultDump | null {
  const first = /Fatal Python error: ([^\n]*)/.exec(text);
  if (!first) return null;
  const what = first[1]!.trim();
  const sig = SIGNALS[what];
  const lines = text.split('\n');
  let start = lines.findIndex((l) => /^Current thread /.test(l));
  if (start < 0) start = lines.findIndex((l) => /^Thread /.test(l));
  const frames: FaultDump['frames'] = [];
  if (start >= 0) {
    for (const l of lines.slice(start + 1)) {
      const m = /^\s+File "(.*)", line (\d+) in (.*)$/.exec(l);
      if (!m) break;
      frames.push({ file: m[1]!, line: Number(m[2]), func: m[3]!.trim() });
    }
  }
  return { signal: sig ? `${sig} (${what})` : what, frames };
}

function sourceLine(file: string, line: number): string | null {
  try {
    const text = readFileSync(file, 'utf8').split('\n')[line - 1];
    return text?.trim() ? text.trim() : null;
  } catch {
    return null;
  }
}

const PHASES: Record<string, (detail: string) => string> = {
  run: () => 'while the program ran (outside any collection)',
  collect: (d) => `during a collection of generation ${d} (an automatic one or gc.collect())`,
  check: (d) => `while capi-gc checked an instance of ${d} at a collection (gc.is_tracked, gc.get_referents: its tp_traverse ran)`,
  'exit-subinterpreter': (d) => `at exit, while a helper process loaded ${d} in subinterpreters`,
  'exit-collect': () => "at exit, during capi-gc's gc.collect() to a fixed point",
  'exit-check': (d) => (d ? `at exit, while capi-gc checked a live instance of ${d} (its tp_traverse ran)` : 'at exit, while capi-gc counted references'),
  finalize: (d) => `in Py_Finalize, after the program and capi-gc's record${d ? `, during a ${d}` : ' (module teardown, the last collections)'}`,
};

/** A crash of a watched process: from capi-gc's faulthandler dump, else (one process without a record, the command
 * ended by a fatal signal) from the exit status alone. */
function crashFindings(run: WatchRun, cwd: string, command: string): Finding[] {
  const out: Finding[] = [];
  const processes = run.processes ?? [];
  const recordless = processes.filter((p) => !p.record);
  const exitSignal = run.signal && Object.values(CRASH_EXIT).includes(run.signal) ? run.signal : CRASH_EXIT[run.exitCode] ?? null;
  for (const p of processes) {
    let dump = parseFaultDump(p.fault);
    if (!dump) {
      if (p.record || !exitSignal || recordless.length !== 1) continue;
      dump = { signal: exitSignal, frames: [] };
    }
    const phase = p.phase ? (PHASES[p.phase.phase]?.(p.phase.detail) ?? p.phase.phase) : 'before the bootstrap wrote its phase';
    const checked = p.phase && /check|subinterpreter/.test(p.phase.phase) && p.phase.detail ? p.phase.detail : null;
    const young = p.phase?.young ?? [];
    const top = dump.frames[0];
    const code = top ? sourceLine(top.file, top.line) : null;
    const stack = dump.frames.length
      ? dump.frames.slice(0, 8).map((f, i) => `${displayPath(f.file, cwd)}:${f.line} in ${f.func}${i === 0 && code ? ` \`${code}\`` : ''}`).join(' <- ')
      : p.fault
        ? 'no Python frame in the dump'
        : p.faulthandler === 'program' || p.record?.faulthandler === 'program'
          ? "not in capi-gc's file: the program enabled faulthandler itself, so the dump went to its own stream"
          : "not in capi-gc's file (a Py_FatalError prints its message and stack on the program's stderr; a program that enables faulthandler itself, as pytest does, gets the dump on its own stream)";
    const who = p.argv.length ? `the Python process \`${p.argv.join(' ')}\`` : 'a Python process';
    const type = checked && !/subinterpreter/.test(p.phase!.phase) ? checked : young.at(-1) ?? null;
    const module = checked && /subinterpreter/.test(p.phase!.phase) ? checked : null;
    out.push({
      rule: runtimeCrash.id, messageId: 'watchedCrash', severity: runtimeCrash.defaultSeverity,
      message: `${formatMessage(runtimeCrash, 'watchedCrash', {
        process: who, signal: dump.signal, phase,
        types: young.length ? `; the watched types newest among the young objects at the last collection (being made): ${young.join(', ')}` : '',
        stack,
      })} (seen while running \`${command}\`)`,
      file: top ? displayPath(top.file, cwd) : (p.argv[0] && p.argv[0] !== '-c' ? displayPath(p.argv[0], cwd) : command), line: top?.line ?? 1, column: 1,
      type, typeKind: type ? 'heap' : null, spec: null, function: top?.func ?? null, member: null, module,
    });
  }
  return out;
}

/** A one-line account of the run for stderr. */
export function describeWatch(run: WatchRun, verbose = false): string {
  const types = mergeTypes(run.records);
  const modules = new Set(run.records.flatMap((r) => r.modules.map((m) => m.name)));
  const rounds = Math.max(0, ...run.records.map((r) => r.collect_rounds?.length ?? 0));
  const processes = run.processes ?? [];
  const crashed = processes.filter((p) => /Fatal Python error/.test(p.fault)).length;
  const recordless = processes.filter((p) => !p.record && !/Fatal Python error/.test(p.fault)).length;
  const single = [...new Set(run.records.flatMap((r) => r.modules.filter((m) => m.multi_phase === false).map((m) => m.name)))];
  const uncalibrated = [...new Set(run.records.filter((r) => r.modules.some((m) => m.multi_phase) && !WITNESS_CALIBRATED.has(minorOf(r.python))).map((r) => r.python))];
  const notes: string[] = [];
  if (crashed) notes.push(`${crashed} process(es) crashed`);
  if (recordless) notes.push(`${recordless} process(es) ended without a record (os._exit, a kill, or a crash whose dump capi-gc did not get)`);
  if (single.length) notes.push(`single-phase module(s) ${single.join(', ')} not checkable by the Py_Finalize witness nor in subinterpreters (immortal by design)`);
  if (uncalibrated.length) notes.push(`the Py_Finalize witness is not calibrated for Python ${uncalibrated.join(', ')}: not checked there`);
  if (verbose) {
    const skipped = new Map<string, string>();
    for (const r of run.records) {
      for (const m of r.modules) {
        const x = m.subinterpreters;
        if (x && 'skipped' in x && m.multi_phase) skipped.set(m.name, x.skipped);
      }
    }
    const measured = new Set(run.records.flatMap((r) => r.modules.filter((m) => isRounds(m.subinterpreters)).map((m) => m.name)));
    for (const [name, why] of skipped) if (!measured.has(name)) notes.push(`subinterpreter rounds skipped for ${name}: ${why}`);
  }
  return `${run.records.length} Python process(es) watched, ${modules.size} extension module(s), ${types.length} type(s), `
    + `${types.reduce((n, t) => n + t.instances, 0)} instance(s) seen; gc.collect() at exit reached 0 after at most ${rounds} round(s)`
    + (run.unreadable.length ? `; ${run.unreadable.length} record(s) unreadable` : '')
    + notes.map((n) => `; ${n}`).join('');
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
