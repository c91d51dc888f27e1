// End to end for `capi-gc verify --run` and `check --run` (issue 12) on the fixture project test/fixtures/watch:
// its extension (one correct type, four defective ones) is built for every CPython 3.9+ found, its own test script
// runs under capi-gc, and every defect the script exercises must be reported with its evidence, the correct type
// must report nothing, and the script's stdout and exit code must be what they are without capi-gc. Where pytest is
// installed for the interpreter, the same holds for the fixture's pytest suite.
// Without gcc or an interpreter these tests skip with one loud line, unless CAPI_GC_REQUIRE_PYTHON=1.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { compileExtension, makeTempDir, pythonEnv, removeTempDir, type BuiltExtension } from './build.js';
import { CLI_PATH, type Report } from './cli.js';
import { requireOrSkip, type PythonInstall } from './pythons.js';
import { fromRoot, runProcess } from './repo.js';

const PROJECT = fromRoot('test', 'fixtures', 'watch');
const SCRIPT = path.join(PROJECT, 'tests', 'run_watched.py');

/** What the script exercises, and the words of evidence each finding must carry (type null: a module-level finding). */
const DEFECTS: { rule: string; type: string | null; module?: string; member?: string; evidence: RegExp }[] = [
  { rule: 'gc-flag-missing', type: 'watched.NoGc', evidence: /does not have Py_TPFLAGS_HAVE_GC/ },
  { rule: 'instances-not-tracked', type: 'watched.Untracked', evidence: /\d+ of the instances .* not tracked \(gc\.is_tracked\(\) is false\)/ },
  { rule: 'traverse-type-not-visited', type: 'watched.NoTypeVisit', evidence: /not among gc\.get_referents\(instance\) for \d+ instance/ },
  { rule: 'traverse-member-not-visited', type: 'watched.HiddenPayload', member: 'payload', evidence: /HiddenPayload\.payload was not among gc\.get_referents/ },
  { rule: 'dealloc-type-not-decrefed', type: 'watched.LeakyDealloc', evidence: /reference\(s\) to watched\.LeakyDealloc were held by nothing the collector sees/ },
  { rule: 'runtime-leak', type: 'watched.HiddenPayload', evidence: /still alive at exit after gc\.collect\(\) ran to a fixed point .*held by: list/ },
  { rule: 'runtime-leak', type: 'watched.NoGc', evidence: /still alive at exit/ },
  { rule: 'runtime-leak', type: 'watched.Untracked', evidence: /still alive at exit/ },
  // The leaked instances hold their types, which hold the module: its namespace is never freed either.
  { rule: 'runtime-leak', type: null, module: 'watched', evidence: /module namespace of watched was never freed during Py_Finalize: its witness \(__capi_gc_witness__\)/ },
];

/** The defects the static analysis predicts in watched.c (runtime-leak is a run-time rule only). */
const STATIC = DEFECTS.filter((d): d is typeof d & { type: string } => d.rule !== 'runtime-leak' && d.type !== null);

/** What the script prints on its own (the e2e tests compare the watched runs' stdout with it). */
const PLAIN_OUTPUT = 'run_watched: 606 checks passed\n';

const toolchain = requireOrSkip();
let tempDir: string | null = null;
after(() => {
  if (tempDir) removeTempDir(tempDir);
});

interface Watched { code: number | null; stdout: string; stderr: string; report: Report }

