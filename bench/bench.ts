// Benchmark: `npm run bench -- <folder…> [--runs N]` measures, side by side in one run, on the same files:
//   (a) read      reading every file (discovery + decoding, what the check reads)
//   (b) parse     tree-sitter parse of every file's shimmed text on one thread, nothing else (the shim runs
//                 before the clock starts; each tree is freed at once)
//   (c) cold      `capi-gc check` as the CLI runs it (checkPaths, Python 3.9, default workers)
//   (d) warm      the same check with a warm cache (`--cache` in a temporary folder, filled by an untimed run first):
//                 the unchanged tree gets the stored result of the run
//   (e) edited    the warm check after one file changed (a comment appended to the first .c file): that file is
//                 prepared again, every other file's facts come from the cache, and the model is linked anew
//   (f) command   the installed command as a user starts it, `node dist/capi-gc.mjs check <paths>`, cold: its wall
//                 time from start to exit includes Node's own start-up and loading capi-gc (what an editor or a
//                 pre-commit hook waits for); CPU and peak memory come from /usr/bin/time when it is there
// For each: files, MB, wall, MB/s and peak resident memory, and the ratios (c)/(b), (d)/(b). Each phase runs
// in its own `node` process, so a phase's peak memory and its parser's start-up are its own; the wall time is
// measured inside that process (Node's own start-up is not included, except in (f)). `--runs N` repeats every phase N times
// (default 3) and reports medians. Speed is measured here, never in a timed test. Example, a CPython checkout:
//   npm run bench -- ~/cpython/Modules ~/cpython/Objects ~/cpython/Python --runs 3
//
// Whether the cost grows linearly with the input, in one run:
//   --scale                 the given tree, then 25%, 50% and 100% of its files (every fourth file first, so each
//                           subset is a sample of the whole): cost per MB of each and the ratio largest/smallest.
//   --compare SET SET…      each SET a comma-separated list of folders (`Modules Modules,Objects,Python`): cost
//                           per MB of each and the ratio of the last to the first.

import { cpuUsage, memoryUsage, resourceUsage } from 'node:process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { analyzePaths, checkPaths, type SourceInput } from '../src/analyze.js';
import { discoverFiles } from '../src/files/discover.js';
import { readSource, DEFAULT_READ_OPTIONS } from '../src/files/read.js';
import { shimSource } from '../src/parse/shim.js';
import { macroEnvironmentFor } from '../src/parse/preprocessor.js';
import { apiHeaderFiles, apiMacroEnvironment } from '../src/model/capi.js';
import { getParser } from '../src/parse/parser.js';

const PYTHON = { major: 3, minor: 9 };

type PhaseName = 'read' | 'parse' | 'cold' | 'warm' | 'fill' | 'edited' | 'command';

/** The package's bin: what `capi-gc` runs once installed. */
const BIN = fileURLToPath(new URL('../capi-gc.mjs', import.meta.url));
const TIME = '/usr/bin/time';

interface PhaseResult {
  files: number;
  bytes: number;
  wall: number;
  /** CPU time (user + system, every thread) of the phase, seconds: less sensitive than wall to a busy machine. */
  cpu: number;
  /** Peak resident set size of the phase's process, bytes. */
  peakRss: number;
  findings?: number;
}

function readAll(paths: string[]): { file: string; text: string }[] {
  const { files } = discoverFiles(paths, { cwd: process.cwd() });
  const out: { file: string; text: string }[] = [];
  for (const f of files) {
    const r = readSource(f.path, DEFAULT_READ_OPTIONS);
    if (r.ok) out.push({ file: f.display, text: r.text });
  }
  return out;
}

