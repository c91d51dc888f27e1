// Benchmark: `npm run bench -- <folder> [runs]` analyses a source tree a few times and prints wall time, CPU time
// and throughput. Speed is measured here, never in a timed test. Example: a CPython checkout's
// Modules/ Objects/ Python/ (`npm run bench -- ~/cpython/Modules ~/cpython/Objects ~/cpython/Python`).

import { cpuUsage, memoryUsage } from 'node:process';
import { statSync } from 'node:fs';
import { analyzePaths } from '../src/analyze.js';
import { discoverFiles } from '../src/files/discover.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsArg = args.find((a) => /^--runs=\d+$/.test(a));
  const runs = runsArg ? Number(runsArg.split('=')[1]) : 3;
  const paths = args.filter((a) => !a.startsWith('--'));
  if (!paths.length) paths.push('examples');
  const { files } = discoverFiles(paths, { cwd: process.cwd() });
  const bytes = files.reduce((n, f) => n + statSync(f.path).size, 0);
  console.log(`bench: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${runs} run(s)`);
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu0 = cpuUsage();
    const t0 = performance.now();
    const r = await analyzePaths(paths, { cwd: process.cwd(), pythonVersion: { major: 3, minor: 9 } });
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuUsage(cpu0);
    walls.push(wall);
    console.log(
      `run ${i + 1}: wall ${wall.toFixed(2)} s, cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, `
      + `${(bytes / 1e6 / wall).toFixed(1)} MB/s, ${r.model.types.length} types, ${r.findings.length} findings, `
      + `rss ${(memoryUsage().rss / 1e6).toFixed(0)} MB`,
    );
  }
  walls.sort((a, b) => a - b);
  console.log(`median wall: ${walls[Math.floor(walls.length / 2)].toFixed(2)} s`);
}

void main();
