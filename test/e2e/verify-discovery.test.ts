// End to end for what `verify` probes beyond a module's attributes (issue 8): heap types kept only in module state,
// in a C global (returned by a function), or created on first use (shown by a factory); static GC types, whose
// member visits are read through gc.get_referents; a factory that raises (a "not testable" note with its
// traceback); a factory for a type the module does not have, and interpreters that cannot run the probe (usage
// errors, exit 2). Each fixture is compiled once per CPython version; the versions run in parallel.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { compileExtension, makeTempDir, removeTempDir, type BuiltExtension } from './build.js';
import { CLI_PATH, runCapiGc } from './cli.js';
import { requireOrSkip, type PythonInstall } from './pythons.js';
import { fromRoot, repoRoot, runProcess } from './repo.js';

const toolchain = requireOrSkip();
const tempDir = makeTempDir('verify-discovery');
after(() => removeTempDir(tempDir));

const builds = new Map<string, Promise<BuiltExtension>>();
function build(py: PythonInstall, name: string): Promise<BuiltExtension> {
  const key = `${py.version}/${name}`;
  let b = builds.get(key);
  if (!b) {
    b = compileExtension(py, fromRoot('test', 'fixtures', 'e2e-verify', `${name}.c`), tempDir);
    builds.set(key, b);
  }
  return b;
}

interface Seen { rule: string; severity: string; type: string | null; member: string | null; message: string }

async function verify(python: string, module: string, dir: string, factories: string[] = []) {
  const args = [CLI_PATH, 'verify', module, '--format', 'json', '--python', python, '--path', dir, '--timeout', '60',
    ...factories.flatMap((f) => ['--factory', f])];
  const r = await runProcess(process.execPath, args, { cwd: repoRoot(), timeoutMs: 180_000 });
  const findings = r.code === 0 || r.code === 1 ? (JSON.parse(r.stdout) as { findings: Seen[] }).findings : [];
  return { code: r.code, stderr: r.stderr, findings, errors: findings.filter((f) => f.severity !== 'note') };
}

