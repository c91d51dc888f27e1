// Installable outside a clone: `npm pack` the project, install the tarball into an empty folder (and globally, into
// a prefix of its own) from the registry as a user would, and run the installed `capi-gc` on examples/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { cleanEnv } from '../cli-run.js';
import { snapshotRepository } from './git-install.js';

const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

function sh(cmd: string, args: string[], cwd: string, timeout = 600_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: cleanEnv() });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

test('npm pack → npm install <tarball> in an empty folder → the installed capi-gc checks examples/', { timeout: 900_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'capi-gc-install-'));
  try {
    // dist/ was built by `npm test`; --ignore-scripts skips the second build `prepare` would do.
    const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work], REPO_ROOT);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(work, `capi-gc-${VERSION}.tgz`);
    assert.ok(readdirSync(work).includes(`capi-gc-${VERSION}.tgz`), `npm pack wrote ${tarball}: ${readdirSync(work)}`);
    const list = sh('tar', ['tzf', tarball], work).stdout.split('\n');
    for (const f of ['package/dist/capi-gc.mjs', 'package/dist/src/cli/main.js', 'package/docs/rules/gc-flag-missing.md', 'package/src/runtime/probe.py', 'package/package.json']) {
      assert.ok(list.includes(f), `the tarball has ${f}`);
    }
    assert.ok(!list.some((f) => f.startsWith('package/dist/test/') || f.startsWith('package/test/')), 'no tests in the tarball');
    const project = join(work, 'project');
    const made = sh('mkdir', ['-p', project], work);
    assert.equal(made.code, 0);
    writeFileSync(join(project, 'package.json'), '{"name": "user-project", "version": "1.0.0", "private": true}\n');
    const install = sh('npm', ['install', '--no-audit', '--no-fund', tarball], project);
    if (install.code !== 0) assert.fail(`npm install ${tarball} failed:\n${install.stderr.slice(-3000)}`);
    const bin = join(project, 'node_modules', '.bin', 'capi-gc');
    const run = sh(bin, ['check', join(REPO_ROOT, 'examples'), '--format', 'json'], project, 120_000);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).findings.length, 4);
    const doc = sh(bin, ['rules', 'gc-flag-missing'], project, 60_000);
    assert.match(doc.stdout, /^# gc-flag-missing/, 'the rule pages are installed');
    const version = sh(bin, ['--version'], project, 60_000);
    assert.equal(version.stdout.trim(), `capi-gc ${VERSION}`);
    // The README's install snippet: npm install -g <tarball> (into a prefix of our own, not the machine's).
    const prefix = join(work, 'global');
    const global = sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], work);
    assert.equal(global.code, 0, global.stderr.slice(-3000));
    const globalRun = sh(join(prefix, 'bin', 'capi-gc'), ['check', join(REPO_ROOT, 'examples'), '--quiet', '--format', 'github'], work, 120_000);
    assert.equal(globalRun.code, 1, globalRun.stderr);
    assert.equal(globalRun.stdout.trimEnd().split('\n').length, 4);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    assert.ok(readme.includes(`npm install -g ./capi-gc-${VERSION}.tgz`), 'the README names the tarball npm pack writes');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('npm install -g --install-links git+file://<repository> builds capi-gc without its devDependencies installed (npm/cli#8440), as pre-commit 4.6.1+ installs a hook', { timeout: 900_000 }, () => {
  const repo = snapshotRepository();
  const prefix = mkdtempSync(join(tmpdir(), 'capi-gc-git-global-'));
  try {
    const install = sh('npm', ['install', '-g', '--install-links', '--prefix', prefix, '--no-audit', '--no-fund', `git+file://${repo}`], tmpdir());
    assert.equal(install.code, 0, install.stderr.slice(-3000));
    const run = sh(join(prefix, 'bin', 'capi-gc'), ['check', join(REPO_ROOT, 'examples'), '--quiet', '--format', 'json'], tmpdir(), 120_000);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).findings.length, 4);
    const installed = join(prefix, 'lib', 'node_modules', 'capi-gc');
    assert.ok(!readdirSync(installed).includes('test'), 'the package, not the clone, is installed');
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(prefix, { recursive: true, force: true });
  }
});
