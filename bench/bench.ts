// Benchmark: `npm run bench -- <folder…> [--runs=N]` analyses a source tree a few times and prints wall time, CPU
// time and throughput. Speed is measured here, never in a timed test. Example: a CPython checkout's
// Modules/ Objects/ Python/ (`npm run bench -- ~/cpython/Modules ~/cpython/Objects ~/cpython/Python`).
//
// Whether the cost grows linearly with the input, in one run:
//   --scale                 the given tree, then 25%, 50% and 100% of its files (every fourth file first, so each
//                           subset is a sample of the whole): cost per MB of each and the ratio largest/smallest.
//   --compare SET SET…      each SET a comma-separated list of folders (`Modules Modules,Objects,Python`): cost
//                           per MB of each and the ratio of the last to the first.

import { cpuUsage, memoryUsage } from 'node:process';
import { statSync } from 'node:fs';
import { analyzePaths } from '../src/analyze.js';
import { discoverFiles } from '../src/files/discover.js';

interface Measure {
  label: string;
  files: number;
  bytes: number;
  wall: number;
  cpu: number;
}

async function measure(label: string, paths: string[], runs: number, verbose: boolean): Promise<Measure> {
  const { files } = discoverFiles(paths, { cwd: process.cwd() });
  const bytes = files.reduce((n, f) => n + statSync(f.path).size, 0);
  if (verbose) console.log(`bench: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${runs} run(s)`);
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpu0 = cpuUsage();
    const t0 = performance.now();
    const r = await analyzePaths(paths, { cwd: process.cwd(), pythonVersion: { major: 3, minor: 9 } });
    const wall = (performance.now() - t0) / 1000;
    const usage = cpuUsage(cpu0);
    const cpu = (usage.user + usage.system) / 1e6;
    walls.push(wall);
    cpus.push(cpu);
    if (verbose) {
      console.log(
        `run ${i + 1}: wall ${wall.toFixed(2)} s, cpu ${cpu.toFixed(2)} s, `
        + `${(bytes / 1e6 / wall).toFixed(1)} MB/s, ${r.model.types.length} types, ${r.findings.length} findings, `
        + `rss ${(memoryUsage().rss / 1e6).toFixed(0)} MB`,
      );
    }
  }
  return { label, files: files.length, bytes, wall: median(walls), cpu: median(cpus) };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(measures: Measure[], ratioOf: [Measure, Measure]): void {
  const perMB = (m: Measure, s: number) => (s * 1000) / (m.bytes / 1e6);
  for (const m of measures) {
    console.log(
      `${m.label.padEnd(28)} ${String(m.files).padStart(5)} files ${(m.bytes / 1e6).toFixed(1).padStart(6)} MB  `
      + `cpu ${perMB(m, m.cpu).toFixed(0).padStart(5)} ms/MB  wall ${perMB(m, m.wall).toFixed(0).padStart(5)} ms/MB`,
    );
  }
  const [base, big] = ratioOf;
  console.log(
    `per-byte cost ${big.label} / ${base.label}: cpu ${(perMB(big, big.cpu) / perMB(base, base.cpu)).toFixed(2)}x, `
    + `wall ${(perMB(big, big.wall) / perMB(base, base.wall)).toFixed(2)}x`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsArg = args.find((a) => /^--runs=\d+$/.test(a));
  const runs = runsArg ? Number(runsArg.split('=')[1]) : 3;
  const paths = args.filter((a) => !a.startsWith('--'));
  if (!paths.length) paths.push('examples');

  if (args.includes('--compare') || args.includes('--scale')) {
    // Loading the parser and warming the JIT are paid once, not by the first set measured.
    const { files } = discoverFiles(paths[0].split(','), { cwd: process.cwd() });
    await analyzePaths(files.slice(0, 20).map((f) => f.path), { cwd: process.cwd(), pythonVersion: { major: 3, minor: 9 } });
  }
  if (args.includes('--compare')) {
    const measures: Measure[] = [];
    for (const set of paths) measures.push(await measure(set, set.split(','), runs, false));
    report(measures, [measures[0], measures[measures.length - 1]]);
    return;
  }
  if (args.includes('--scale')) {
    const { files } = discoverFiles(paths, { cwd: process.cwd() });
    const ordered = [...files].sort((a, b) => (a.path < b.path ? -1 : 1));
    // Every fourth file, then every other, then all: each subset samples the whole tree.
    const subset = (quarters: number) => ordered.filter((_, i) => i % 4 < quarters).map((f) => f.path);
    const measures: Measure[] = [];
    for (const [label, q] of [['25% of files', 1], ['50% of files', 2], ['100% of files', 4]] as const) {
      measures.push(await measure(label, subset(q), runs, false));
    }
    report(measures, [measures[0], measures[measures.length - 1]]);
    return;
  }
  const m = await measure(paths.join(' '), paths, runs, true);
  console.log(`median wall: ${m.wall.toFixed(2)} s`);
}

void main();
