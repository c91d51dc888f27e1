import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePaths } from '../../src/analyze.js';

const GOOD = `
typedef struct { PyObject_HEAD } FooObject;
static PyType_Slot foo_slots[] = { {0, NULL} };
static PyType_Spec foo_spec = { "m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT, foo_slots };
`;

function workspace(): string {
  return mkdtempSync(join(tmpdir(), 'capi-gc-bad-'));
}

test('missing paths, empty folders, binary, huge, invalid UTF-8 and unparseable files never stop the run', async () => {
  const dir = workspace();
  try {
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'good.c'), GOOD);
    writeFileSync(join(dir, 'binary.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]));
    writeFileSync(join(dir, 'latin1.c'), Buffer.concat([Buffer.from('/* caf'), Buffer.from([0xe9]), Buffer.from(' */\n' + GOOD.replace(/foo/g, 'bar').replace('m.Foo', 'm.Bar'))]));
    writeFileSync(join(dir, 'garbage.c'), '}}}} int (((( ;;; static PyType_Spec = {{{{ \n'.repeat(50));
    writeFileSync(join(dir, 'huge.h'), 'static const int table[] = {\n' + '1, 2, 3, 4, 5, 6, 7, 8,\n'.repeat(250_000) + '};\n');
    const result = await analyzePaths([join(dir, 'empty'), join(dir, 'nope.c'), dir], {
      cwd: dir, pythonVersion: { major: 3, minor: 9 },
    });
    const messages = result.problems.map((p) => `${p.file}: ${p.message}`).join('\n');
    assert.match(messages, /nope\.c: no such file or directory/);
    assert.match(messages, /empty: no \.c or \.h files found/);
    assert.match(messages, /binary\.c: skipped: binary file/);
    assert.match(messages, /latin1\.c: not valid UTF-8/);
    assert.match(messages, /huge\.h: skipped: .*MB/);
    // The good files were still analysed: both types lack HAVE_GC.
    const flagged = result.findings.filter((f) => f.rule === 'gc-flag-missing').map((f) => f.type).sort();
    assert.deepEqual(flagged, ['m.Bar', 'm.Foo']);
    assert.ok(result.unparsed.includes('binary.c'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('symlink loops are followed once and .gitignore is honoured', async () => {
  const dir = workspace();
  try {
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'generated'));
    writeFileSync(join(dir, 'src', 'a.c'), GOOD);
    writeFileSync(join(dir, 'generated', 'b.c'), GOOD.replace(/foo/g, 'bar'));
    writeFileSync(join(dir, '.gitignore'), 'generated/\n');
    symlinkSync(dir, join(dir, 'src', 'loop'));
    const result = await analyzePaths([dir], { cwd: dir, pythonVersion: { major: 3, minor: 9 } });
    assert.equal(result.filesAnalysed, 1);
    assert.deepEqual(result.findings.map((f) => f.file), ['src/a.c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