/** Runs one phase in this process and returns what it measured. */
async function runPhase(phase: PhaseName, paths: string[]): Promise<PhaseResult> {
  if (phase === 'read') {
    const c0 = cpuUsage();
    const t0 = performance.now();
    const sources = readAll(paths);
    const wall = (performance.now() - t0) / 1000;
    return { files: sources.length, bytes: textBytes(sources), wall, cpu: cpuSeconds(c0), peakRss: resourceUsage().maxRSS * 1024 };
  }
  if (phase === 'parse') {
    const all = readAll(paths);
    // The same files the check parses: the C API's own headers are left out there too.
    const apiHeaders = apiHeaderFiles(all.map((s) => s.file));
    const sources = all.filter((s) => !apiHeaders.has(s.file));
    const env = macroEnvironmentFor(PYTHON, undefined, undefined, apiMacroEnvironment(PYTHON));
    const shimmed = sources.map((s) => shimSource(s.text, env).text);
    const parser = await getParser();
    const c0 = cpuUsage();
    const t0 = performance.now();
    for (const text of shimmed) {
      const tree = parser.parse(text);
      tree?.delete();
    }
    const wall = (performance.now() - t0) / 1000;
    return { files: sources.length, bytes: textBytes(sources), wall, cpu: cpuSeconds(c0), peakRss: resourceUsage().maxRSS * 1024 };
  }
  if (phase === 'command') return runCommand(paths);
  const cached = phase === 'warm' || phase === 'fill' || phase === 'edited';
  const cacheDir = cached ? process.env.CAPI_GC_BENCH_CACHE : undefined;
  if (cached && !cacheDir) throw new Error('CAPI_GC_BENCH_CACHE is not set');
  let overlay: SourceInput[] | undefined;
  if (phase === 'edited') {
    const first = discoverFiles(paths, { cwd: process.cwd() }).files.filter((f) => f.path.endsWith('.c')).sort((a, b) => (a.path < b.path ? -1 : 1))[0];
    const read = first && readSource(first.path, DEFAULT_READ_OPTIONS);
    if (!read || !read.ok) throw new Error('no .c file to edit');
    // A new edit each time: the run cache must not have seen it.
    overlay = [{ file: first.display, text: `${read.text}\n/* edited ${process.hrtime.bigint()} */\n` }];
  }
  const c0 = cpuUsage();
  const t0 = performance.now();
  const r = await checkPaths(paths, { cwd: process.cwd(), pythonVersion: PYTHON, cacheDir, overlay });
  if (phase === 'warm' && r.runCache !== 'hit') throw new Error(`the cache was not warm: the run was analysed again (${JSON.stringify(r.factsCache)})`);
  if (phase === 'edited' && (r.runCache === 'hit' || r.factsCache?.misses !== 1)) throw new Error(`expected one file prepared again, got ${JSON.stringify(r.factsCache)}`);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  // The bytes of the files the check analysed (the C API's headers left out), the same count as (b)'s.
  const bytes = textBytes([...(r.sources ?? new Map<string, string>()).values()].map((text) => ({ text })));
  return { files: r.filesAnalysed, bytes, wall, cpu, peakRss: resourceUsage().maxRSS * 1024, findings: r.findings.length };
}

/** (f): the bin in a process of its own, timed from before its start to after its exit. */
function runCommand(paths: string[]): PhaseResult {
  const args = [BIN, 'check', ...paths, '--format', 'json', '--exit-zero', '--quiet'];
  const timed = existsSync(TIME);
  const t0 = performance.now();
  const child = timed
    ? spawnSync(TIME, ['-f', 'capi-gc-bench %U %S %M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wall = (performance.now() - t0) / 1000;
  if (child.status !== 0) throw new Error(`${BIN} exited with ${child.status}: ${(child.stderr ?? '').trim().split('\n').pop()}`);
  const usage = /capi-gc-bench ([\d.]+) ([\d.]+) (\d+)/.exec(child.stderr ?? '');
  const report = JSON.parse(child.stdout) as { findings: unknown[]; summary: { files?: number } };
  const all = readAll(paths);
  const apiHeaders = apiHeaderFiles(all.map((s) => s.file));
  const sources = all.filter((s) => !apiHeaders.has(s.file));
  return {
    files: sources.length, bytes: textBytes(sources), wall,
    cpu: usage ? Number(usage[1]) + Number(usage[2]) : NaN, peakRss: usage ? Number(usage[3]) * 1024 : NaN,
    findings: report.findings.length,
  };
}

function textBytes(sources: readonly { text: string }[]): number {
  return sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0);
}

/** CPU seconds of this process (all threads) since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** Runs a phase in a fresh `node` process (its own peak memory, its own parser start-up). */
function runPhaseIsolated(phase: PhaseName, paths: string[]): PhaseResult | { error: string } {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [self, '--phase', phase, ...paths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CAPI_GC_BENCH_CACHE: benchCache() } });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || !line) return { error: (child.stderr || child.stdout).trim().split('\n').pop() ?? `exit ${child.status}` };
  return JSON.parse(line) as PhaseResult | { error: string };
}

