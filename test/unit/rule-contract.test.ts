// Every rule keeps the contract: metadata, message templates, a fix title, its file and its documentation page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_RULES, KNOWN_RULES, findRule } from '../../src/rules/index.js';
import { formatMessage, placeholders } from '../../src/rules/rule.js';
import { REPO_ROOT } from '../helpers.js';

for (const rule of KNOWN_RULES) {
  test(`rule ${rule.id} declares its metadata, messages and fix title`, () => {
    assert.match(rule.id, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(existsSync(join(REPO_ROOT, 'src', 'rules', `${rule.id}.ts`)), 'src/rules/<id>.ts');
    assert.ok(existsSync(join(REPO_ROOT, 'docs', 'rules', `${rule.id}.md`)), 'docs/rules/<id>.md');
    assert.ok(rule.summary.length > 0);
    assert.ok(rule.fixTitle.trim().length > 0, 'fixTitle');
    const ids = Object.keys(rule.messages);
    assert.ok(ids.length > 0, 'messages');
    for (const id of ids) {
      const template = rule.messages[id];
      assert.ok(template.trim().length > 0, `message ${id}`);
      assert.doesNotMatch(template.replace(/\{\{\s*\w+\s*\}\}/g, ''), /\{\{|\}\}/, `message ${id} has only well-formed placeholders`);
      const data = Object.fromEntries(placeholders(template).map((p) => [p, `<${p}>`]));
      assert.doesNotMatch(formatMessage(rule, id, data), /\{\{/);
    }
  });
}

test('static rules and run-time-only rules are all known by id', () => {
  assert.equal(new Set(KNOWN_RULES.map((r) => r.id)).size, KNOWN_RULES.length, 'ids are unique');
  for (const r of ALL_RULES) assert.equal(typeof r.check, 'function');
  assert.equal(findRule('runtime-leak')?.id, 'runtime-leak');
  assert.equal(findRule('runtime-crash')?.id, 'runtime-crash');
  assert.equal(findRule('no-such-rule'), undefined);
});

test('a report with an unknown message id or a missing placeholder is a bug that throws', () => {
  const rule = findRule('traverse-missing')!;
  assert.equal(
    formatMessage(rule, 'missing', { kind: 'heap type', type: 'm.T' }),
    'heap type m.T has Py_TPFLAGS_HAVE_GC but no tp_traverse: PyType_Ready raises SystemError at import since Python 3.11, and the collector crashes calling a NULL traverse before',
  );
  assert.throws(() => formatMessage(rule, 'nope', {}), /has no message "nope"/);
  assert.throws(() => formatMessage(rule, 'missing', { kind: 'heap type' }), /no value for \{\{type\}\}/);
  // Values are not templates themselves.
  assert.match(formatMessage(rule, 'missing', { kind: 'heap type', type: '{{kind}}' }), /^heap type \{\{kind\}\} has/);
});
