// Runs the built CLI as a user would, in a folder of their own.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './helpers.js';

export const CLI = join(REPO_ROOT, 'dist', 'capi-gc.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no colour or CI variables from the machine running the tests, unless given. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'CI', 'GITHUB_ACTIONS', 'TERM']) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], cwd: string, options: { input?: string; env?: Record<string, string | undefined> } = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', input: options.input ?? '', env: cleanEnv(options.env), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary folder with the given files (paths may have folders); removed after `body`. */
export async function withTree(files: Record<string, string>, body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'capi-gc-fit-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of the example extension as `src/` of a fresh project folder. */
export async function withExampleProject(body: (dir: string) => void | Promise<void>): Promise<void> {
  await withTree({ 'pyproject.toml': '[project]\nname = "leaky"\nrequires-python = ">=3.9"\n' }, async (dir) => {
    cpSync(join(REPO_ROOT, 'examples', 'leaky', 'leakymodule.c'), join(dir, 'src', 'leakymodule.c'), { recursive: true });
    await body(dir);
  });
}

/** A heap type without Py_TPFLAGS_HAVE_GC: one gc-flag-missing error at line 7, column 14. */
export const NO_GC = `
typedef struct { PyObject_HEAD PyObject *x; } FooObject;
static PyType_Slot foo_slots[] = { {0, NULL} };
static PyType_Spec foo_spec = {
    .name = "m.Foo",
    .basicsize = sizeof(FooObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = foo_slots,
};
`;

export function noGc(name: string): string {
  return NO_GC.replace(/Foo/g, name).replace(/foo/g, name.toLowerCase());
}
