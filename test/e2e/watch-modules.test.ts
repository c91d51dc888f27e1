// End to end for what `capi-gc verify --run` (issue 12) reports of a whole process and of its modules, on every
// CPython 3.9+ found, with the fixture project's extensions (test/fixtures/watch/src) built for each:
// - crash reports: crashy's methods and tp_dealloc crash (SIGSEGV, abort(), Py_FatalError) under
//   tests/run_crashy.py; the report has runtime-crash with the signal and the Python stack from capi-gc's own
//   faulthandler file, the command's stdout and exit code are what they are without capi-gc, and a clean run of
//   the same script reports nothing;
// - the Py_Finalize witness: modleaky's state holds a type without m_traverse, so its namespace is never freed
//   (runtime-leak); modclean (m_traverse, m_clear) and singlephase (immortal by design) report nothing;
// - subinterpreters (3.12+): modleaky leaves blocks behind in every subinterpreter destroyed (runtime-leak with
//   the figures); modclean does not; subcrash crashes in a subinterpreter: runtime-crash, the program's exit code
//   untouched (the rounds run in a helper process).
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
const CRASHY = path.join(PROJECT, 'tests', 'run_crashy.py');
const MODULES = path.join(PROJECT, 'tests', 'run_modules.py');
const FIXTURES = ['crashy', 'modclean', 'modleaky', 'singlephase', 'subcrash'];

const toolchain = requireOrSkip();
let tempDir: string | null = null;
after(() => {
  if (tempDir) removeTempDir(tempDir);
});

interface Watched { code: number | null; stdout: string; stderr: string; report: Report }

