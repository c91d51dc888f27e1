// Hostile input: what a tree of broken, odd or malicious files gets. Every good file is still analysed, each bad
// one gets one plain line, nothing inside a comment is analysed, and the exit code says when input was skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePaths, analyzeSources } from '../../src/analyze.js';
import { ExtractPool, type PrepareOutcome } from '../../src/pool/pool.js';
import type { PrepareContext } from '../../src/pool/prepare.js';
import { macroEnvironmentFor } from '../../src/parse/preprocessor.js';
import { NO_TYPE_MACROS } from '../../src/parse/type-macros.js';
import { mergeChunkFacts, splitTopLevel } from '../../src/pool/chunks.js';
import { withTree } from '../../src/parse/parser.js';
import { extractFacts } from '../../src/model/extract/extract.js';
import { REPO_ROOT } from '../helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'capi-gc.mjs');

/** What the analysis hands the pool: Python 3.9, no project macros declaring types. */
const CONTEXT: PrepareContext = { versions: [{ key: 309, env: macroEnvironmentFor({ major: 3, minor: 9 }) }], typeMacros: NO_TYPE_MACROS };

/** A heap type with one defect (no Py_TPFLAGS_HAVE_GC), its spec on line `4 + padding`. */
function leakyType(name: string, padding = 0): string {
  return [
    '#include <Python.h>',
    ...Array.from({ length: padding }, () => ''),
    `typedef struct { PyObject_HEAD PyObject *item; } ${name}Object;`,
    `static PyType_Slot ${name}_slots[] = { {0, NULL} };`,
    `static PyType_Spec ${name}_spec = { "m.${name}", sizeof(${name}Object), 0, Py_TPFLAGS_DEFAULT, ${name}_slots };`,
    `static int ${name}_init(PyObject *m) { return PyType_FromSpec(&${name}_spec) ? 0 : -1; }`,
    '',
  ].join('\n');
}

function workspace(): string {
  return mkdtempSync(join(tmpdir(), 'capi-gc-hostile-'));
}

