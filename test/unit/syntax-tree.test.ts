// SyntaxTree, the extractor's copy of a parsed tree, answers every question exactly as web-tree-sitter's Node API
// does: type, text, indices, positions, children, named children, fields, parent, siblings, MISSING nodes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { differences } from '../syntax-compare.js';

test('the copy of a tree answers as web-tree-sitter does, non-ASCII text (2- and 4-byte UTF-8, UTF-16 surrogate pairs) and CRLF included', async () => {
  const text = [
    '/* café — naïve 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 */',
    'static const char *s = "é😀\\n" "ß";\r',
    'typedef struct { PyObject_HEAD PyObject *x; /* 😀 */ int y; } FooObject;',
    'static PyObject *f(PyObject *self, PyObject *a) { if (a->x == NULL && !g("😀", &a)) return NULL; int z = a->y ? 1 : 2; for (int i = 0; i < 3; i++) h(i); return PyLong_FromLong(z); }',
    'static PyType_Slot slots[] = {{Py_tp_dealloc, f}, {0, NULL}};',
  ].join('\n');
  assert.deepEqual(await differences(text, 20), []);
});

test('the copy answers as web-tree-sitter does on broken code (ERROR and MISSING nodes)', async () => {
  const text = 'int f( { return x +; }\nstatic struct { int a } b = {1, ;\n#define X(a) (a +\nint g(void) { if (x { y(); } }\n';
  assert.deepEqual(await differences(text, 20), []);
});

test('the copy answers as web-tree-sitter does on every C fixture of the repository', async () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.[ch]$/.test(name)) files.push(path);
    }
  };
  walk(join(REPO_ROOT, 'test', 'fixtures'));
  assert.ok(files.length > 10);
  for (const file of files) assert.deepEqual(await differences(readFileSync(file, 'utf8')), [], file);
});