async function capiGc(dir: string, py: PythonInstall, command: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Watched> {
  const output = path.join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const r = await runProcess(process.execPath, [CLI_PATH, 'verify', '--run', command, '--python', py.executable, '--format', 'json', '--output', output, ...extra], {
    cwd: PROJECT, env: pythonEnv({ PYTHONPATH: dir, ...env }), timeoutMs: 180_000,
  });
  if (r.failedToRun) throw new Error(`capi-gc verify --run ${command}: ${r.error}`);
  let report: Report;
  try {
    report = JSON.parse(readFileSync(output, 'utf8')) as Report;
  } catch (error) {
    throw new Error(`capi-gc verify --run ${command} exited ${r.code} without a report (${(error as Error).message}):\n${r.stderr}`);
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, report };
}

/** The command as the shell runs it without capi-gc: its stdout and exit code (128 + N for a signal). */
async function plain(dir: string, py: PythonInstall, command: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runProcess('/bin/sh', ['-c', command], {
    cwd: PROJECT, env: pythonEnv({ PYTHONPATH: dir, PATH: `${path.dirname(py.executable)}${path.delimiter}${process.env['PATH'] ?? ''}`, ...env }),
  });
  return { code: r.code ?? (r.signal === 'SIGSEGV' ? 139 : r.signal === 'SIGABRT' ? 134 : null), stdout: r.stdout, stderr: r.stderr };
}

const list = (report: Report): string => report.findings.map((f) => `  ${f.rule} ${f.type ?? f.module}: ${f.message}`).join('\n');

/** The line of run_crashy.py that holds `text` (the stack must point at it). */
function crashyLine(text: string): number {
  const i = readFileSync(CRASHY, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
}

for (const py of toolchain.pythons) {
  describe(`verify --run: crashes, the Py_Finalize witness and subinterpreters on CPython ${py.fullVersion}`, () => {
    let built: BuiltExtension[] | undefined;
    const build = async (): Promise<string> => {
      tempDir ??= makeTempDir('watch-modules');
      built ??= await Promise.all(FIXTURES.map((f) => compileExtension(py, path.join(PROJECT, 'src', `${f}.c`), tempDir!)));
      return built[0]!.dir;
    };

    for (const [how, signal, line] of [
      ['segfault', /^SIGSEGV \(Segmentation fault\)$/, 'getattr(bomb, how)()'],
      ['abort', /^SIGABRT \(Aborted\)$/, 'getattr(bomb, how)()'],
      ['dealloc', /^SIGSEGV \(Segmentation fault\)$/, 'del fragile'],
    ] as const) {
      it(`a crash (${how}) is runtime-crash with the signal and the Python stack; stdout and exit code are the command's`, async () => {
        const dir = await build();
        const command = `python ${CRASHY} ${how}`;
        const p = await plain(dir, py, command);
        assert.match(p.stdout, new RegExp(`^run_crashy: 200 made, now ${how}\\n$`));
        const w = await capiGc(dir, py, command);
        assert.equal(w.stdout, p.stdout, "the command's stdout is untouched");
        assert.equal(w.code, p.code, "the command's exit code");
        assert.ok(w.code === 139 || w.code === 134, `killed by a signal: ${w.code}`);
        const crashes = w.report.findings.filter((f) => f.rule === 'runtime-crash');
        assert.equal(crashes.length, 1, list(w.report));
        const c = crashes[0]!;
        const m = / crashed with (.*?) while /.exec(c.message);
        assert.ok(m, c.message);
        assert.match(m[1]!, signal);
        const at = crashyLine(line);
        assert.ok(c.file.endsWith('run_crashy.py') && c.line === at, `${c.file}:${c.line}, expected run_crashy.py:${at}`);
        assert.ok(c.message.includes(`run_crashy.py:${at} in <module> \`${line}\``), c.message);
        // The instances made in the loop were seen among the young objects at a collection.
        assert.match(c.message, new RegExp(`being made\\): .*crashy\\.${how === 'dealloc' ? 'Fragile' : 'Bomb'}`));
        assert.equal(c.severity, 'error');
        assert.doesNotMatch(w.stderr, /Fatal Python error: Segmentation fault\n\nCurrent thread/, "capi-gc's dump never goes to the program's stderr");
      });
    }

    it('Py_FatalError is runtime-crash with SIGABRT (its own message and stack are on the program\'s stderr, as without capi-gc)', async () => {
      const dir = await build();
      const command = `python ${CRASHY} fatal`;
      const p = await plain(dir, py, command);
      const w = await capiGc(dir, py, command);
      assert.equal(w.stdout, p.stdout);
      assert.equal(w.code, p.code);
      assert.equal(w.code, 134);
      assert.match(w.stderr, /Fatal Python error: bomb_fatal: crashy: the fixture asked for a fatal error/);
      const crashes = w.report.findings.filter((f) => f.rule === 'runtime-crash');
      assert.equal(crashes.length, 1, list(w.report));
      assert.match(crashes[0]!.message, /crashed with SIGABRT while the program ran/);
    });

    it("a program that enables faulthandler itself keeps its dump on its own stderr; the crash is still reported", async () => {
      const dir = await build();
      const command = `python ${CRASHY} segfault`;
      const env = { PYTHONFAULTHANDLER: '1' };
      const p = await plain(dir, py, command, env);
      assert.match(p.stderr, /Fatal Python error: Segmentation fault/);
      const w = await capiGc(dir, py, command, [], env);
      assert.equal(w.stdout, p.stdout);
      assert.equal(w.code, p.code);
      assert.match(w.stderr, /Fatal Python error: Segmentation fault[\s\S]*run_crashy\.py", line \d+ in <module>/, "the program's own dump, where it asked");
      const crashes = w.report.findings.filter((f) => f.rule === 'runtime-crash');
      assert.equal(crashes.length, 1, list(w.report));
      assert.match(crashes[0]!.message, /crashed with SIGSEGV while the program ran .*the program enabled faulthandler itself, so the dump went to its own stream/);
    });

    it('the same script without a crash reports nothing, and exits 0', async () => {
      const dir = await build();
      const command = `python ${CRASHY} none`;
      const p = await plain(dir, py, command);
      const w = await capiGc(dir, py, command);
      assert.equal(w.stdout, p.stdout);
      assert.equal(p.code, 0);
      assert.equal(w.code, 0, list(w.report));
      assert.deepEqual(w.report.findings, []);
    });

    it('a module whose state holds a type m_traverse does not visit: its namespace is never freed during Py_Finalize', async () => {
      const dir = await build();
      const command = `python ${MODULES} modleaky`;
      const p = await plain(dir, py, command);
      const w = await capiGc(dir, py, command);
      assert.equal(w.stdout, p.stdout);
      assert.equal(p.code, 0);
      assert.equal(w.code, 1, 'the command passed and an error was found');
      const leak = w.report.findings.find((f) => f.rule === 'runtime-leak' && f.message.startsWith('module namespace of '));
      assert.ok(leak, list(w.report));
      assert.equal(leak.module, 'modleaky');
      assert.match(leak.message, /^module namespace of modleaky was never freed during Py_Finalize: its witness \(__capi_gc_witness__\)/);
      assert.ok(leak.file.includes('modleaky'), leak.file);
      if (py.minor >= 12) {
        const sub = w.report.findings.find((f) => f.rule === 'runtime-leak' && f.message.includes('in a fresh subinterpreter'));
        assert.ok(sub, list(w.report));
        assert.equal(sub.module, 'modleaky');
        const m = /grew by (\d+), (\d+), (\d+) over 3 rounds, against (\d+), (\d+) for a round without the module, before and after \(median (\d+) blocks more per round/.exec(sub.message);
        assert.ok(m, sub.message);
        const n = m.slice(1).map(Number);
        for (let i = 0; i < 3; i++) assert.ok(n[i]! - Math.max(n[3]!, n[4]!) >= 100, `round ${i + 1}: ${n[i]} against ${n[3]}, ${n[4]}`);
        assert.ok(n[5]! >= 100);
      }
      assert.equal(w.report.findings.length, py.minor >= 12 ? 2 : 1, list(w.report));
    });

    it('a module that crashes in a subinterpreter: runtime-crash (3.12+), the program and its exit code untouched', async () => {
      const dir = await build();
      const command = `python ${MODULES} subcrash,modleaky`;
      const p = await plain(dir, py, command);
      const w = await capiGc(dir, py, command);
      assert.equal(w.stdout, p.stdout);
      assert.equal(p.code, 0);
      assert.equal(w.code, 1, 'the command exited 0 and errors were found');
      assert.match(w.stderr, /`python [^`]*` exited 0;/);
      const crashes = w.report.findings.filter((f) => f.rule === 'runtime-crash');
      if (py.minor < 12) {
        assert.deepEqual(crashes, [], 'no subinterpreter rounds before 3.12');
        return;
      }
      assert.equal(crashes.length, 1, list(w.report));
      assert.equal(crashes[0]!.module, 'subcrash');
      assert.match(crashes[0]!.message, /^loading subcrash in a fresh subinterpreter and destroying it crashed with SIGSEGV: a helper process/);
      // The helper started again for the module it did not reach.
      assert.ok(w.report.findings.some((f) => f.module === 'modleaky' && f.message.includes('in a fresh subinterpreter')), list(w.report));
    });

    it('a correct multi-phase module and a single-phase one report nothing (witness, subinterpreters)', async () => {
      const dir = await build();
      const command = `python ${MODULES} modclean,singlephase,crashy`;
      const p = await plain(dir, py, command);
      const w = await capiGc(dir, py, command, ['--verbose']);
      assert.equal(w.stdout, p.stdout);
      assert.equal(p.code, 0);
      assert.equal(w.code, 0, list(w.report));
      assert.deepEqual(w.report.findings, []);
      assert.match(w.stderr, /single-phase module\(s\) singlephase not checkable by the Py_Finalize witness nor in subinterpreters \(immortal by design\)/);
      assert.doesNotMatch(w.stderr, /subinterpreter rounds skipped for (modclean|crashy)/);
    });
  });
}
