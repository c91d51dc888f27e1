import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText } from '../helpers.js';
import { parseExpressionText } from '../../src/model/extract/text.js';
import { calleeName, memberChain, render, sameExpr, slotOf, typeOfObject } from '../../src/model/expr.js';
import { memberPath } from '../../src/model/protocol.js';

const fnFacts = async (body: string) => {
  const r = await analyzeText(`static int f(PyObject *op, visitproc visit, void *arg) {\n${body}\n}\n`);
  return r.model.files[0].functions[0];
};

test('lowering drops casts and parentheses and keeps structure', async () => {
  const fn = await fnFacts('Py_VISIT(((FooObject *)op)->a.b[i]); Py_TYPE(op)->tp_free(op); return 0;');
  const [visit, free] = fn.calls;
  assert.equal(calleeName(visit.callee), 'Py_VISIT');
  assert.equal(render(visit.args[0]), 'op->a.b[i]');
  assert.equal(memberPath(visit.args[0]), 'a.b');
  assert.deepEqual(memberChain(visit.args[0]).steps.map((s) => s.k), ['arrow', 'dot', 'index']);
  const slot = slotOf(free.callee);
  assert.equal(slot?.slot, 'tp_free');
  assert.equal(typeOfObject(slot!.type)?.via, 'Py_TYPE');
  assert.deepEqual(fn.returns, [{ k: 'literal', value: 0, text: '0' }]);
});

test('destinations, guards and facts are plain JSON', async () => {
  const fn = await fnFacts('PyObject *t = PyType_GetSlot(tp, Py_tp_traverse); if (op == NULL) return 0; st->x = f(op); return g(op);');
  assert.equal(slotOf(fn.assignments[0].value)?.via, 'PyType_GetSlot');
  const assigned = fn.calls.find((c) => calleeName(c.callee) === 'f')!;
  assert.equal(render(assigned.assignedTo), 'st->x');
  assert.equal(fn.calls.find((c) => calleeName(c.callee) === 'g')!.returned, true);
  const guarded = fn.returnSites.find((r) => r.guard);
  assert.equal(guarded?.guard?.k, 'binary');
  assert.deepEqual(JSON.parse(JSON.stringify(fn)), fn);
});

test('macro text lowers to the same form as parsed code', async () => {
  const fn = await fnFacts('Py_VISIT((PyObject *)&self->x);');
  assert.ok(sameExpr(parseExpressionText('Py_VISIT((PyObject *)&self->x)'), { k: 'call', callee: fn.calls[0].callee, args: fn.calls[0].args }));
  assert.deepEqual(parseExpressionText('(Py_TPFLAGS_DEFAULT | \\\n Py_TPFLAGS_HAVE_GC)'), {
    k: 'binary', op: '|', left: { k: 'name', name: 'Py_TPFLAGS_DEFAULT' }, right: { k: 'name', name: 'Py_TPFLAGS_HAVE_GC' },
  });
  assert.deepEqual(parseExpressionText('MODULE ".Foo"'), { k: 'concat', parts: [{ k: 'name', name: 'MODULE' }, { k: 'literal', value: '.Foo', text: '".Foo"' }] });
  assert.equal(parseExpressionText('do { x = 1; } while (0)').k, 'other');
  assert.equal(parseExpressionText('('.repeat(5000) + 'x' + ')'.repeat(5000)).k, 'other');
});
