// Benchmark of the watch bootstrap's cost (issue 12 asks for under 25 % of the program's wall time):
//   npm run bench:watch -- [--python PYTHON] [--runs N] [--instances N] [--run 'COMMAND']
// Without --run it builds the fixture extension test/fixtures/watch/src/watched.c for PYTHON (gcc, the
// interpreter's own headers) into a temporary folder and runs the workload test/fixtures/watch/tests/bench_watched.py
// (2 x --instances instances of the watched types made, read, written and dropped, a cycle each, 1 % kept), with
// that folder on PYTHONPATH; with --run it times COMMAND instead, from the repository root (with --python too, the
// fixture extension built for it is on PYTHONPATH and its directory first on PATH: `--run 'python -m pytest
// test/fixtures/watch/tests/test_watched.py'` times the fixture's pytest suite).
// Each run is COMMAND through the shell as it is, then with the bootstrap on PYTHONPATH and CAPI_GC_WATCH_DIR set
// (what `capi-gc verify --run` does: sampling at collections, the Py_Finalize witness, faulthandler into its file,
// the exit checks, and on 3.12+ the subinterpreter rounds), alternating, N times each, after one untimed warm-up;
// it prints the median wall times and the overhead, and the same for the CPU time of the command's processes (the
// shell's `times`: steadier than the wall time on a shared machine). The command's output is discarded. Speed is
// measured here, never in a timed test.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareBootstrap } from '../src/runtime/watch.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    run: { type: 'string' }, runs: { type: 'string', default: '5' }, python: { type: 'string' },
    instances: { type: 'string', default: '1000000' },
  },
});
const runs = Math.max(1, Number(values.runs));
const scratch = mkdtempSync(path.join(tmpdir(), 'capi-gc-bench-watch-'));

function capture(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim();
}

let command = values.run;
const env: NodeJS.ProcessEnv = { ...process.env };
let python = '';
if (!command || values.python) {
  // The fixture extension, on PYTHONPATH: for the workload, or for a --run of the fixture's pytest suite.
  python = capture(values.python ?? 'python3', ['-c', 'import sys; print(sys.executable)']);
  const [include, suffix] = capture(python, ['-c', "import sysconfig; print(sysconfig.get_config_var('INCLUDEPY')); print(sysconfig.get_config_var('EXT_SUFFIX'))"]).split('\n');
  capture('gcc', ['-shared', '-fPIC', '-O2', '-w', `-I${include}`, path.join(ROOT, 'test', 'fixtures', 'watch', 'src', 'watched.c'), '-o', path.join(scratch, `watched${suffix}`)]);
  env['PYTHONPATH'] = [scratch, ...(env['PYTHONPATH'] ? [env['PYTHONPATH']] : [])].join(path.delimiter);
  env['PATH'] = [path.dirname(python), env['PATH'] ?? ''].join(path.delimiter);
  command ??= `'${python}' '${path.join(ROOT, 'test', 'fixtures', 'watch', 'tests', 'bench_watched.py')}' ${Number(values.instances)}`;
}

// The bootstrap as `capi-gc verify --run` puts it on PYTHONPATH: a copy compiled for the interpreter.
const bootstrap = await prepareBootstrap(python || 'python3', path.join(scratch, 'bootstrap'));

/** One run: its wall time and the CPU time (user + system) of the command's processes, in ms, from the shell's `times`. */
function once(watched: boolean): { wall: number; cpu: number } {
  const out = mkdtempSync(path.join(scratch, 'out-'));
  const e = { ...env };
  if (watched) {
    e['PYTHONPATH'] = [bootstrap, ...(e['PYTHONPATH'] ? [e['PYTHONPATH']] : [])].join(path.delimiter);
    e['CAPI_GC_WATCH_DIR'] = out;
  }
  const t0 = performance.now();
  const r = spawnSync('/bin/sh', ['-c', `{ ${command!}\n} >/dev/null 2>&1 </dev/null; s=$?; times; exit $s`], { env: e, encoding: 'utf8', cwd: ROOT });
  const wall = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) console.error(`bench: the command exited ${r.status ?? r.signal}`);
  // `times`: the shell's user and system time, then its children's ("0m0.812s 0m0.031s").
  const children = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((t, m) => t + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return { wall, cpu };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const plain: { wall: number; cpu: number }[] = [];
  const watched: { wall: number; cpu: number }[] = [];
  once(false); // warm the file cache
  once(true);
  for (let i = 0; i < runs; i++) {
    plain.push(once(false));
    watched.push(once(true));
  }
  const fmt = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(3)).join(' ');
  console.log(`bench watch: \`${command}\`${python ? ` (Python ${capture(python, ['-c', 'import platform; print(platform.python_version())'])})` : ''}`);
  console.log(`  ${runs} run(s) each, ${availableParallelism()} core(s), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const key of ['wall', 'cpu'] as const) {
    const p = median(plain.map((x) => x[key]));
    const w = median(watched.map((x) => x[key]));
    console.log(`  ${key === 'wall' ? 'wall' : 'CPU (user+sys)'}: plain ${fmt(plain.map((x) => x[key]))} s; watched ${fmt(watched.map((x) => x[key]))} s`);
    console.log(`    plain median ${(p / 1000).toFixed(3)} s, watched median ${(w / 1000).toFixed(3)} s, overhead ${(((w - p) / p) * 100).toFixed(1)} %${key === 'wall' ? ' (target < 25 %)' : ''}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
