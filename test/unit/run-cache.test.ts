// The run cache in the `--cache` folder: an unchanged tree checked again with the same options gets the stored
// result, the same in every output format (suppressions included); any change to a file, to the options or to
// the entry itself is a fresh analysis.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPaths } from '../../src/analyze.js';
import { noGc, runCli, withTree } from '../cli-run.js';

const PY = { major: 3, minor: 9 };

const SOURCE = noGc('Foo').replace('    .flags = Py_TPFLAGS_DEFAULT,', '    .flags = Py_TPFLAGS_DEFAULT, // NOLINT(capi-gc-gc-flag-missing, capi-gc-clear-missing)')
  + '\n// capi-gc: ignore[traverse-missing]\nint unrelated;\n';

const runEntries = (cache: string) => readdirSync(cache).filter((n) => n.startsWith('run-') && n.endsWith('.json'));

test('an unchanged tree checked again gets the stored result, identical in every format; a changed file is analysed again', async () => {
  await withTree({ 'a.c': SOURCE, 'b.c': noGc('Bar') }, async (dir) => {
    const cache = join(dir, 'cache');
    const first = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 });
    assert.equal(first.runCache, 'stored');
    assert.equal(runEntries(cache).length, 1);
    assert.ok(first.findings.length > 0);
    const second = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 });
    assert.equal(second.runCache, 'hit');
    assert.equal(second.model, undefined, 'nothing was linked');
    assert.equal(second.factsCache, undefined, 'no file was looked up');
    const { seconds: _a, runCache: _b, model: _c, factsCache: _d, ...firstRest } = first;
    const { seconds: _e, runCache: _f, model: _g, factsCache: _h, ...secondRest } = second;
    assert.deepEqual(secondRest, firstRest);
    // The comment a suppressed finding names is the same object as the one in the list (used/unused suppressions).
    assert.ok(second.suppressed!.length > 0);
    for (const s of second.suppressed!) assert.ok(second.suppressionComments!.includes(s.by));

    for (const args of [[], ['--format', 'json'], ['--format', 'sarif'], ['--format', 'github'], ['--report-unused-suppressions'], ['--verbose']]) {
      const plain = runCli(['check', '.', ...args], dir);
      const cached1 = runCli(['check', '.', '--cache', 'cli-cache', ...args], dir);
      const cached2 = runCli(['check', '.', '--cache', 'cli-cache', ...args], dir);
      const same = (s: string) => s.replace(/ in \d+\.\d+s/g, '').replace(/"seconds": [\d.]+/g, '').replace(/,?\s*"--cache",\s*"cli-cache"/g, '');
      assert.equal(same(cached2.stdout), same(plain.stdout), args.join(' '));
      assert.equal(same(cached2.stderr), same(plain.stderr), args.join(' '));
      assert.equal(cached2.code, plain.code);
      assert.equal(same(cached1.stdout), same(plain.stdout));
    }

    writeFileSync(join(dir, 'b.c'), readFileSync(join(dir, 'b.c'), 'utf8').replace('Py_TPFLAGS_DEFAULT', 'Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC'));
    const edited = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 });
    assert.equal(edited.runCache, 'stored');
    assert.deepEqual(edited.factsCache, { hits: 1, misses: 1, written: 1 }, 'only the edited file is prepared again');
    const fresh = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, jobs: 0 });
    assert.deepEqual(edited.findings, fresh.findings);
    assert.notDeepEqual(edited.findings, first.findings);
    assert.equal(runEntries(cache).length, 1, 'the entry of these options was replaced');
  });
});

test('other options are another entry; a corrupt entry is a miss; a run with a file not analysed is not stored', async () => {
  await withTree({ 'a.c': SOURCE }, async (dir) => {
    const cache = join(dir, 'cache');
    const all = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 });
    const one = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0, select: ['gc-flag-missing'] });
    assert.equal(one.runCache, 'stored');
    assert.equal(runEntries(cache).length, 2);
    assert.ok(one.findings.every((f) => f.rule === 'gc-flag-missing'));
    assert.equal((await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 })).runCache, 'hit');
    const defined = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0, defines: new Map([['X', '1']]) });
    assert.equal(defined.runCache, 'stored');
    for (const name of runEntries(cache)) writeFileSync(join(cache, name), '{"key": "not the key", "result": {}}');
    const afterCorruption = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0 });
    assert.equal(afterCorruption.runCache, 'stored');
    assert.deepEqual(afterCorruption.findings, all.findings);
    // With a model wanted (--verify), no stored result can stand in.
    const withModel = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 0, needsModel: true });
    assert.equal(withModel.runCache, undefined);
    assert.ok(withModel.model);
  });
  await withTree({ 'a.c': SOURCE }, async (dir) => {
    const cache = join(dir, 'cache');
    // A time budget too small for any file: the outcome of a time-out may differ next time.
    const r = await checkPaths(['.'], { cwd: dir, pythonVersion: PY, cacheDir: cache, jobs: 1, fileTimeoutSeconds: 0.001 });
    assert.ok(r.problems.some((p) => p.notAnalysed && p.file === 'a.c'), JSON.stringify(r.problems));
    assert.equal(r.runCache, 'not stored');
    assert.deepEqual(runEntries(cache), []);
  });
});
