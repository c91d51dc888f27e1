// `--cache DIR`: a second run on an unchanged tree reuses every file's facts, gives the same findings, re-extracts
// only what changed, and shrugs off a corrupt entry or a folder it cannot create.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyzePaths } from '../../src/analyze.js';
import { fromRoot } from '../e2e/repo.js';

const PY = { major: 3, minor: 9 };

function project(): { dir: string; cache: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-cache-'));
  const fixtures = fromRoot('test', 'fixtures', 'rules', 'traverse-member-not-visited');
  for (const name of ['forgotten_member.c', 'typed_members.c', 'visit_calls.c']) cpSync(join(fixtures, name), join(dir, 'src', name));
  return { dir, cache: join(dir, '.capi-gc-cache'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const summary = (r: Awaited<ReturnType<typeof analyzePaths>>) => r.findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.member ?? ''}`);

test('a second run on an unchanged tree takes every file from the cache and finds the same', async () => {
  const p = project();
  try {
    const first = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    // One entry per file, holding its facts for every Python version of the run.
    const n = first.factsCache!.misses;
    assert.ok(n >= 3, `${n}`);
    assert.deepEqual(first.factsCache, { hits: 0, misses: n, written: n });
    assert.equal(readdirSync(p.cache).filter((x) => x.endsWith('.json')).length, n);
    assert.match(readFileSync(join(p.cache, '.gitignore'), 'utf8'), /^\*$/m, 'the cache ignores itself in git');
    assert.ok(first.findings.length > 0);
    const second = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    assert.deepEqual(second.factsCache, { hits: n, misses: 0, written: 0 });
    assert.deepEqual(summary(second), summary(first));
    assert.deepEqual(second.findings, first.findings);
    const uncached = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, jobs: 0 });
    assert.equal(uncached.factsCache, undefined);
    assert.deepEqual(uncached.findings, first.findings);
  } finally {
    p.done();
  }
});

test('an edited file is extracted again; another Python version or --define is another entry', async () => {
  const p = project();
  try {
    const n = (await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 })).factsCache!.written;
    const file = join(p.dir, 'src', 'forgotten_member.c');
    // Fixing the defect must show: stale facts would keep reporting it.
    const before = await analyzePaths(['src/forgotten_member.c'], { cwd: p.dir, pythonVersion: PY, jobs: 0 });
    assert.ok(before.findings.length > 0);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\/\/ expect[^\n]*/g, '') + '\n/* edited */\n');
    const edited = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    const changed = edited.factsCache!.misses;
    assert.equal(changed, 1);
    assert.deepEqual(edited.factsCache, { hits: n - changed, misses: changed, written: changed });
    const fresh = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, jobs: 0 });
    assert.deepEqual(edited.findings, fresh.findings);
    // The key is the text as read with the preprocessor's configuration: a --define or --undefine is another entry
    // for every file (the file is prepared again, as it must be if the option changes its text), and the entries of
    // the first configuration stay.
    writeFileSync(join(p.dir, 'src', 'flag.c'), '#ifdef CAPI_GC_TEST_FLAG\nstatic int flagged;\n#endif\nstatic int always;\n');
    const plain = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    assert.equal(plain.factsCache!.hits, n);
    const total = n + 1;
    const defines = new Map([['CAPI_GC_TEST_FLAG', '1']]);
    const defined = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0, defines });
    assert.deepEqual(defined.factsCache, { hits: 0, misses: total, written: total });
    const undefined_ = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0, undefines: new Set(['CAPI_GC_TEST_FLAG']) });
    assert.deepEqual(undefined_.factsCache, { hits: 0, misses: total, written: total });
    const back = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0, defines });
    assert.deepEqual(back.factsCache, { hits: total, misses: 0, written: 0 });
    const freshDefined = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, jobs: 0, defines });
    assert.deepEqual(back.findings, freshDefined.findings);
    const newer = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: { major: 3, minor: 12 }, cacheDir: p.cache, jobs: 0 });
    assert.deepEqual(newer.factsCache, { hits: 0, misses: total, written: total });
  } finally {
    p.done();
  }
});

test('a corrupt or truncated entry is a miss, rewritten; the findings do not change', async () => {
  const p = project();
  try {
    const first = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    const entries = readdirSync(p.cache).filter((n) => n.endsWith('.json')).sort();
    const n = first.factsCache!.written;
    assert.equal(entries.length, n);
    writeFileSync(join(p.cache, entries[0]), '{"key": "not the key", "facts": {}}');
    writeFileSync(join(p.cache, entries[1]), readFileSync(join(p.cache, entries[1]), 'utf8').slice(0, 40));
    const second = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    assert.deepEqual(second.factsCache, { hits: n - 2, misses: 2, written: 2 });
    assert.deepEqual(second.findings, first.findings);
    assert.deepEqual(readdirSync(p.cache).filter((n) => n.endsWith('.tmp')), [], 'no temporary file is left');
    const third = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: p.cache, jobs: 0 });
    assert.deepEqual(third.factsCache, { hits: n, misses: 0, written: 0 });
  } finally {
    p.done();
  }
});

test('a cache folder that cannot be created is said once; the check runs without it', async () => {
  const p = project();
  try {
    writeFileSync(join(p.dir, 'a-file'), 'not a folder');
    const r = await analyzePaths(['src'], { cwd: p.dir, pythonVersion: PY, cacheDir: join(p.dir, 'a-file', 'cache'), jobs: 0 });
    assert.equal(r.factsCache, undefined);
    assert.equal(r.problems.filter((x) => /cache directory .* cannot be created .*analysing without a cache/.test(x.message)).length, 1);
    assert.ok(r.findings.length > 0);
  } finally {
    p.done();
  }
});

test('CLI: cache-dir in [tool.capi-gc] is relative to its pyproject.toml; --no-cache wins; --cache needs a name', () => {
  const p = project();
  try {
    writeFileSync(join(p.dir, 'pyproject.toml'), '[tool.capi-gc]\ncache-dir = ".cache/capi-gc"\n');
    const cli = fromRoot('dist', 'capi-gc.mjs');
    const run = (args: string[]) => spawnSync(process.execPath, [cli, 'check', ...args], { cwd: join(p.dir, 'src'), encoding: 'utf8' });
    const noCache = run(['.', '--no-cache', '--exit-zero']);
    assert.equal(noCache.status, 0, noCache.stderr);
    assert.throws(() => readdirSync(join(p.dir, '.cache', 'capi-gc')));
    const cached = run(['.', '--exit-zero']);
    assert.equal(cached.status, 0, cached.stderr);
    assert.ok(readdirSync(join(p.dir, '.cache', 'capi-gc')).filter((n) => n.endsWith('.json')).length >= 3);
    assert.equal(run(['.', '--cache=']).status, 2);
    writeFileSync(join(p.dir, 'pyproject.toml'), '[tool.capi-gc]\ncache-dir = 3\n');
    const bad = run(['.']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /cache-dir must be a folder name/);
  } finally {
    p.done();
  }
});
