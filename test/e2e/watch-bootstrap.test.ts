// The watch bootstrap (src/runtime/bootstrap/sitecustomize.py, issue 12) on every CPython 3.9+ found: it adds no
// module the program would not have but gc, atexit and the built-in faulthandler, chains the user's own sitecustomize and leaves sys.path
// without its directory, never writes to stdout, keeps the exit code, and writes one record per process.
// Without an interpreter these tests skip with one loud line, unless CAPI_GC_REQUIRE_PYTHON=1.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTempDir, pythonEnv, removeTempDir } from './build.js';
import { requireOrSkip } from './pythons.js';
import { fromRoot, runProcess } from './repo.js';

const BOOTSTRAP = fromRoot('src', 'runtime', 'bootstrap');
const toolchain = requireOrSkip();
const dirs: string[] = [];
after(() => dirs.forEach(removeTempDir));

const MODULES = 'import sys, json; sys.stderr.write(json.dumps(sorted(sys.modules)) + "\\n")';

for (const py of toolchain.pythons) {
  describe(`watch bootstrap on CPython ${py.fullVersion}`, () => {
    it('imports only gc, atexit and faulthandler besides the program, keeps stdout and the exit code, writes a record', async () => {
      const dir = makeTempDir('watch-boot');
      dirs.push(dir);
      const code = `${MODULES}; print("hello from the program"); sys.exit(7)`;
      const plain = await runProcess(py.executable, ['-c', code], { env: pythonEnv() });
      const watched = await runProcess(py.executable, ['-c', code], {
        env: pythonEnv({ PYTHONPATH: BOOTSTRAP, CAPI_GC_WATCH_DIR: path.join(dir, 'out') }),
      });
      assert.equal(watched.stdout, plain.stdout);
      assert.equal(watched.code, 7);
      const before = new Set(JSON.parse(plain.stderr.trim().split('\n')[0]!) as string[]);
      const added = (JSON.parse(watched.stderr.trim().split('\n')[0]!) as string[]).filter((m) => !before.has(m));
      assert.deepEqual(added.sort(), ['atexit', 'faulthandler', 'gc', 'sitecustomize'].filter((m) => !before.has(m)).sort());
      const records = readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.json'));
      assert.equal(records.length, 1);
      const record = JSON.parse(readFileSync(path.join(dir, 'out', records[0]!), 'utf8')) as { collect_rounds: number[]; python: string };
      assert.ok(record.python.startsWith(py.version + '.'));
      assert.equal(record.collect_rounds.at(-1), 0, 'collected to a fixed point');
    });

    it("chains the user's sitecustomize and removes its own directory from sys.path", async () => {
      const dir = makeTempDir('watch-chain');
      dirs.push(dir);
      const user = path.join(dir, 'user');
      mkdirSync(user);
      writeFileSync(path.join(user, 'sitecustomize.py'), 'import os\nos.environ["CAPI_GC_TEST_USER_SC"] = "ran"\n');
      const code = 'import os, sys, sitecustomize; print(os.environ.get("CAPI_GC_TEST_USER_SC"), sitecustomize.__file__, any("bootstrap" in p for p in sys.path))';
      const r = await runProcess(py.executable, ['-c', code], {
        env: pythonEnv({ PYTHONPATH: `${BOOTSTRAP}${path.delimiter}${user}`, CAPI_GC_WATCH_DIR: path.join(dir, 'out') }),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `ran ${path.join(user, 'sitecustomize.py')} False`);
    });
  });
}