async function capiGc(ext: BuiltExtension, args: string[], extraEnv: Record<string, string> = {}): Promise<Watched> {
  const output = path.join(ext.dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const r = await runProcess(process.execPath, [CLI_PATH, ...args, '--python', ext.python.executable, '--format', 'json', '--output', output], {
    cwd: PROJECT, env: pythonEnv({ PYTHONPATH: ext.dir, ...extraEnv }), timeoutMs: 180_000,
  });
  if (r.failedToRun) throw new Error(`capi-gc ${args.join(' ')}: ${r.error}`);
  let report: Report;
  try {
    report = JSON.parse(readFileSync(output, 'utf8')) as Report;
  } catch (error) {
    throw new Error(`capi-gc ${args.join(' ')} exited ${r.code} without a report (${(error as Error).message}):\n${r.stderr}`);
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, report };
}

function assertDefects(report: Report, defects: typeof DEFECTS, context: string): void {
  for (const d of defects) {
    const hit = report.findings.find((f) => f.rule === d.rule && f.type === d.type && (!d.member || f.member === d.member)
      && (!d.module || f.module === d.module));
    assert.ok(hit, `${context}: no ${d.rule} on ${d.type ?? d.module}; findings:\n${report.findings.map((f) => `  ${f.rule} ${f.type}`).join('\n')}`);
    assert.match(hit.message, d.evidence, `${context}: ${d.rule} on ${d.type} without its evidence`);
    assert.equal(hit.severity, 'error');
  }
  const clean = report.findings.filter((f) => f.type === 'watched.Clean' || f.message.includes('watched.Clean'));
  assert.deepEqual(clean, [], `${context}: the correct type reports nothing`);
}

async function hasPytest(py: PythonInstall): Promise<boolean> {
  const r = await runProcess(py.executable, ['-c', 'import pytest'], { env: pythonEnv() });
  return r.code === 0;
}

for (const py of toolchain.pythons) {
  describe(`verify --run on CPython ${py.fullVersion}`, () => {
    let ext: BuiltExtension;
    const build = async (): Promise<BuiltExtension> => {
      tempDir ??= makeTempDir('watch');
      ext ??= await compileExtension(py, path.join(PROJECT, 'src', 'watched.c'), tempDir);
      return ext;
    };

    it('reports every defect the test script exercises, with evidence, and nothing for the correct type', async () => {
      const e = await build();
      const plain = await runProcess(py.executable, [SCRIPT], { cwd: PROJECT, env: pythonEnv({ PYTHONPATH: e.dir }) });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, PLAIN_OUTPUT);
      const w = await capiGc(e, ['verify', '--run', `python ${SCRIPT}`]);
      assert.equal(w.stdout, plain.stdout, "the script's stdout is untouched");
      assert.equal(w.code, 1, 'the script passed and errors were found');
      assertDefects(w.report, DEFECTS, `verify --run on ${py.fullVersion}`);
      assert.equal(w.report.findings.length, DEFECTS.length, w.report.findings.map((f) => `${f.rule} ${f.type}`).join('\n'));
    });

    it("keeps the script's own exit code", async () => {
      const e = await build();
      const w = await capiGc(e, ['verify', '--run', `python ${SCRIPT}`], { WATCHED_EXIT: '3' });
      assert.equal(w.code, 3);
      assert.equal(w.stdout, PLAIN_OUTPUT);
      assertDefects(w.report, DEFECTS, 'exit 3');
    });

    it('watches the Python processes the command starts (a subprocess of the script runner)', async () => {
      const e = await build();
      const code = `import subprocess, sys; sys.exit(subprocess.run([sys.executable, ${JSON.stringify(SCRIPT)}]).returncode)`;
      const w = await capiGc(e, ['verify', '--run', `python -c '${code}'`]);
      assert.equal(w.stdout, PLAIN_OUTPUT);
      assert.equal(w.code, 1);
      assertDefects(w.report, DEFECTS, 'in a subprocess');
    });

    it('a multiprocessing worker that ends with os._exit still reports what it saw', async () => {
      const e = await build();
      const forked = path.join(PROJECT, 'tests', 'run_forked.py');
      const plain = await runProcess(py.executable, [forked], { cwd: PROJECT, env: pythonEnv({ PYTHONPATH: e.dir }) });
      assert.equal(plain.code, 0, plain.stderr);
      const w = await capiGc(e, ['verify', '--run', `python ${forked}`]);
      assert.equal(w.stdout, plain.stdout, "the script's stdout is untouched");
      assert.equal(w.code, 1, w.stderr);
      assertDefects(w.report, DEFECTS.filter((d) => d.rule !== 'runtime-leak' && (d.type === 'watched.NoGc' || d.type === 'watched.Untracked')), `os._exit on ${py.fullVersion}`);
      assert.doesNotMatch(w.stderr, /ended without a record/, 'the worker wrote its record');
      assert.ok(w.report.findings.every((f) => f.rule !== 'runtime-leak'), 'a process that does not finalise leaks nothing');
    });

    it('check --run: each static finding is confirmed by the test suite, the leaks are found at run time only', async () => {
      const e = await build();
      const w = await capiGc(e, ['check', 'src', '--run', `python ${SCRIPT}`]);
      assert.equal(w.stdout, PLAIN_OUTPUT);
      assert.equal(w.code, 1);
      for (const d of STATIC) {
        const f = w.report.findings.find((x) => x.rule === d.rule && x.type?.endsWith(d.type.split('.')[1]!) && x.file.endsWith('watched.c'));
        assert.ok(f, `static ${d.rule} on ${d.type}`);
        assert.equal((f as { runtime?: { verdict: string } }).runtime?.verdict, 'confirmed by the test suite', f.message);
        assert.match(f.message, new RegExp(`\\[confirmed by the test suite: .*${d.evidence.source}`), 'the run-time evidence is in the message');
      }
      const leaks = w.report.findings.filter((f) => f.rule === 'runtime-leak');
      assert.deepEqual(leaks.map((f) => f.type ?? `module ${f.module}`).sort(), ['module watched', 'watched.HiddenPayload', 'watched.NoGc', 'watched.Untracked']);
      for (const f of leaks) assert.equal((f as { runtime?: { verdict: string } }).runtime?.verdict, 'found at run time only');
      assert.ok(!w.report.findings.some((f) => f.type?.endsWith('Clean')), 'nothing on the correct type');
    });

    it('a static finding the script never exercises is "not exercised"', async () => {
      const e = await build();
      const w = await capiGc(e, ['check', 'src', '--run', 'python -c "print(1)"']);
      assert.equal(w.stdout, '1\n');
      assert.equal(w.code, 1);
      const statics = w.report.findings.filter((f) => f.file.endsWith('watched.c'));
      assert.equal(statics.length, STATIC.length);
      for (const f of statics) assert.equal((f as { runtime?: { verdict: string } }).runtime?.verdict, 'not exercised', f.message);
    });

    it('the pytest suite (where pytest is installed)', async (t) => {
      if (!(await hasPytest(py))) {
        t.skip(`pytest is not installed for ${py.executable}`);
        return;
      }
      const e = await build();
      const w = await capiGc(e, ['verify', '--run', 'python -m pytest -q -p no:cacheprovider tests/test_watched.py']);
      assert.equal(w.code, 1, w.stderr);
      assert.match(w.stdout, /2 passed/);
      assertDefects(w.report, DEFECTS, `pytest on ${py.fullVersion}`);
    });
  });
}
