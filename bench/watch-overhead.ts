// Benchmark of the watch bootstrap's cost (issue 12 asks for under 25 % of the program's wall time):
//   node dist/bench/watch-overhead.js --run 'COMMAND' [--runs N]
// runs COMMAND through the shell N times as it is and N times with the bootstrap on PYTHONPATH and
// CAPI_GC_WATCH_DIR set (what `capi-gc verify --run` does), alternating, and prints the median wall times and the
// overhead. The command's output is discarded. Speed is measured here, never in a timed test.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BOOTSTRAP_DIR } from '../src/runtime/watch.js';

const { values } = parseArgs({ options: { run: { type: 'string' }, runs: { type: 'string', default: '5' } } });
if (!values.run) {
  console.error("usage: node dist/bench/watch-overhead.js --run 'COMMAND' [--runs N]");
  process.exit(2);
}
const runs = Math.max(1, Number(values.runs));

function once(watched: boolean): number {
  const out = mkdtempSync(path.join(tmpdir(), 'capi-gc-bench-'));
  const env = { ...process.env };
  if (watched) {
    env['PYTHONPATH'] = [BOOTSTRAP_DIR.replace(/\/$/, ''), ...(env['PYTHONPATH'] ? [env['PYTHONPATH']] : [])].join(path.delimiter);
    env['CAPI_GC_WATCH_DIR'] = out;
  }
  const t0 = performance.now();
  const r = spawnSync('/bin/sh', ['-c', values.run!], { env, stdio: 'ignore' });
  const wall = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) console.error(`bench: the command exited ${r.status ?? r.signal}`);
  return wall;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const plain: number[] = [];
const watched: number[] = [];
once(false); // warm the file cache
for (let i = 0; i < runs; i++) {
  plain.push(once(false));
  watched.push(once(true));
}
const p = median(plain);
const w = median(watched);
console.log(`bench watch: ${runs} run(s) each; plain median ${(p / 1000).toFixed(3)} s, watched median ${(w / 1000).toFixed(3)} s, `
  + `overhead ${(((w - p) / p) * 100).toFixed(1)} %`);
