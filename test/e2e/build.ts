// Builds a fixture .c file into an extension module for one interpreter and runs test/e2e/probe.py on it.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PythonInstall } from './pythons.js';
import { fromRoot, runProcess, type ProcessResult } from './repo.js';

export const PROBE_SCRIPT = fromRoot('test', 'e2e', 'probe.py');

export function makeTempDir(label = 'e2e'): string {
  return mkdtempSync(path.join(tmpdir(), `capi-gc-${label}-`));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const suffixes = new Map<string, Promise<string>>();

/** sysconfig's EXT_SUFFIX for the interpreter, e.g. `.cpython-312-x86_64-linux-gnu.so`. */
export function extSuffix(py: PythonInstall): Promise<string> {
  let p = suffixes.get(py.executable);
  if (!p) {
    p = runProcess(py.executable, ['-c', "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"], {
      env: pythonEnv(),
    }).then((r) => {
      const suffix = r.stdout.trim();
      if (r.code !== 0 || !suffix || suffix === 'None') {
        throw new Error(`${py.executable}: cannot read EXT_SUFFIX (exit ${r.code}): ${r.stderr.trim()}`);
      }
      return suffix;
    });
    suffixes.set(py.executable, p);
  }
  return p;
}

export interface BuiltExtension {
  python: PythonInstall;
  source: string;
  moduleName: string;
  /** The directory to put on sys.path; holds only this build's modules for this interpreter. */
  dir: string;
  sharedObject: string;
}

/**
 * `gcc -shared -fPIC -O0 -w -I<include> file.c -o <outDir>/<version>/<module><EXT_SUFFIX>`.
 * The module name is the file's base name (good_heap.c → good_heap, PyInit_good_heap).
 */
export async function compileExtension(py: PythonInstall, source: string, outDir: string): Promise<BuiltExtension> {
  const moduleName = path.basename(source, '.c');
  const dir = path.join(outDir, py.version);
  mkdirSync(dir, { recursive: true });
  const sharedObject = path.join(dir, moduleName + (await extSuffix(py)));
  const r = await runProcess('gcc', ['-shared', '-fPIC', '-O0', '-w', `-I${py.includeDir}`, source, '-o', sharedObject]);
  if (r.code !== 0) {
    throw new Error(`gcc failed for ${source} against ${py.includeDir} (exit ${r.code ?? r.signal}):\n${r.stderr}${r.error ?? ''}`);
  }
  return { python: py, source, moduleName, dir, sharedObject };
}

/** One line of probe output: `step` plus that step's facts. */
export interface ProbeFact {
  step: string;
  [fact: string]: unknown;
}

export interface ProbeResult {
  steps: string[];
  facts: ProbeFact[];
  /** The step that was running when the interpreter died, or null when it exited normally. */
  crashedIn: string | null;
  process: ProcessResult;
}

export const DEFAULT_STEPS = ['start', 'import', 'type', 'instance', 'collect', 'referents', 'drop', 'leak'];

/** The environment for child interpreters: no user site, no inherited PYTHON* settings. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PYTHON')) env[k] = v;
  }
  return { ...env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

export interface ProbeOptions {
  steps?: string[];
  /** Extra environment, e.g. { PYTHONMALLOC: 'debug' }. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The probe script to run instead of test/e2e/probe.py (same command line: <dir> <module> <steps>). */
  script?: string;
}

export async function runProbe(ext: BuiltExtension, options: ProbeOptions = {}): Promise<ProbeResult> {
  const steps = options.steps ?? DEFAULT_STEPS;
  const proc = await runProcess(
    ext.python.executable,
    ['-X', 'faulthandler', options.script ?? PROBE_SCRIPT, ext.dir, ext.moduleName, steps.join(',')],
    { env: pythonEnv(options.env), timeoutMs: options.timeoutMs ?? 60_000 },
  );
  if (proc.failedToRun) throw new Error(`${ext.python.executable} ${options.script ?? PROBE_SCRIPT}: ${proc.error}`);
  const facts: ProbeFact[] = [];
  for (const line of proc.stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      facts.push(JSON.parse(line) as ProbeFact);
    } catch {
      throw new Error(`probe printed a line that is not JSON: ${line}\nstderr:\n${proc.stderr}`);
    }
  }
  let crashedIn: string | null = null;
  if (proc.code !== 0) {
    const last = facts.length > 0 ? facts[facts.length - 1]!.step : null;
    const i = last === null ? 0 : steps.indexOf(last) + 1;
    crashedIn = steps[i] ?? '(after the last step)';
  }
  return { steps, facts, crashedIn, process: proc };
}

/** The facts of the first occurrence of `step`, or undefined when the probe never got there. */
export function fact(result: ProbeResult, step: string): ProbeFact | undefined {
  return result.facts.find((f) => f.step === step);
}

/** A short account of a probe run for assertion messages. */
export function describeProbe(result: ProbeResult): string {
  const p = result.process;
  const end = p.signal ? `killed by ${p.signal}` : `exit ${p.code}`;
  const stderr = p.stderr.trim().split('\n').slice(0, 12).join('\n');
  return [
    `${end}${result.crashedIn ? ` while in step "${result.crashedIn}"` : ''}`,
    ...result.facts.map((f) => '  ' + JSON.stringify(f)),
    stderr ? `stderr:\n${stderr}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