describe('verify discovers and probes every type', { concurrency: true }, () => {
  for (const py of toolchain.pythons) {
    describe(`CPython ${py.fullVersion}`, () => {
      it('types only in module state, in a C global, or created on first use are all probed', async () => {
        const ext = await build(py, 'hidden_types');
        const r = await verify(py.executable, ext.moduleName, ext.dir, ['hidden_types.Lazy=m.make_lazy()']);
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(r.errors.map((f) => `${f.type} ${f.rule}`).sort(),
          ['?.Returned gc-flag-missing', 'hidden_types.Lazy gc-flag-missing', 'hidden_types.StateOnly gc-flag-missing']);
        const check = await runCapiGc([ext.source], ['--verify', '--module', ext.moduleName, '--python', py.executable,
          '--path', ext.dir, '--factory', 'hidden_types.Lazy=m.make_lazy()']);
        for (const f of check.report.findings) {
          assert.match(f.message, /\[(confirmed at run time|not observed|not testable|found at run time only): [^\]]*\]$/, f.message);
        }
        for (const t of ['StateOnly', 'Returned', 'Lazy']) {
          assert.ok(check.report.findings.some((f) => f.rule === 'gc-flag-missing' && (f.type ?? '').endsWith(t)),
            `check --verify reports ${t}, statically or as found at run time only`);
        }
      });

      it('a static GC type that visits every member reports nothing', async () => {
        const ext = await build(py, 'static_gc_good');
        const r = await verify(py.executable, ext.moduleName, ext.dir);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.errors, []);
        const check = await runCapiGc([ext.source], ['--verify', '--module', ext.moduleName, '--python', py.executable, '--path', ext.dir]);
        assert.deepEqual(check.report.findings.filter((f) => f.severity !== 'note'), []);
      });

      it('a static GC type that misses a member visit is traverse-member-not-visited for that member, confirmed', async () => {
        const ext = await build(py, 'static_gc_missed');
        const r = await verify(py.executable, ext.moduleName, ext.dir);
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(r.errors.map((f) => `${f.type} ${f.rule} ${f.member}`), ['static_gc_missed.Pair traverse-member-not-visited b']);
        const check = await runCapiGc([ext.source], ['--verify', '--module', ext.moduleName, '--python', py.executable, '--path', ext.dir]);
        const f = check.report.findings.find((x) => x.rule === 'traverse-member-not-visited');
        assert.ok(f, JSON.stringify(check.report.findings));
        assert.match(f.message, /\[confirmed at run time: [^\]]*\]$/);
        assert.ok(!check.report.findings.some((x) => /found at run time only/.test(x.message)), 'check predicted it');
      });

      it('a static type declared by a project macro, with slots set by a ready helper: the missed visit is predicted and confirmed', async () => {
        const ext = await build(py, 'macro_declared');
        const r = await verify(py.executable, ext.moduleName, ext.dir);
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(r.errors.map((f) => `${f.type} ${f.rule} ${f.member}`), ['macro_declared.Pair traverse-member-not-visited b']);
        const check = await runCapiGc([ext.source], ['--verify', '--module', ext.moduleName, '--python', py.executable, '--path', ext.dir]);
        assert.deepEqual(check.report.findings.filter((x) => x.severity !== 'note').map((x) => `${x.rule} ${x.member}`),
          ['traverse-member-not-visited b'], JSON.stringify(check.report.findings));
        assert.match(check.report.findings[0].message, /\[confirmed at run time: [^\]]*\]$/);
      });

      it('a missed visit check cannot decide is found at run time only, placed at the member in the C source', async () => {
        const ext = await build(py, 'unseen_visit');
        const check = await runCapiGc([ext.source], ['--verify', '--module', ext.moduleName, '--python', py.executable, '--path', ext.dir]);
        const only = check.report.findings.filter((x) => /found at run time only/.test(x.message));
        assert.deepEqual(only.map((x) => `${x.rule} ${x.member}`), ['traverse-member-not-visited b'], JSON.stringify(check.report.findings));
        const [f] = only;
        assert.ok(f.file.endsWith('unseen_visit.c'), f.file);
        assert.match(readFileSync(ext.source, 'utf8').split('\n')[f.line - 1], /PyObject \*b;/);
      });

      it('a factory that raises is a not-testable note with its traceback; one for no type is a usage error', async () => {
        const ext = await build(py, 'hidden_types');
        const r = await verify(py.executable, ext.moduleName, ext.dir, ['hidden_types.Lazy=m.no_such_function()']);
        const note = r.findings.find((f) => f.rule === 'runtime-not-testable');
        assert.ok(note, JSON.stringify(r.findings));
        assert.match(note.message, /AttributeError[\s\S]*Traceback/);
        const missing = await verify(py.executable, ext.moduleName, ext.dir, ['hidden_types.Nothing=m.make_lazy()']);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /--factory hidden_types\.Nothing: hidden_types has no such type/);
      });
    });
  }
});

describe('an interpreter that cannot run the probe is a usage error, not a finding', { concurrency: true }, () => {
  const python27 = '/root/.pyenv/versions/2.7.18/bin/python';
  const cases: [string, RegExp][] = [
    [python27, /is Python 2\.7\.\d+; the probe needs Python 3\.9 or newer/],
    ['/bin/true', /is not a Python interpreter/],
    ['/bin/ls', /is not a Python interpreter/],
    ['/nonexistent/python3', /cannot run \/nonexistent\/python3/],
  ];
  for (const [python, expected] of cases) {
    it(python, { skip: !existsSync(python) && python === python27 ? 'no Python 2.7 here' : false }, async () => {
      const r = await verify(python, 'anything', tempDir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, expected);
      assert.equal(r.findings.length, 0);
      const check = await runProcess(process.execPath, [CLI_PATH, 'check', fromRoot('test', 'fixtures', 'e2e-verify', 'static_gc_good.c'),
        '--verify', '--module', 'static_gc_good', '--python', python, '--format', 'json'], { cwd: repoRoot(), timeoutMs: 60_000 });
      assert.equal(check.code, 2);
      assert.match(check.stderr, expected);
    });
  }
});
