// End to end: each fixture extension in test/fixtures/e2e/ is compiled for every CPython found (3.9+),
// imported, and probed (test/e2e/probe.py); the GC-protocol defect the interpreter shows is read off those
// facts, and must equal both the fixture's declared defect and what `capi-gc check <fixture>` reports.
//
// Without gcc or CPython headers these tests skip with one loud line, unless CAPI_GC_REQUIRE_PYTHON=1.
// CAPI_GC_E2E_PYTHONS=3.12 limits the interpreters used.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  compileExtension,
  describeProbe,
  fact,
  makeTempDir,
  removeTempDir,
  runProbe,
  type ProbeResult,
} from './build.js';
import { runCapiGc, type CliRun } from './cli.js';
import { expectationKeys, findingKeys, readExpectations } from '../expectations.js';
import { requireOrSkip, type PythonInstall } from './pythons.js';
import { fromRoot } from './repo.js';

type RuleId =
  | 'gc-flag-missing'
  | 'traverse-missing'
  | 'traverse-type-not-visited'
  | 'instances-not-tracked'
  | 'gc-alloc-mismatch';

interface E2EFixture {
  file: string;
  /** The one defect the fixture demonstrates; null for the correct module. */
  defect: RuleId | null;
  /** Does a cycle through an instance keep a fresh module object alive? null: not measurable (import fails, crash). */
  leaks: boolean | null;
}

const FIXTURES: E2EFixture[] = [
  { file: 'good_heap.c', defect: null, leaks: false },
  { file: 'no_gc_flag.c', defect: 'gc-flag-missing', leaks: true },
  { file: 'no_gc_base.c', defect: 'gc-flag-missing', leaks: true },
  { file: 'gc_no_traverse.c', defect: 'traverse-missing', leaks: null },
  { file: 'no_type_visit.c', defect: 'traverse-type-not-visited', leaks: true },
  { file: 'gc_new_untracked.c', defect: 'instances-not-tracked', leaks: true },
  { file: 'gc_new_out_param.c', defect: 'instances-not-tracked', leaks: true },
  { file: 'new_for_gc_type.c', defect: 'gc-alloc-mismatch', leaks: null },
];

const fixturePath = (f: E2EFixture): string => fromRoot('test', 'fixtures', 'e2e', f.file);

/** Steps run with PYTHONMALLOC=debug: the allocator's guard bytes make a header-less GC object crash on dealloc. */
const DEBUG_MALLOC_STEPS = ['start', 'import', 'instance', 'drop'];

interface Observation {
  normal: ProbeResult;
  debugMalloc: ProbeResult;
}

let tempDir: string | null = null;
const observations = new Map<string, Promise<Observation>>();

function observe(py: PythonInstall, fixture: E2EFixture): Promise<Observation> {
  const k = `${py.version}/${fixture.file}`;
  let p = observations.get(k);
  if (!p) {
    if (tempDir === null) {
      tempDir = makeTempDir();
      const made = tempDir;
      process.once('exit', () => removeTempDir(made)); // also when a failure skips the after() hook
    }
    const dir = tempDir;
    p = (async () => {
      const built = await compileExtension(py, fixturePath(fixture), dir);
      const [normal, debugMalloc] = await Promise.all([
        runProbe(built),
        runProbe(built, { steps: DEBUG_MALLOC_STEPS, env: { PYTHONMALLOC: 'debug' } }),
      ]);
      return { normal, debugMalloc };
    })();
    observations.set(k, p);
  }
  return p;
}

const staticRuns = new Map<string, Promise<CliRun>>();

function staticRun(fixture: E2EFixture): Promise<CliRun> {
  let p = staticRuns.get(fixture.file);
  if (!p) {
    p = runCapiGc([fixturePath(fixture)]);
    staticRuns.set(fixture.file, p);
  }
  return p;
}

interface Shown {
  /** Rule ids, sorted; `?…` entries stand for behaviour no rule explains (an unexpected crash …). */
  rules: string[];
  evidence: string[];
}

/**
 * Reads the GC-protocol defects off what the interpreter did, without looking at which fixture it was.
 *  - import raises SystemError "…has no traverse function" (3.11+)          → traverse-missing
 *  - Thing.__flags__ lacks Py_TPFLAGS_HAVE_GC (1 << 14)                     → gc-flag-missing
 *  - GC type; dropping an instance kills the interpreter under PYTHONMALLOC=debug → gc-alloc-mismatch
 *  - GC type; gc.collect() with a live instance kills the interpreter (3.9/3.10: NULL tp_traverse) → traverse-missing
 *  - GC type; gc.is_tracked(instance) is False                            → instances-not-tracked
 *  - GC type; type(instance) not in gc.get_referents(instance)            → traverse-type-not-visited
 */
