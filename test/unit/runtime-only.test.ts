// check --verify: which run-time findings no static finding predicted ("found at run time only").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOnlyFindings, FOUND_AT_RUN_TIME_ONLY } from '../../src/runtime/findings.js';
import type { RuntimeReport, RuntimeType } from '../../src/runtime/verify.js';
import type { Finding } from '../../src/rules/rule.js';

function pairType(memberVisited: boolean): RuntimeType {
  return {
    name: 'mod.Pair', qualname: 'Pair', heap: true, gc: true, immutable: false, managedDict: false,
    instance: { ok: true, via: 'call', error: null }, tracked: true, typeInReferents: true, refcountDelta: null,
    selfCycleCollected: null, collectInDealloc: null, memberVisits: [{ via: 'b', value: memberVisited }],
    factoryError: null, lazy: false, crash: null,
  };
}

function report(t: RuntimeType): RuntimeReport {
  return {
    python: '3.12.1', module: 'mod', file: '/x/mod.so', multiPhase: true, importError: null, types: [t], fresh: [],
    freshCrash: null, problem: null, interpreterProblem: null, unknownFactories: [], factoryErrors: [],
  };
}

function staticFinding(rule: string, type: string): Finding {
  return {
    rule, severity: 'error', message: 'm', file: 'mod.c', line: 10, column: 1, type, typeKind: 'heap', spec: null,
    function: null, member: 'b', module: 'mod',
  } as Finding;
}

test('a member visit the interpreter shows missing, with no static finding, is found at run time only', () => {
  const only = runtimeOnlyFindings([], report(pairType(false)), 'mod.so');
  assert.deepEqual(only.map((f) => [f.rule, f.member, f.runtime?.verdict]), [['traverse-member-not-visited', 'b', FOUND_AT_RUN_TIME_ONLY]]);
});

test('a static finding of the same rule on the same type (named without the module) predicts it', () => {
  assert.deepEqual(runtimeOnlyFindings([staticFinding('traverse-member-not-visited', 'Pair')], report(pairType(false)), 'mod.so'), []);
});

test('a static finding of another rule on another type predicts nothing', () => {
  const only = runtimeOnlyFindings([staticFinding('clear-missing', 'Other')], report(pairType(false)), 'mod.so');
  assert.equal(only.length, 1);
});

test('a clean run adds nothing', () => {
  assert.deepEqual(runtimeOnlyFindings([], report(pairType(true)), 'mod.so'), []);
});
