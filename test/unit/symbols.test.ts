import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSources, type SourceInput } from '../../src/analyze.js';
import { REPO_ROOT } from '../helpers.js';

const V39 = { major: 3, minor: 9 };
const MEMBER_RULE = ['traverse-member-not-visited'];

function analyze(sources: SourceInput[], select = MEMBER_RULE) {
  return analyzeSources(sources, { cwd: REPO_ROOT, pythonVersion: V39, select });
}

/** A GC heap type `m.<name>` holding `a` and `b`, whose traverse hands the object to `helper`. */
function typeDelegatingTo(name: string, helper: string, header = ''): string {
  return `${header}#include <Python.h>
typedef struct { PyObject_HEAD PyObject *a; PyObject *b; } ${name}Object;
static int ${name}_traverse(${name}Object *self, visitproc visit, void *arg) { return ${helper}(self, visit, arg); }
static PyType_Slot ${name}_slots[] = {{Py_tp_traverse, ${name}_traverse}, {0, NULL}};
static PyType_Spec ${name}_spec = { .name = "m.${name}", .basicsize = sizeof(${name}Object),
  .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, .slots = ${name}_slots };
`;
}

test('a static helper with the same name in two .c files resolves in each translation unit', async () => {
  const r = await analyze([
    { file: 'a.c', text: typeDelegatingTo('A', 'visit_members') + 'static int visit_members(AObject *self, visitproc visit, void *arg) { Py_VISIT(self->a); Py_VISIT(self->b); return 0; }\n' },
    { file: 'b.c', text: typeDelegatingTo('B', 'visit_members') + 'static int visit_members(BObject *self, visitproc visit, void *arg) { Py_VISIT(self->a); return 0; }\n' },
  ]);
  assert.equal(r.model.symbols.function('visit_members', 'a.c')?.file, 'a.c');
  assert.equal(r.model.symbols.function('visit_members', 'b.c')?.file, 'b.c');
  // Only B's helper misses a member; a lookup that crossed units would blame A too, or miss B.
  assert.deepEqual(r.findings.map((f) => `${f.type}:${f.member}`), ['m.B:b']);
});

test('a static function in a header is the one each .c file including it sees', async () => {
  const header = 'static int visit_ab(PyObject *op, visitproc visit, void *arg);\n';
  const helpers = '#include <Python.h>\ntypedef struct { PyObject_HEAD PyObject *a; PyObject *b; } ABObject;\n'
    + 'static int visit_ab(ABObject *self, visitproc visit, void *arg) { Py_VISIT(self->a); Py_VISIT(self->b); return 0; }\n';
  const r = await analyze([
    { file: 'ext/include/helpers.h', text: helpers + header },
    { file: 'ext/a.c', text: typeDelegatingTo('A', 'visit_ab', '#include "include/helpers.h"\n') },
    { file: 'ext/b.c', text: typeDelegatingTo('B', 'visit_ab', '#include "include/helpers.h"\n') },
    // A third unit with its own static visit_ab keeps it: the header's is not visible there.
    { file: 'ext/c.c', text: typeDelegatingTo('C', 'visit_ab') + 'static int visit_ab(CObject *self, visitproc visit, void *arg) { return 0; }\n' },
  ]);
  assert.equal(r.model.symbols.function('visit_ab', 'ext/a.c')?.file, 'ext/include/helpers.h');
  assert.equal(r.model.symbols.function('visit_ab', 'ext/b.c')?.file, 'ext/include/helpers.h');
  assert.equal(r.model.symbols.function('visit_ab', 'ext/c.c')?.file, 'ext/c.c');
  assert.deepEqual(r.findings.map((f) => `${f.type}:${f.member}`).sort(), ['m.C:a', 'm.C:b']);
});

test('an extern function defined in one file is used from another; a static of the same name elsewhere is not it', async () => {
  const r = await analyze([
    { file: 'util.c', text: '#include <Python.h>\ntypedef struct { PyObject_HEAD PyObject *a; PyObject *b; } AObject;\nint shared_visit(AObject *self, visitproc visit, void *arg) { Py_VISIT(self->a); Py_VISIT(self->b); return 0; }\n' },
    { file: 'a.c', text: typeDelegatingTo('A', 'shared_visit') },
    { file: 'other.c', text: '#include <Python.h>\nstatic int shared_visit(PyObject *self, visitproc visit, void *arg) { return 0; }\n' },
  ]);
  assert.equal(r.model.symbols.function('shared_visit', 'a.c')?.file, 'util.c');
  assert.equal(r.model.symbols.function('shared_visit', 'other.c')?.file, 'other.c');
  assert.deepEqual(r.findings, []);
});

test('two extern definitions of one name in different files are unknown, said once, and give no finding', async () => {
  const impl = (visits: string) => `#include <Python.h>\ntypedef struct { PyObject_HEAD PyObject *a; PyObject *b; } AObject;\nint platform_visit(AObject *self, visitproc visit, void *arg) { ${visits} return 0; }\n`;
  const r = await analyze([
    { file: 'a.c', text: typeDelegatingTo('A', 'platform_visit') },
    { file: 'a2.c', text: typeDelegatingTo('A2', 'platform_visit') },
    { file: 'impl_posix.c', text: impl('Py_VISIT(self->a); Py_VISIT(self->b);') },
    { file: 'impl_windows.c', text: impl('Py_VISIT(self->a);') },
  ]);
  assert.equal(r.model.symbols.function('platform_visit', 'a.c'), null);
  // Each file still sees its own definition.
  assert.equal(r.model.symbols.function('platform_visit', 'impl_windows.c')?.file, 'impl_windows.c');
  assert.deepEqual(r.findings, []);
  const said = r.uncertainties.filter((u) => u.message.startsWith('platform_visit is defined in impl_posix.c, impl_windows.c'));
  assert.equal(said.length, 1, JSON.stringify(r.uncertainties));
});

test('includes resolve relative to the including file first, then by path suffix', async () => {
  const struct = (members: string) => `typedef struct { PyObject_HEAD ${members} } NodeObject;\n`;
  const r = await analyze([
    { file: 'pkg/src/node.c', text: `#include "../include/defs.h"
#include "common/util.h"
static int node_traverse(NodeObject *self, visitproc visit, void *arg) { Py_VISIT(self->x); return 0; }
static PyType_Slot node_slots[] = {{Py_tp_traverse, node_traverse}, {0, NULL}};
static PyType_Spec node_spec = { .name = "m.N", .basicsize = sizeof(NodeObject),
  .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, .slots = node_slots };
` },
    { file: 'pkg/include/defs.h', text: struct('PyObject *x;') },
    // Same name, another folder: not the file `../include/defs.h` names from pkg/src.
    { file: 'pkg/src/include/defs.h', text: struct('PyObject *x; PyObject *y;') },
    { file: 'vendor/lib/common/util.h', text: '#define UTIL 1\n' },
  ]);
  assert.deepEqual(r.model.symbols.includes('pkg/src/node.c'), ['pkg/include/defs.h', 'vendor/lib/common/util.h']);
  const t = r.model.types.find((x) => x.name === 'm.N')!;
  assert.equal(t.struct?.file, 'pkg/include/defs.h');
  assert.deepEqual(r.findings, []);
});
