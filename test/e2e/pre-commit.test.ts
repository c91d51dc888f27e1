// The pre-commit hook, run by the real pre-commit (when it is installed: `pip install pre-commit`) on a fresh
// extension project, as a user's `.pre-commit-config.yaml` names it: pre-commit clones this repository, installs
// the hook with npm (language: node) and runs it when a C file is committed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { cleanEnv, NO_GC } from '../cli-run.js';
import { git, snapshotRepository } from './git-install.js';

const version = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' });
const skip = version.status === 0 ? false : 'pre-commit is not installed (pip install pre-commit)';

test('pre-commit installs the capi-gc hook from this repository and runs it on a commit of C files', { skip, timeout: 900_000 }, () => {
  const repo = snapshotRepository();
  const project = mkdtempSync(join(tmpdir(), 'capi-gc-precommit-user-'));
  const home = mkdtempSync(join(tmpdir(), 'capi-gc-precommit-home-'));
  try {
    const rev = git(['rev-parse', 'HEAD'], repo).stdout.trim();
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "spam"\nrequires-python = ">=3.10"\n');
    writeFileSync(join(project, 'src', 'spam.c'), NO_GC);
    writeFileSync(join(project, 'setup.py'), 'print("not C")\n');
    // The README's snippet, with this repository's snapshot for the GitHub URL.
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const snippet = /<!-- snippet-test: pre-commit -->\s*\n```yaml\n([\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(snippet, 'the README has the pre-commit snippet');
    const config = snippet.replace(/repo: \S+/, `repo: ${repo}`).replace(/rev: \S+/, `rev: ${rev}`);
    assert.notEqual(config, snippet);
    writeFileSync(join(project, '.pre-commit-config.yaml'), config + '\n');
    for (const args of [['init', '-q', '-b', 'main'], ['add', '-A']]) assert.equal(git(args, project).code, 0);
    const env = cleanEnv({ PRE_COMMIT_HOME: home, PRE_COMMIT_COLOR: 'never' });
    const run = (args: string[]) => spawnSync('pre-commit', args, { cwd: project, encoding: 'utf8', env, timeout: 600_000 });
    let r = run(['run', '--all-files']);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 1, out);
    assert.match(r.stdout, /capi-gc \(CPython C-extension GC protocol\)\.+Failed/, out);
    assert.match(r.stdout, /src\/spam\.c:7:14: error: heap type m\.Foo lacks Py_TPFLAGS_HAVE_GC/, out);
    // As a git hook: a commit of a Python file alone does not run it; one with the defect fixed passes.
    assert.equal(run(['install']).status, 0);
    let c = git(['commit', '-q', '-m', 'python only', '--', 'setup.py', 'pyproject.toml', '.pre-commit-config.yaml'], project, env);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout + c.stderr, /capi-gc.*\(no files to check\)Skipped/);
    c = git(['commit', '-q', '-m', 'the defect'], project, env);
    assert.notEqual(c.code, 0, 'the hook stops the commit of the defect');
    assert.match(c.stdout + c.stderr, /lacks Py_TPFLAGS_HAVE_GC/);
    writeFileSync(join(project, 'src', 'spam.c'), 'static int fine;\n');
    assert.equal(git(['add', '-A'], project).code, 0);
    c = git(['commit', '-q', '-m', 'fixed'], project, env);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout + c.stderr, /capi-gc \(CPython C-extension GC protocol\)\.+Passed/);
  } finally {
    for (const d of [repo, project, home]) rmSync(d, { recursive: true, force: true });
  }
});
