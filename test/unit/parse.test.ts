import { test } from 'node:test';
import assert from 'node:assert/strict';
import { environmentsAgree, macroEnvironmentFor, preprocess } from '../../src/parse/preprocessor.js';
import { rewriteMacros, shimSource } from '../../src/parse/shim.js';

const env39 = macroEnvironmentFor({ major: 3, minor: 9 });

test('preprocessor keeps lengths and newlines', () => {
  const src = '#if PY_VERSION_HEX >= 0x030C0000\nA;\n#else\nB;\n#endif\nC;\n';
  const out = preprocess(src, env39).text;
  assert.equal(out.length, src.length);
  assert.equal(out.split('\n').length, src.split('\n').length);
  assert.match(out, /B;/);
  assert.doesNotMatch(out, /A;/);
  assert.match(out, /C;/);
});

test('version guards are evaluated for the target Python', () => {
  const src = '#if PY_VERSION_HEX >= 0x03090000\nVISIT;\n#endif\n';
  assert.match(preprocess(src, macroEnvironmentFor({ major: 3, minor: 9 })).text, /VISIT/);
  assert.doesNotMatch(preprocess(src, macroEnvironmentFor({ major: 3, minor: 8 })).text, /VISIT/);
});

test('elif chains, defined(), #ifndef, nested conditionals', () => {
  const src = [
    '#ifdef Py_GIL_DISABLED', 'A', '#elif defined(Py_LIMITED_API) || 0', 'B', '#else', 'C',
    '#  ifndef MS_WINDOWS', 'D', '#  endif', '#endif', '#if 0', 'E', '#endif', '',
  ].join('\n');
  const out = preprocess(src, env39).text;
  assert.deepEqual(out.split('\n').map((l) => l.trim()).filter(Boolean), ['C', 'D']);
});

test('unknown macros keep the first branch and are reported', () => {
  const src = '#ifdef HAVE_FOO\nA\n#else\nB\n#endif\n#if FOO_VERSION > 2\nC\n#endif\n';
  const r = preprocess(src, env39);
  assert.match(r.text, /A/);
  assert.doesNotMatch(r.text, /B/);
  assert.match(r.text, /C/);
  assert.deepEqual(r.unknownConditions.map((c) => c.macros), [['HAVE_FOO'], ['FOO_VERSION']]);
});

test('user defines override the defaults; local #define is honoured', () => {
  const src = '#define MY_GC 1\n#if MY_GC\nA\n#endif\n#ifdef Py_GIL_DISABLED\nB\n#endif\n';
  const r = preprocess(src, macroEnvironmentFor({ major: 3, minor: 13 }, new Map([['Py_GIL_DISABLED', '1']])));
  assert.match(r.text, /A/);
  assert.match(r.text, /B/);
});

test('directives continued over several lines are blanked whole', () => {
  const src = '#if defined(A) && \\\n    defined(B)\nX\n#endif\nY\n';
  const r = preprocess(src, { defined: new Map([['A', '1'], ['B', '1']]), undefined: new Set() });
  assert.equal(r.text.length, src.length);
  assert.match(r.text, /X/);
  assert.doesNotMatch(r.text, /defined/);
});

test('macro shim is length-preserving', () => {
  const cases = [
    'typedef struct { PyObject_HEAD PyObject *d; } X;',
    'typedef struct { PyObject_VAR_HEAD Py_hash_t h; } Y;',
    'static PyTypeObject T = { PyVarObject_HEAD_INIT(&PyType_Type, 0) "m.T", 0 };',
    'static PyTypeObject U = { PyVarObject_HEAD_INIT(NULL, 0), .tp_name = "m.U" };',
    'void f(void) { Py_BEGIN_ALLOW_THREADS x(); Py_END_ALLOW_THREADS }',
    'void g(PyObject *o) { Py_TRASHCAN_BEGIN(o, g) h(o); Py_TRASHCAN_END }',
    'static inline Py_ALWAYS_INLINE int fast(void) { return 1; }',
  ];
  for (const c of cases) assert.equal(rewriteMacros(c).length, c.length, c);
  assert.match(rewriteMacros(cases[2]), /\{&PyType_Type, 0\},\s+"m\.T"/);
  assert.match(rewriteMacros(cases[3]), /\{NULL, 0\}\s*, \.tp_name/);
});

test('shimSource keeps every offset of a realistic file', () => {
  const src = '#include <Python.h>\n#if PY_VERSION_HEX < 0x03090000\n#error old\n#endif\ntypedef struct {\n    PyObject_HEAD\n    PyObject *x;\n} O;\n';
  const out = shimSource(src, env39).text;
  assert.equal(out.length, src.length);
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') assert.equal(out[i], '\n');
});

test('the preprocessor says which environment macros it read; environments agreeing on them give the same text', () => {
  const env312 = macroEnvironmentFor({ major: 3, minor: 12 });
  const plain = preprocess('#define LOCAL 1\n#if LOCAL\nint a;\n#endif\n#ifdef Py_DEBUG\nint b;\n#endif\n', env39);
  assert.deepEqual([...plain.consulted].sort(), ['Py_DEBUG'], 'a macro the file defines itself is not read from the environment');
  assert.ok(environmentsAgree(env39, env312, plain.consulted));
  assert.equal(preprocess('#define LOCAL 1\n#if LOCAL\nint a;\n#endif\n#ifdef Py_DEBUG\nint b;\n#endif\n', env312).text, plain.text);
  const versioned = '#if PY_VERSION_HEX >= 0x030C0000\nint new_api;\n#else\nint old_api;\n#endif\n#undef PY_VERSION_HEX\n#ifdef PY_VERSION_HEX\nint never;\n#endif\n';
  const at39 = preprocess(versioned, env39);
  assert.deepEqual([...at39.consulted], ['PY_VERSION_HEX']);
  assert.equal(environmentsAgree(env39, env312, at39.consulted), false);
  assert.notEqual(preprocess(versioned, env312).text, at39.text);
  assert.doesNotMatch(at39.text, /never/, '#undef hides the environment from then on');
});

test('#if reads each macro once per condition: doubling definitions do not take exponential time', { timeout: 120_000 }, () => {
  const defs = ['#define M0 1', ...Array.from({ length: 22 }, (_, k) => `#define M${k + 1} (M${k}+M${k})`)];
  const src = `${defs.join('\n')}\n#if M22 > 1000\nint kept;\n#else\nint dropped;\n#endif\n#if M22 && UNKNOWN_FLAG\nint maybe;\n#endif\n`;
  const started = performance.now();
  const r = preprocess(src, macroEnvironmentFor({ major: 3, minor: 9 }));
  // Without the memo, 2^22 reads per condition: seconds; with it, 23.
  assert.ok(performance.now() - started < 1000, `finished in ${Math.round(performance.now() - started)} ms`);
  assert.match(r.text, /int kept;/);
  assert.doesNotMatch(r.text, /int dropped;/);
  assert.deepEqual(r.unknownConditions.map((c) => c.macros), [['UNKNOWN_FLAG']]);
});
