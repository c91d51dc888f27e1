// expansionMayCall: the cheap test that decides whether a macro call is worth expanding. It must never say no where
// the expansion would make the call (a cycle between macros, a pasted name, a target passed as an argument).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expansionMayCall } from '../../src/model/macros.js';
import type { Expr, MacroFact } from '../../src/model/facts.js';

function table(defs: Record<string, [string[] | null, string]>): { macros: Map<string, MacroFact[]> } {
  const macros = new Map<string, MacroFact[]>();
  for (const [name, [params, body]] of Object.entries(defs)) macros.set(name, [{ file: 'm.h', name, params, body, value: null, line: 1 }]);
  return { macros };
}

const isAlloc = (id: string) => id === 'PyObject_GC_New';
const name = (n: string): Expr => ({ k: 'name', name: n });

test('a macro reaching an allocator through other macros, in a cycle, is expanded whichever is asked first', () => {
  const t = table({
    A: [['x'], 'B(x) + PyObject_GC_New(T, x)'],
    B: [['y'], 'A(y)'],
    C: [['z'], 'D(z)'],
    D: [['w'], 'C(w) + free(w)'],
  });
  const memo = new Map<string, boolean>();
  assert.equal(expansionMayCall('B', [name('v')], t, isAlloc, memo), true, 'B reaches the allocator only through A, which is in progress');
  assert.equal(expansionMayCall('A', [name('v')], t, isAlloc, memo), true);
  assert.equal(expansionMayCall('C', [name('v')], t, isAlloc, memo), false, 'a cycle that never allocates');
  assert.equal(expansionMayCall('D', [name('v')], t, isAlloc, memo), false);
});

test('a pasted name, or an allocator or allocating macro among the arguments, may make the call', () => {
  const t = table({
    PASTE: [['kind'], 'PyObject_##kind##_New(T, &T_Type)'],
    APPLY: [['f', 'x'], 'f(x)'],
    NEWGC: [['x'], 'PyObject_GC_New(T, x)'],
    PLAIN: [['x'], 'plain(x)'],
    OBJ: [null, 'PyObject_GC_New'],
  });
  const memo = new Map<string, boolean>();
  assert.equal(expansionMayCall('PASTE', [name('GC')], t, isAlloc, memo), true);
  assert.equal(expansionMayCall('APPLY', [name('PyObject_GC_New'), name('x')], t, isAlloc, memo), true);
  assert.equal(expansionMayCall('APPLY', [{ k: 'call', callee: name('NEWGC'), args: [name('x')] }], t, isAlloc, memo), true);
  assert.equal(expansionMayCall('APPLY', [name('free'), name('x')], t, isAlloc, memo), false);
  assert.equal(expansionMayCall('PLAIN', [{ k: 'other', text: 'a?b:c', names: ['a', 'b', 'c'] }], t, isAlloc, memo), false);
  assert.equal(expansionMayCall('PLAIN', [{ k: 'member', object: name('s'), field: 'PyObject_GC_New', arrow: true }], t, isAlloc, memo), true);
});
