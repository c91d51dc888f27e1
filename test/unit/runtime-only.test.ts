// check --verify: which run-time findings no static finding predicted ("found at run time only").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeInSource, runtimeOnlyFindings, FOUND_AT_RUN_TIME_ONLY, type SourcePlaces } from '../../src/runtime/findings.js';
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

function places(...typeNames: (string | null)[]): SourcePlaces {
  return {
    types: typeNames.map((name, i) => ({
      name, file: 'src/mod.c', line: 40 + i, column: 1,
      struct: { file: 'src/mod.h', members: [{ name: 'a', line: 7, column: 5 }, { name: 'b', line: 8, column: 15 }] },
    })),
    modules: [{ name: 'mod', def: { file: 'src/mod.c', line: 90, column: 8 } }],
  };
}

test('found at run time only points at the member declaration in the C source, not at line 1 of the built module', () => {
  const only = runtimeOnlyFindings([], report(pairType(false)), 'build/mod.so');
  assert.equal(only[0].file, 'build/mod.so');
  const [placed] = placeInSource(only, places('mod.Pair', 'mod.Other'));
  assert.deepEqual([placed.file, placed.line, placed.column], ['src/mod.h', 8, 15]);
  assert.equal(placed.rule, only[0].rule);
  assert.equal(placed.message, only[0].message);
});

test('a run-time finding on a type without a member points at the type; a module-level one at its PyModuleDef', () => {
  const typeLevel = { ...runtimeOnlyFindings([], report(pairType(false)), 'build/mod.so')[0], member: null };
  const [onType] = placeInSource([typeLevel], places('Other', 'Pair'));
  assert.deepEqual([onType.file, onType.line], ['src/mod.c', 41]);
  const [onModule] = placeInSource([{ ...typeLevel, type: null, module: 'mod' }], places());
  assert.deepEqual([onModule.file, onModule.line, onModule.column], ['src/mod.c', 90, 8]);
});

test('a type the sources name twice, or not at all, keeps the built module as its place: no guess', () => {
  const only = runtimeOnlyFindings([], report(pairType(false)), 'build/mod.so');
  assert.equal(placeInSource(only, places('Pair', 'mod.Pair'))[0].file, 'build/mod.so');
  assert.equal(placeInSource(only, places('other.Pair'))[0].file, 'build/mod.so');
});