let benchCacheDir: string | null = null;

/** A temporary cache folder for phases (d), removed when the bench exits. */
function benchCache(): string {
  if (!benchCacheDir) {
    benchCacheDir = mkdtempSync(join(tmpdir(), 'capi-gc-bench-cache-'));
    process.on('exit', () => rmSync(benchCacheDir!, { recursive: true, force: true }));
  }
  return benchCacheDir;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const PHASES: { name: PhaseName; label: string }[] = [
  { name: 'read', label: '(a) read all files' },
  { name: 'parse', label: '(b) parse only, 1 thread' },
  { name: 'cold', label: '(c) check, cold' },
  { name: 'warm', label: '(d) check, warm cache' },
  { name: 'edited', label: '(e) warm, one file edited' },
  { name: 'command', label: '(f) the command, cold' },
];

async function sideBySide(paths: string[], runs: number): Promise<void> {
  const medians = new Map<PhaseName, PhaseResult>();
  console.log(`bench: ${paths.join(' ')}; ${runs} run(s) per phase, medians; node ${process.version}, ${cpuCount()} cores`);
  for (const { name, label } of PHASES) {
    const results: PhaseResult[] = [];
    let error = '';
    if (name === 'warm') {
      const filled = runPhaseIsolated('fill', paths);
      if ('error' in filled) { console.log(`${label.padEnd(26)} n/a (filling the cache: ${filled.error})`); continue; }
    }
    for (let i = 0; i < runs; i++) {
      const r = runPhaseIsolated(name, paths);
      if ('error' in r) { error = r.error; break; }
      results.push(r);
    }
    if (!results.length) {
      console.log(`${label.padEnd(26)} n/a (${error})`);
      continue;
    }
    const m: PhaseResult = {
      files: results[0].files, bytes: results[0].bytes, wall: median(results.map((r) => r.wall)), cpu: median(results.map((r) => r.cpu)),
      peakRss: median(results.map((r) => r.peakRss)), findings: results[0].findings,
    };
    medians.set(name, m);
    console.log(
      `${label.padEnd(26)} ${String(m.files).padStart(5)} files ${(m.bytes / 1e6).toFixed(1).padStart(6)} MB  `
      + `wall ${m.wall.toFixed(2).padStart(6)} s  ${(m.bytes / 1e6 / m.wall).toFixed(1).padStart(7)} MB/s  cpu ${(Number.isFinite(m.cpu) ? m.cpu.toFixed(2) : 'n/a').padStart(6)} s  `
      + `peak ${(Number.isFinite(m.peakRss) ? (m.peakRss / 1e6).toFixed(0) : 'n/a').padStart(5)} MB`
      + (m.findings !== undefined ? `  ${m.findings} findings` : '')
      + (runs > 1 ? `  (walls ${results.map((r) => r.wall.toFixed(2)).join(' ')})` : ''),
    );
  }
  const parse = medians.get('parse');
  const tags = { cold: '(c)/(b)', warm: '(d)/(b)', edited: '(e)/(b)', command: '(f)/(b)' } as const;
  for (const name of ['cold', 'warm', 'edited', 'command'] as const) {
    const m = medians.get(name);
    const tag = tags[name];
    console.log(`${tag}: ${m && parse ? `wall ${(m.wall / parse.wall).toFixed(2)}x, cpu ${(m.cpu / parse.cpu).toFixed(2)}x` : 'n/a'}`);
  }
}

function cpuCount(): number {
  return availableParallelism();
}

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
  const phaseAt = args.indexOf('--phase');
  if (phaseAt >= 0) {
    // A child process of sideBySide: one phase, one JSON line.
    const phase = args[phaseAt + 1] as PhaseName;
    const paths = args.filter((a, i) => !a.startsWith('--') && i !== phaseAt + 1);
    try {
      console.log(JSON.stringify(await runPhase(phase, paths)));
    } catch (error) {
      console.log(JSON.stringify({ error: (error as Error).message }));
    }
    return;
  }
  let runs = 3;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^--runs=\d+$/.test(a)) runs = Number(a.split('=')[1]);
    else if (a === '--runs' && /^\d+$/.test(args[i + 1] ?? '')) runs = Number(args[++i]);
    else if (!a.startsWith('--')) paths.push(a);
  }
  runs = Math.max(1, runs);
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
  await sideBySide(paths, runs);
}

void main();