function defectsShownByInterpreter(obs: Observation): Shown {
  const { normal, debugMalloc } = obs;
  const rules = new Set<string>();
  const evidence: string[] = [];
  const done = (): Shown => ({ rules: [...rules].sort(), evidence });

  const imported = fact(normal, 'import');
  if (!imported) {
    rules.add(`?probe never imported the module (${normal.crashedIn ?? 'no output'})`);
    return done();
  }
  if (imported['ok'] === false) {
    const message = String(imported['message']);
    if (imported['error'] === 'SystemError' && /has no traverse function/.test(message)) {
      rules.add('traverse-missing');
      evidence.push(`import raised SystemError: ${message}`);
    } else {
      rules.add(`?import failed: ${String(imported['error'])}: ${message}`);
    }
    return done();
  }
  const type = fact(normal, 'type');
  if (!type) {
    rules.add(`?no type facts (${normal.crashedIn})`);
    return done();
  }
  if (type['haveGc'] === false) {
    rules.add('gc-flag-missing');
    evidence.push(`Thing.__flags__ = ${String(type['flags'])}: Py_TPFLAGS_HAVE_GC (1 << 14) not set`);
    if (normal.crashedIn) rules.add(`?crash in step ${normal.crashedIn}`);
    return done();
  }
  if (debugMalloc.crashedIn === 'drop') {
    rules.add('gc-alloc-mismatch');
    evidence.push(
      `dropping an instance under PYTHONMALLOC=debug killed the interpreter (${debugMalloc.process.signal ?? 'exit ' + debugMalloc.process.code})`,
    );
    // Every later fact reads the bytes in front of the object as a GC header: meaningless.
    return done();
  }
  if (debugMalloc.crashedIn) rules.add(`?PYTHONMALLOC=debug run crashed in step ${debugMalloc.crashedIn}`);
  if (normal.crashedIn === 'collect') {
    rules.add('traverse-missing');
    evidence.push(`gc.collect() with a live instance killed the interpreter (${normal.process.signal ?? 'exit ' + normal.process.code})`);
    return done();
  }
  const instance = fact(normal, 'instance');
  if (instance?.['tracked'] === false) {
    rules.add('instances-not-tracked');
    evidence.push('gc.is_tracked(instance) is False');
  }
  const referents = fact(normal, 'referents');
  if (referents?.['typeVisited'] === false) {
    rules.add('traverse-type-not-visited');
    evidence.push('type(instance) is not in gc.get_referents(instance)');
  }
  if (normal.crashedIn) rules.add(`?crash in step ${normal.crashedIn}`);
  return done();
}

function account(obs: Observation): string {
  return `normal run: ${describeProbe(obs.normal)}\nPYTHONMALLOC=debug run: ${describeProbe(obs.debugMalloc)}`;
}

/** Version-specific facts each fixture must show, beyond the classification. */
function checkFacts(py: PythonInstall, fixture: E2EFixture, obs: Observation): void {
  const msg = (what: string): string => `${fixture.file} on ${py.fullVersion}: ${what}\n${account(obs)}`;
  const imported = fact(obs.normal, 'import');
  const type = fact(obs.normal, 'type');
  const instance = fact(obs.normal, 'instance');
  const referents = fact(obs.normal, 'referents');

  if (fixture.defect === 'traverse-missing') {
    if (py.minor >= 11) {
      assert.equal(imported?.['ok'], false, msg('import must fail on 3.11+'));
      assert.equal(imported?.['error'], 'SystemError', msg('import must raise SystemError on 3.11+'));
    } else {
      assert.equal(imported?.['ok'], true, msg('import must succeed before 3.11'));
      assert.equal(type?.['haveGc'], true, msg('the type must have Py_TPFLAGS_HAVE_GC'));
      assert.equal(instance?.['tracked'], true, msg('tp_alloc must track the instance'));
      assert.equal(obs.normal.crashedIn, 'collect', msg('gc.collect() must crash on the NULL tp_traverse'));
    }
    return;
  }

  assert.equal(imported?.['ok'], true, msg('import must succeed'));
  assert.equal(type?.['heapType'], true, msg('Thing must be a heap type'));

  switch (fixture.defect) {
    case null:
      assert.equal(obs.normal.process.code, 0, msg('the probe must exit normally'));
      assert.equal(obs.debugMalloc.process.code, 0, msg('the PYTHONMALLOC=debug probe must exit normally'));
      assert.equal(type?.['haveGc'], true, msg('HAVE_GC'));
      assert.equal(instance?.['tracked'], true, msg('instance tracked'));
      assert.equal(referents?.['typeVisited'], true, msg('type visited'));
      assert.equal(referents?.['payloadVisited'], true, msg('member visited'));
      break;
    case 'gc-flag-missing':
      assert.equal(type?.['haveGc'], false, msg('no HAVE_GC'));
      assert.equal(instance?.['tracked'], false, msg('a non-GC instance is never tracked'));
      assert.equal(referents?.['count'], 0, msg('gc.get_referents() sees nothing in a non-GC object'));
      break;
    case 'traverse-type-not-visited':
      assert.equal(instance?.['tracked'], true, msg('instance tracked'));
      assert.equal(referents?.['typeVisited'], false, msg('type not visited'));
      assert.equal(referents?.['payloadVisited'], true, msg('member still visited'));
      break;
    case 'instances-not-tracked':
      assert.equal(type?.['haveGc'], true, msg('HAVE_GC'));
      assert.equal(instance?.['tracked'], false, msg('instance not tracked'));
      assert.equal(referents?.['typeVisited'], true, msg('its traverse does visit the type'));
      break;
    case 'gc-alloc-mismatch':
      assert.equal(type?.['haveGc'], true, msg('HAVE_GC'));
      assert.ok(fact(obs.debugMalloc, 'instance'), msg('make() must succeed'));
      assert.ok(obs.debugMalloc.process.signal !== null || obs.debugMalloc.process.code !== 0, msg('dealloc must crash'));
      break;
  }
}

