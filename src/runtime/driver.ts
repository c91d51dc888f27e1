// Runs src/runtime/probe.py in a child process of the user's interpreter and collects what it observed.
// A crash (signal) or a hang of the probe is an observation too: the step that was running is recorded.

import { spawn } from 'node:child_process';
import { fromPackage } from '../paths.js';

export const PROBE_PATH = fromPackage('src', 'runtime', 'probe.py');

export interface ProbeLine {
  event: string;
  [key: string]: unknown;
}

export interface ProbeRun {
  lines: ProbeLine[];
  /** The step that was running when the process died or hung, if it did. */
  crashedAt: string | null;
  signal: string | null;
  exitCode: number | null;
  timedOut: boolean;
  stderr: string;
}

export interface ProbeOptions {
  python: string;
  paths: readonly string[];
  timeoutMs: number;
  cwd: string;
}

export function runProbeCommand(args: readonly string[], options: ProbeOptions): Promise<ProbeRun> {
  const argv = [PROBE_PATH, ...args, ...options.paths.flatMap((p) => ['--path', p])];
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(options.python, argv, {
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        // The debug allocator fills freed and guard bytes, so heap corruption crashes at the faulty step.
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONFAULTHANDLER: '1', PYTHONMALLOC: 'debug' },
      });
    } catch (error) {
      resolve({ lines: [], crashedAt: null, signal: null, exitCode: null, timedOut: false, stderr: String(error) });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ lines: [], crashedAt: null, signal: null, exitCode: null, timedOut: false, stderr: `cannot run ${options.python}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = parseLines(stdout);
      const died = timedOut || signal !== null || (code !== 0 && code !== null);
      resolve({
        lines,
        crashedAt: died ? runningStep(lines) : null,
        signal: timedOut ? null : signal,
        exitCode: code,
        timedOut,
        stderr: stderr.slice(-4000),
      });
    });
  });
}

function parseLines(stdout: string): ProbeLine[] {
  const out: ProbeLine[] = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v = JSON.parse(t) as ProbeLine;
      if (v && typeof v.event === 'string') out.push(v);
    } catch {
      // a partial last line from a crash
    }
  }
  return out;
}

/** The last step that started and did not finish. */
function runningStep(lines: ProbeLine[]): string {
  const open: string[] = [];
  for (const l of lines) {
    if (l.event !== 'step') continue;
    const step = String(l.step);
    if (l.status === 'start') open.push(step);
    else if (l.status === 'done') {
      const i = open.lastIndexOf(step);
      if (i >= 0) open.splice(i, 1);
    }
  }
  return open[open.length - 1] ?? 'start-up';
}

/** Why the interpreter cannot run the probe (not Python, Python older than 3.9, missing), or null when it can. */
export async function interpreterProblem(python: string, cwd: string): Promise<string | null> {
  // Valid Python 2 and 3, so an old interpreter says its version instead of a SyntaxError.
  const code = "import sys; sys.stdout.write('capi-gc-python %d.%d.%d\\n' % tuple(sys.version_info[:3]))";
  const run = await new Promise<{ out: string; error: string | null; code: number | null }>((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(python, ['-c', code], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      resolve({ out: '', error: (error as Error).message, code: null });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.on('error', (error) => { clearTimeout(timer); resolve({ out, error: error.message, code: null }); });
    child.on('close', (exitCode) => { clearTimeout(timer); resolve({ out, error: null, code: exitCode }); });
  });
  if (run.error) return `cannot run ${python}: ${run.error}`;
  const m = /capi-gc-python (\d+)\.(\d+)\.(\d+)/.exec(run.out);
  if (!m) return `${python} is not a Python interpreter (\`${python} -c ...\` ${run.code === 0 ? 'printed nothing Python would' : `exited ${run.code}`})`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 3 || (major === 3 && minor < 9)) return `${python} is Python ${m[1]}.${m[2]}.${m[3]}; the probe needs Python 3.9 or newer`;
  return null;
}
