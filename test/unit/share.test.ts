// Sharing equal leaves of the facts (src/model/share.ts) must leave them what they were (the same JSON) and must
// actually share (one object per distinct name).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';
import { prepareFile, type PrepareContext } from '../../src/pool/prepare.js';
import { macroEnvironmentFor } from '../../src/parse/preprocessor.js';
import { SharedExpressions } from '../../src/model/share.js';
import type { Expr, FileFacts } from '../../src/model/facts.js';
import { NO_TYPE_MACROS } from '../../src/parse/type-macros.js';

const CONTEXT: PrepareContext = { versions: [{ key: 309, env: macroEnvironmentFor({ major: 3, minor: 9 }) }], typeMacros: NO_TYPE_MACROS };

function fixtureFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) fixtureFiles(path, out);
    else if (/\.[ch]$/.test(name)) out.push(path);
  }
  return out;
}

const FILES = [...fixtureFiles(join(FIXTURES, 'rules')), ...fixtureFiles(join(FIXTURES, 'e2e-protocol'))];

/** Every name expression of the function bodies, as the objects they are. */
function names(facts: FileFacts): Expr[] {
  const out: Expr[] = [];
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    if (Array.isArray(e)) return e.forEach(walk);
    const x = e as Record<string, unknown>;
    if (x.k === 'name' && Object.keys(x).length === 2) out.push(x as Expr);
    for (const v of Object.values(x)) walk(v);
  };
  for (const fn of facts.functions) walk([fn.calls, fn.assignments, fn.returns, fn.returnSites]);
  return out;
}

test('shared facts are the same JSON, and every distinct name is one object', async () => {
  assert.ok(FILES.length > 50, `fixtures found: ${FILES.length}`);
  const shared = new SharedExpressions();
  let before = 0;
  const distinct = new Set<string>();
  const objects = new Set<Expr>();
  for (const file of FILES) {
    const prepared = await prepareFile(file, readFileSync(file, 'utf8'), CONTEXT);
    // Read back from JSON, as facts from a worker or the cache are: no object is shared to begin with.
    const facts = (JSON.parse(JSON.stringify(prepared)) as typeof prepared).facts;
    const json = JSON.stringify(facts);
    for (const f of facts) before += names(f).length;
    for (const f of facts) shared.shareFunctionBodies(f);
    assert.equal(JSON.stringify(facts), json, `${file}: the facts read the same after sharing`);
    for (const f of facts) for (const n of names(f)) {
      distinct.add((n as { name: string }).name);
      objects.add(n);
    }
  }
  assert.ok(before > 1000, `names seen: ${before}`);
  assert.equal(objects.size, distinct.size, 'one object per distinct name');
});

test('string literals whose spellings read the same without white space keep their own values', () => {
  const shared = new SharedExpressions();
  const call = (value: string, text: string) => ({ callee: { k: 'name', name: 'f' }, args: [{ k: 'literal', value, text }] });
  const file = (value: string, text: string) => ({ functions: [{ calls: [call(value, text)], assignments: [], returns: [], returnSites: [], params: [], locals: [] }] }) as unknown as FileFacts;
  const a = file('a b', '"ab"');
  const b = file('ab', '"ab"');
  shared.shareFunctionBodies(a);
  shared.shareFunctionBodies(b);
  const valueOf = (f: FileFacts) => (f.functions[0].calls[0].args[0] as { value: string }).value;
  assert.equal(valueOf(a), 'a b');
  assert.equal(valueOf(b), 'ab');
  assert.equal(a.functions[0].calls[0].callee, b.functions[0].calls[0].callee, 'the callee name is shared');
});
