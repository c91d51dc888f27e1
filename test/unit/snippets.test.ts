// The README's integration snippets, run as a user would copy them: each `<!-- snippet-test: NAME -->` block is
// executed (shell lines with `capi-gc` on PATH) or checked against the files it refers to (the workflow against
// action.yml, whose check step is run; the pre-commit config against .pre-commit-hooks.yaml, whose hook is run).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../helpers.js';
import { CLI, cleanEnv, withExampleProject } from '../cli-run.js';
import { validateSarif } from '../sarif-validate.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

function snippet(name: string): { lang: string; code: string } {
  const m = new RegExp(`<!-- snippet-test: ${name} -->\\s*\\n\`\`\`(\\w*)\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  assert.ok(m, `README has a snippet "${name}"`);
  return { lang: m[1], code: m[2] };
}

/** A folder holding a `capi-gc` command that runs the built CLI: what `npm install -g` puts on PATH. */
const BIN = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-bin-'));
  writeFileSync(join(dir, 'capi-gc'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(dir, 'capi-gc'), 0o755);
  return dir;
})();

interface LineRun { command: string; code: number | null; stdout: string; stderr: string }

function runShellLines(code: string, cwd: string): LineRun[] {
  const out: LineRun[] = [];
  for (const raw of code.split('\n')) {
    const command = raw.replace(/\s+#.*$/, '').trim();
    if (!command || command.startsWith('#')) continue;
    const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', env: { ...cleanEnv(), PATH: `${BIN}${delimiter}${process.env.PATH}` }, timeout: 120_000 });
    out.push({ command, code: r.status, stdout: r.stdout, stderr: r.stderr });
  }
  return out;
}

test('README snippet: SARIF for code scanning', async () => {
  const { lang, code } = snippet('sarif');
  assert.equal(lang, 'sh');
  await withExampleProject((dir) => {
    const [run] = runShellLines(code, dir);
    assert.equal(run.code, 1, run.stderr);
    const doc = validateSarif(readFileSync(join(dir, 'capi-gc.sarif'), 'utf8'));
    assert.equal(doc.runs[0].results.length, 4);
  });
});

test('README snippet: GitHub annotations', async () => {
  await withExampleProject((dir) => {
    const [run] = runShellLines(snippet('github').code, dir);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.match(/^::error file=src\/leakymodule\.c,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=capi-gc [a-z-]+::/gm)?.length, 4);
  });
});

test('README snippet: baselines', async () => {
  await withExampleProject((dir) => {
    const runs = runShellLines(snippet('baseline').code, dir);
    assert.deepEqual(runs.map((r) => r.code), [0, 0, 0], runs.map((r) => r.stderr).join('\n'));
    assert.ok(existsSync(join(dir, 'capi-gc-baseline.json')));
    assert.match(runs[1].stderr, /4 known finding\(s\) not shown; 0 new/);
  });
});

test('README snippet: unused suppressions', async () => {
  await withExampleProject((dir) => {
    const file = join(dir, 'src', 'leakymodule.c');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n// capi-gc: ignore[clear-missing]\nstatic int unused_marker;\n');
    const [run] = runShellLines(snippet('unused-suppressions').code, dir);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /capi-gc: ignore\[clear-missing\] suppresses nothing here; remove it \[unused-suppression\]/);
  });
});

test('README snippet: an editor pipes a buffer with --stdin-filename', async () => {
  await withExampleProject((dir) => {
    const [run] = runShellLines(snippet('stdin').code, dir);
    assert.equal(run.code, 1);
    assert.equal(run.stdout.trimEnd().split('\n').length, 4);
    assert.match(run.stdout, /^src\/leakymodule\.c:80:14: error:/m);
  });
});

test('README snippet: the workflow uses action.yml, whose check step runs and writes valid SARIF', async () => {
  const { lang, code } = snippet('workflow');
  assert.equal(lang, 'yaml');
  const workflow = parseYaml(code);
  const steps = workflow.jobs['capi-gc'].steps as { uses?: string; with?: Record<string, string> }[];
  assert.equal(workflow.jobs['capi-gc'].permissions['security-events'], 'write');
  const step = steps.find((s) => s.uses === './tools/capi-gc');
  assert.ok(step, 'the workflow uses the action from the copy of capi-gc in the repository');
  // The copy is checked out before it is used (a local action must be in the workspace).
  assert.ok(steps.findIndex((s) => s.uses?.startsWith('actions/checkout@')) < steps.indexOf(step));
  const action = parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8'));
  assert.equal(action.runs.using, 'composite');
  for (const key of Object.keys(step.with ?? {})) assert.ok(key in action.inputs, `input ${key} is declared by action.yml`);
  const upload = action.runs.steps.find((s: { uses?: string }) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
  assert.ok(upload, 'the action uploads SARIF');
  const check = action.runs.steps.find((s: { id?: string }) => s.id === 'check');
  const fail = action.runs.steps.find((s: { name?: string }) => s.name === 'Fail on findings');
  await withExampleProject((dir) => {
    const outputs = join(dir, 'github-output');
    writeFileSync(outputs, '');
    const env = {
      ...cleanEnv(), GITHUB_ACTION_PATH: REPO_ROOT, GITHUB_OUTPUT: outputs,
      CAPI_GC_PATHS: step.with!.paths, CAPI_GC_ARGS: step.with!.args, CAPI_GC_SARIF: action.inputs['sarif-file'].default,
    };
    const r = spawnSync('bash', ['-c', check.run], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/^::error file=src\/leakymodule\.c,/gm)?.length, 4);
    assert.match(readFileSync(outputs, 'utf8'), /^exit-code=1$/m);
    validateSarif(readFileSync(join(dir, 'capi-gc.sarif'), 'utf8'));
    const failRun = (exit: string, failOn: string) => spawnSync('bash', ['-c', fail.run], {
      encoding: 'utf8', env: { ...cleanEnv(), CAPI_GC_EXIT: exit, CAPI_GC_FAIL_ON_FINDINGS: failOn },
    }).status;
    assert.equal(failRun('1', 'true'), 1);
    assert.equal(failRun('1', 'false'), 0);
    assert.equal(failRun('2', 'false'), 2, 'input not analysed always fails');
  });
});

test('README snippet: pre-commit config names the hook of .pre-commit-hooks.yaml, which runs on C files', async () => {
  const config = parseYaml(snippet('pre-commit').code);
  const hookRef = config.repos[0].hooks[0];
  const hooks = parseYaml(readFileSync(join(REPO_ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Record<string, any>[];
  const hook = hooks.find((h) => h.id === hookRef.id);
  assert.ok(hook, `hook ${hookRef.id} exists`);
  assert.equal(hook.id, 'capi-gc');
  assert.equal(hook.language, 'node');
  const files = new RegExp(hook.files);
  for (const f of ['src/a.c', 'include/b.h']) assert.ok(files.test(f), f);
  for (const f of ['src/a.cpp', 'b.hpp', 'setup.py', 'a.c.orig']) assert.ok(!files.test(f), f);
  // What pre-commit runs: entry + args (no file names: pass_filenames is false).
  assert.equal(hook.pass_filenames, false);
  await withExampleProject((dir) => {
    const command = [hook.entry, ...hook.args].join(' ');
    let [run] = runShellLines(command, dir);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, '', '--quiet: the findings only');
    assert.equal(run.stdout.trimEnd().split('\n').length, 4);
    rmSync(join(dir, 'src'), { recursive: true });
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'fine.c'), 'int fine;\n');
    [run] = runShellLines(command, dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });
});