const toolchain = requireOrSkip();

describe('e2e: fixture extensions on CPython', () => {
  after(() => {
    if (tempDir !== null) removeTempDir(tempDir);
  });

  if (toolchain.skipReason !== null) {
    it('compiles and probes the fixture extensions', { skip: toolchain.skipReason.replace(/^SKIP e2e: /, '') }, () => {});
    return;
  }

  for (const py of toolchain.pythons) {
    describe(`CPython ${py.fullVersion} (${py.source}: ${py.executable})`, { concurrency: true }, () => {
      for (const fixture of FIXTURES) {
        const shows = fixture.defect ?? 'no defect';
        it(`${fixture.file}: the interpreter shows ${shows}`, { timeout: 120_000 }, async () => {
          const obs = await observe(py, fixture);
          const shown = defectsShownByInterpreter(obs);
          assert.deepEqual(
            shown.rules,
            fixture.defect ? [fixture.defect] : [],
            `${fixture.file} on ${py.fullVersion}: evidence: ${shown.evidence.join('; ') || 'none'}\n${account(obs)}`,
          );
          checkFacts(py, fixture, obs);
        });

        if (fixture.leaks !== null) {
          const leaks = fixture.leaks;
          it(`${fixture.file}: a module in a cycle through an instance ${leaks ? 'is never collected' : 'is collected'}`, { timeout: 120_000 }, async () => {
            const obs = await observe(py, fixture);
            const leak = fact(obs.normal, 'leak');
            const msg = `${fixture.file} on ${py.fullVersion}\n${account(obs)}`;
            assert.ok(leak, `probe never reached the leak step\n${msg}`);
            assert.equal(leak['ok'], true, msg);
            const without = leak['withoutInstance'] as { moduleAlive: boolean; thingTypesAlive: number };
            const withInstance = leak['withInstance'] as { moduleAlive: boolean; thingTypesAlive: number };
            // Control: the module <-> type cycle alone is always collectable (m_traverse visits the type).
            assert.equal(without.moduleAlive, false, `control: a fresh module without instances must be collected\n${msg}`);
            assert.equal(without.thingTypesAlive, 0, msg);
            assert.equal(withInstance.moduleAlive, leaks, `module alive after gc.collect()\n${msg}`);
            assert.equal(withInstance.thingTypesAlive, leaks ? 1 : 0, `its Thing type in gc.get_objects()\n${msg}`);
          });
        }

        it(`${fixture.file}: capi-gc reports what the interpreter shows`, { timeout: 120_000 }, async () => {
          const [obs, run] = await Promise.all([observe(py, fixture), staticRun(fixture)]);
          const shown = defectsShownByInterpreter(obs);
          const reported = [...new Set(run.report.findings.map((f) => f.rule))].sort();
          assert.deepEqual(
            reported,
            shown.rules,
            `capi-gc (static) vs the interpreter (${shown.evidence.join('; ') || 'no defect shown'})`,
          );
        });
      }
    });
  }
});

describe('e2e: capi-gc on the fixture extensions (static)', { concurrency: true }, () => {
  for (const fixture of FIXTURES) {
    it(`${fixture.file}: findings match its expect comments`, { timeout: 120_000 }, async () => {
      const run = await staticRun(fixture);
      const expected = readExpectations(fixturePath(fixture));
      assert.deepEqual(findingKeys(run.report.findings), expectationKeys(expected));
      const errors = expected.some((e) => e.severity === 'error');
      assert.equal(run.exitCode, errors ? 1 : 0, 'exit code: 1 when errors are found, else 0');
      if (fixture.defect !== null) {
        assert.deepEqual([...new Set(expected.map((e) => e.rule))], [fixture.defect], 'expect comments name the defect');
      }
    });
  }
});