function cli(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('a worker that dies on a file is replaced, the file is reported once in plain words, the others are analysed', async () => {
  // A 16 MB heap cannot hold the facts of this file: the worker runs out of memory, as a pathological file would.
  const pool = new ExtractPool({ jobs: 1, workerHeapMb: 16 });
  try {
    const big = Array.from({ length: 60_000 }, (_, i) => `static int f${i}(int x) { return g(x, ${i}); }`).join('\n');
    const outcomes = await pool.prepareAll(CONTEXT, [
      { file: 'first.c', text: leakyType('First') },
      { file: 'big.c', text: big },
      { file: 'after.c', text: leakyType('After') },
    ]);
    assert.equal(outcomes[0].ok, true);
    assert.equal(outcomes[1].ok, false);
    if (!outcomes[1].ok) {
      assert.doesNotMatch(outcomes[1].reason, /at |\.js:|Error:/, 'no stack text in the reason');
      assert.match(outcomes[1].reason, /memory|parser/);
    }
    assert.equal(outcomes[2].ok, true, 'the next file gets a fresh worker');
    if (outcomes[2].ok) assert.deepEqual(outcomes[2].prepared.facts[0]!.specs.map((s) => s.cName), ['After_spec']);
  } finally {
    await pool.close();
  }
});

test('a file that takes longer than its time budget is stopped and reported; the run goes on', async () => {
  const pool = new ExtractPool({ jobs: 1, fileTimeoutSeconds: 0.05 });
  try {
    const slow = Array.from({ length: 40_000 }, (_, i) => `static int f${i}(void) { return ${i}; }`).join('\n');
    const [a, b] = await pool.prepareAll(CONTEXT, [{ file: 'slow.c', text: slow }, { file: 'ok.c', text: leakyType('Ok') }]);
    assert.equal(a.ok, false);
    if (!a.ok) assert.match(a.reason, /longer than/);
    // The budget applies to each file: this one is small enough to finish within a fresh, generous pool.
    const fresh = new ExtractPool({ jobs: 1 });
    try {
      assert.equal((await fresh.prepareAll(CONTEXT, [{ file: 'ok.c', text: leakyType('Ok') }]))[0]!.ok, true);
    } finally {
      await fresh.close();
    }
    assert.ok(b !== undefined);
  } finally {
    await pool.close();
  }
});

test('a huge file is parsed in top-level pieces with the same facts and positions as whole', async () => {
  const text = [leakyType('Alpha'), '/* a { comment } that "spans"', 'lines */', leakyType('Beta', 3), 'static const char *s = "{";',
    // A string continued over lines: its lines still count.
    'static const char *doc = "first line \\', 'second line \\', 'third line";', leakyType('Gamma')].join('\n');
  const whole = await withTree(text, (t) => extractFacts('x.c', t.rootNode, text));
  const chunks = splitTopLevel(text, 64);
  assert.ok(chunks.length > 3, 'split into several pieces');
  const parts = [];
  for (const c of chunks) parts.push(await withTree(c.text, (t) => extractFacts('x.c', t.rootNode, c.text)));
  const merged = mergeChunkFacts(parts, chunks.map((c) => c.text.length - c.startLine));
  assert.deepEqual(merged.specs, whole.specs);
  assert.deepEqual(merged.functions, whole.functions);
  assert.deepEqual(merged.structs, whole.structs);
});

test('a file over the chunking size still gets its finding at the right line', async () => {
  const filler = Array.from({ length: 90_000 }, (_, i) => `static int f${i}(int x) { return x + ${i}; }`).join('\n');
  const text = `${filler}\n${leakyType('Late')}`;
  assert.ok(text.length > 2 * 1024 * 1024);
  const r = await analyzeSources([{ file: 'late.c', text }], { cwd: REPO_ROOT, pythonVersion: { major: 3, minor: 9 }, select: ['gc-flag-missing'], jobs: 1 });
  assert.deepEqual(r.findings.map((f) => `${f.rule}:${f.line}`), [`gc-flag-missing:${90_000 + 4}`]);
});

test('UTF-8 with BOM, UTF-16 LE/BE with BOM, CRLF, lone CR and NUL bytes all give the right line and column', async () => {
  const dir = workspace();
  try {
    const src = leakyType('T', 2); // the spec is on line 6
    writeFileSync(join(dir, 'bom8.c'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(src)]));
    writeFileSync(join(dir, 'utf16le.c'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(src, 'utf16le')]));
    writeFileSync(join(dir, 'utf16be.c'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(src, 'utf16le').swap16()]));
    writeFileSync(join(dir, 'crlf.c'), src.replace(/\n/g, '\r\n'));
    writeFileSync(join(dir, 'cr.c'), src.replace(/\n/g, '\r'));
    writeFileSync(join(dir, 'nul.c'), src.replace('#include <Python.h>', '#include <Python.h> /*\0*/'));
    writeFileSync(join(dir, 'plain.c'), src);
    const r = await analyzePaths([dir], { cwd: dir, pythonVersion: { major: 3, minor: 9 }, select: ['gc-flag-missing'] });
    const got = r.findings.map((f) => `${f.file}:${f.line}:${f.column}`).sort();
    const plain = got.find((g) => g.startsWith('plain.c:'))!.slice('plain.c'.length);
    assert.match(plain, /^:6:\d+$/);
    assert.deepEqual(got, ['bom8.c', 'cr.c', 'crlf.c', 'nul.c', 'plain.c', 'utf16be.c', 'utf16le.c'].map((f) => f + plain));
    assert.equal(r.problems.filter((p) => p.notAnalysed).length, 0);
    const decoded = r.problems.filter((p) => p.encoding).map((p) => p.file).sort();
    assert.deepEqual(decoded, ['nul.c', 'utf16be.c', 'utf16le.c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing inside an unterminated comment is analysed; unbalanced #if/#else get a note', async () => {
  const r = await analyzeSources([
    { file: 'open_comment.c', text: `${leakyType('Seen')}\n/* never closed\n${leakyType('Hidden')}` },
    { file: 'no_endif.c', text: `#if PY_VERSION_HEX >= 0x03090000\n${leakyType('Inside')}` },
    { file: 'two_else.c', text: `#ifdef Py_DEBUG\nint a;\n#else\nint b;\n#else\n${leakyType('Never')}#endif\n` },
  ], { cwd: REPO_ROOT, pythonVersion: { major: 3, minor: 9 }, select: ['gc-flag-missing'] });
  assert.deepEqual(r.findings.map((f) => f.type).sort(), ['m.Inside', 'm.Seen']);
  const notes = r.problems.map((p) => `${p.file}: ${p.message}`);
  assert.ok(notes.some((n) => /^open_comment\.c: line 7: unterminated \/\* comment/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /^no_endif\.c: line 1: this #if has no #endif/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /^two_else\.c: line 5: a second #else/.test(n)), notes.join('\n'));
});

test('input that was not analysed makes the exit code 2, unless --keep-going; the summary names it', () => {
  const dir = workspace();
  try {
    writeFileSync(join(dir, 'good.c'), leakyType('Good'));
    writeFileSync(join(dir, 'blob.c'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)));
    const strict = cli(['check', '.'], dir);
    assert.equal(strict.code, 2);
    assert.match(strict.stdout, /good\.c:\d+:\d+: error: .*\[gc-flag-missing\]/);
    assert.match(strict.stderr, /blob\.c: skipped: binary file/);
    assert.match(strict.stderr, /1 input\(s\) NOT analysed: blob\.c/);
    assert.equal(cli(['check', '.', '--keep-going'], dir).code, 1);
    assert.equal(cli(['check', 'good.c'], dir).code, 1);
    assert.equal(cli(['check', 'good.c', 'missing.c', '--keep-going'], dir).code, 2, 'a path that does not exist is a usage error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file name with a newline cannot forge a finding line in the text output', () => {
  const dir = workspace();
  try {
    writeFileSync(join(dir, 'a.c\nfake.c:1:1: error: forged.c'), leakyType('Real'));
    const r = cli(['check', '.'], dir);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^a\.c\\nfake\.c:1:1: error: forged\.c:\d+:\d+: error: heap type m\.Real/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configuration is validated: TOML float versions, out-of-range versions, macro names, misspelt rule ids', () => {
  const dir = workspace();
  try {
    writeFileSync(join(dir, 'good.c'), leakyType('Good'));
    const withConfig = (toml: string, args: string[] = []) => {
      writeFileSync(join(dir, 'pyproject.toml'), toml);
      return cli(['check', '.', ...args], dir);
    };
    let r = withConfig('[tool.capi-gc]\npython-version = 3.10\n');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /python-version = 3\.10 is a TOML number.*python-version = "3\.10"/);
    for (const bad of ['"3.1"', '"2.7"', '"3.99"', '"three"']) {
      r = withConfig(`[tool.capi-gc]\npython-version = ${bad}\n`);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /python-version must/, bad);
    }
    r = withConfig('[tool.capi-gc]\nselect = ["gc-flag-mising"]\n');
    assert.match(r.stderr, /unknown rule "gc-flag-mising" \(did you mean "gc-flag-missing"\?\)/);
    writeFileSync(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
    assert.match(cli(['check', '.', '--select', 'travers-missing'], dir).stderr, /did you mean "traverse-missing"/);
    assert.match(cli(['check', '.', '--define', '=3'], dir).stderr, /--define needs a macro name/);
    assert.equal(cli(['check', '.', '--python-version', '3.5'], dir).code, 2);
    assert.equal(cli(['check', '.', '--select', 'runtime-leak'], dir).code, 0, 'run-time rule ids are rule ids');
    writeFileSync(join(dir, 'sup.c'), `// capi-gc: ignore[gc-flag-mising]\n${leakyType('Sup')}`);
    assert.match(cli(['check', 'sup.c'], dir).stderr, /sup\.c: line 1: .*unknown rule "gc-flag-mising" \(did you mean "gc-flag-missing"\?\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setup.cfg python_requires and a literal python_requires= in setup.py give the oldest version', () => {
  const dir = workspace();
  try {
    mkdirSync(join(dir, 'src'));
    // A type that is right for 3.12+ only: the 3.9 reading has a traverse that never visits the type.
    writeFileSync(join(dir, 'src', 'm.c'), [
      '#include <Python.h>',
      'typedef struct { PyObject_HEAD PyObject *x; } FooObject;',
      'static int foo_traverse(FooObject *self, visitproc visit, void *arg) {',
      '#if PY_VERSION_HEX >= 0x030C0000',
      '    Py_VISIT(Py_TYPE(self));',
      '#endif',
      '    Py_VISIT(self->x);',
      '    return 0;',
      '}',
      'static PyType_Slot foo_slots[] = { {Py_tp_traverse, foo_traverse}, {0, NULL} };',
      'static PyType_Spec foo_spec = { "m.Foo", sizeof(FooObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, foo_slots };',
      'static int init(PyObject *m) { return PyType_FromSpec(&foo_spec) ? 0 : -1; }',
      '',
    ].join('\n'));
    const rules = ['--select', 'traverse-type-not-visited'];
    writeFileSync(join(dir, 'setup.cfg'), '[metadata]\nname = m\n[options]\npython_requires = >=3.12\n');
    assert.equal(cli(['check', 'src', ...rules], dir).code, 0);
    rmSync(join(dir, 'setup.cfg'));
    writeFileSync(join(dir, 'setup.py'), 'from setuptools import setup\nsetup(name="m", python_requires=">=3.9")\n');
    assert.equal(cli(['check', 'src', ...rules], dir).code, 1);
    writeFileSync(join(dir, 'setup.py'), 'from setuptools import setup\nsetup(name="m", python_requires=\'>=3.12\')\n');
    assert.equal(cli(['check', 'src', ...rules], dir).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same input gives byte-identical output whatever the number of workers', () => {
  const runs = ['0', '1', '2'].map((jobs) => execFileSync(process.execPath, [CLI, 'check', 'test/fixtures/rules', '--format', 'json', '--jobs', jobs, '--exit-zero'], { cwd: REPO_ROOT, encoding: 'utf8' }));
  const findings = runs.map((r) => JSON.stringify(JSON.parse(r).findings));
  assert.ok(JSON.parse(runs[0]).findings.length > 20);
  assert.equal(findings[1], findings[0]);
  assert.equal(findings[2], findings[0]);
});

test('this thread prepares the small files beside the workers: the same facts, and the same time budget per file', async () => {
  const { readdirSync, readFileSync: read } = await import('node:fs');
  const dir = join(REPO_ROOT, 'test', 'fixtures', 'rules');
  const inputs: { file: string; text: string }[] = [];
  for (const rule of readdirSync(dir).sort()) {
    for (const name of readdirSync(join(dir, rule)).sort()) if (/\.[ch]$/.test(name)) inputs.push({ file: `${rule}/${name}`, text: read(join(dir, rule, name), 'utf8') });
  }
  // One large file too, for the worker, so both lanes have work.
  inputs.push({ file: 'large.c', text: Array.from({ length: 12_000 }, (_, i) => `static int g${i}(void) { return ${i}; }`).join('\n') });
  const alone = new ExtractPool({ jobs: 1 });
  const beside = new ExtractPool({ jobs: 1, mainLane: true });
  try {
    const a = await alone.prepareAll(CONTEXT, inputs);
    const b = await beside.prepareAll(CONTEXT, inputs);
    assert.ok(a.every((o) => o.ok));
    const facts = (outcomes: readonly PrepareOutcome[]) => outcomes.map((o) => (o.ok ? JSON.stringify(o.prepared) : o.reason));
    assert.deepEqual(facts(b), facts(a));
  } finally {
    await alone.close();
    await beside.close();
  }
  // A file this thread parses is given up at its budget like a worker's, and the next file still parses.
  const strict = new ExtractPool({ jobs: 1, mainLane: true, fileTimeoutSeconds: 0.001 });
  try {
    const slow = Array.from({ length: 5_000 }, (_, i) => `static int f${i}(void) { return ${i}; }`).join('\n');
    assert.ok(slow.length < 256 * 1024, 'small enough for this thread');
    // The worker takes the largest file first, this thread the smallest: slow.c is this thread's.
    const [, late] = await strict.prepareAll(CONTEXT, [inputs[inputs.length - 1], { file: 'slow.c', text: slow }]);
    assert.equal(late.ok, false);
    if (!late.ok) assert.match(late.reason, /longer than 0\.001 s/);
  } finally {
    await strict.close();
  }
  const { prepareFile } = await import('../../src/pool/prepare.js');
  const after = await prepareFile('ok.c', leakyType('Ok'), CONTEXT);
  assert.equal(after.facts[0].specs.length, 1, 'a parse after a cancelled one starts afresh');
});

test('facts prepared in this thread arrive as a worker\'s do: `each` gets their JSON text, the outcomes kept do not', async () => {
  const { createExtractor } = await import('../../src/pool/extractor.js');
  const inputs = [{ file: 'a.c', text: leakyType('A') }, { file: 'b.c', text: leakyType('B', 3) }];
  for (const [how, extractor] of [
    ['in this thread', createExtractor({ jobs: 0 }, inputs.map((i) => i.text.length))],
    ['in the lane beside a worker', new ExtractPool({ jobs: 1, mainLane: true })],
  ] as const) {
    const seen: { index: number; json: string | undefined; prepared: string }[] = [];
    try {
      const outcomes = await extractor.prepareAll(CONTEXT, inputs, (index, o) => {
        if (o.ok) seen.push({ index, json: o.json, prepared: JSON.stringify(o.prepared) });
      });
      assert.deepEqual(seen.map((s) => s.index).sort(), [0, 1], how);
      for (const s of seen) {
        assert.equal(typeof s.json, 'string', `${how}: the JSON text the cache writes`);
        assert.equal(s.json, s.prepared, `${how}: the facts are the JSON text read back`);
      }
      assert.ok(outcomes.every((o) => o.ok && o.json === undefined), `${how}: no JSON text is kept`);
      assert.equal(outcomes[1]!.ok && outcomes[1]!.prepared.facts[0].specs[0].line, 7, how);
    } finally {
      await extractor.close();
    }
  }
});
