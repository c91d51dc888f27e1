// End to end, the rest of the GC protocol (issue 3): each fixture in test/fixtures/e2e-protocol/ has exactly one
// of the defects below and is otherwise protocol-correct; good_protocol.c has none. Each is compiled for every
// CPython found (3.9+) and probed with test/e2e/protocol_probe.py. The defects the interpreter shows are read
// off the probe's facts without looking at which fixture ran, and must equal both the fixture's declared defect
// and the rules `capi-gc check <fixture> --format json` reports; the figures behind them are asserted per
// fixture and printed as test diagnostics.
//
//   dealloc-type-not-decrefed    sys.getrefcount(Thing) grows by N after N instances are made and dropped (also when
//                                the dealloc ends in a static type's dealloc, or is inherited from a heap base)
//   dealloc-never-frees          sys.getallocatedblocks() grows by N (and the type's refcount with it) after N instances
//   traverse-member-not-visited  o.payload -> [marker, o] survives gc.collect() (marker's weakref stays alive)
//   clear-missing                o.payload = o is found by gc.collect() but stays in gc.get_objects(), gc.garbage empty
//   dealloc-not-untracked        a payload whose __del__ runs gc.collect() during Thing's dealloc: the collector
//                                collects the dying (refcount 0) instance a second time; under PYTHONMALLOC=debug
//                                (freed memory overwritten) the resumed first dealloc then kills the interpreter.
//                                With the default allocator the outcome depends on the heap layout (3.9 survives
//                                or not depending on the environment): printed, not asserted
//   module-state-not-traversed   a fresh module object, dropped, is never collected
//   module-state-not-cleared     a fresh module object is collected but its Thing type outlives it (refcount 1);
//                                with m_free but no m_clear (state_free_only.c) the collector finds the module's
//                                cycle (its weakref dies) but cannot break it: the module object itself stays
//   managed-dict-not-visited     o.x = o through the instance __dict__ survives gc.collect() (3.12+ only)
//   traverse-member-not-visited  (through a Py_buffer) o2 = make(o1) holds o1 twice, as payload and as the exporter
//                                of its view, but gc.get_referents(o2) shows it once; o1 <-> o2 survives gc.collect()
//   buffer-not-released          o = make(bytearray) dropped: the bytearray's refcount stays one higher, and it can
//                                no longer be resized (BufferError: an export is left)
//   traverse-type-not-visited    (an early return 0 before the type visit, taken while Thing's tag is NULL) the
//                                type is not in gc.get_referents(o), but is for Thing(payload, tag); a fresh module
//                                whose only cycle is module -> instance -> type -> module is never collected
//
//
// A second group (subclass probe) compiles a subclassable non-GC type and drops an instance of a Python subclass
// (`class S(Thing): pass`, a GC type) under PYTHONMALLOC=debug: a dealloc that frees with PyObject_Del aborts the
// interpreter (gc-alloc-mismatch); one that frees through tp_free survives.
//
// Without gcc or CPython headers these tests skip with one loud line, unless CAPI_GC_REQUIRE_PYTHON=1.
// CAPI_GC_E2E_PYTHONS=3.12 limits the interpreters used.

import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  compileExtension,
  describeProbe,
  fact,
  makeTempDir,
  removeTempDir,
  runProbe,
  type ProbeFact,
  type ProbeResult,
} from './build.js';
import { runCapiGc, type CliRun } from './cli.js';
import { expectationKeys, findingKeys, readExpectations } from '../expectations.js';
import { requireOrSkip, type PythonInstall } from './pythons.js';
import { fromRoot } from './repo.js';

type RuleId =
  | 'dealloc-type-not-decrefed'
  | 'dealloc-never-frees'
  | 'traverse-member-not-visited'
  | 'clear-missing'
  | 'dealloc-not-untracked'
  | 'module-state-not-traversed'
  | 'module-state-not-cleared'
  | 'managed-dict-not-visited'
  | 'traverse-type-not-visited'
  | 'buffer-not-released';

interface ProtocolFixture {
  file: string;
  /** The one defect the fixture has; null for the correct module. */
  defect: RuleId | null;
  /** Oldest minor version of 3.x the fixture builds for; older interpreters skip it. */
  minMinor: number;
  /** Why older interpreters skip it. */
  skipBefore?: string;
  /** Findings `check` reports for the one defect (a defective base and each type inheriting it): 1 unless said. */
  findings?: number;
  /** module-state-not-cleared with no m_clear at all: the module object itself is never freed. */
  moduleCycleUnbroken?: boolean;
  /** Thing exports a buffer and holds a Py_buffer view of a payload that exports one. */
  buffer?: boolean;
}

const FIXTURES: ProtocolFixture[] = [
  { file: 'good_protocol.c', defect: null, minMinor: 9 },
  { file: 'dealloc_keeps_type.c', defect: 'dealloc-type-not-decrefed', minMinor: 9 },
  { file: 'dealloc_static_base.c', defect: 'dealloc-type-not-decrefed', minMinor: 9 },
  { file: 'dealloc_inherited.c', defect: 'dealloc-type-not-decrefed', minMinor: 9, findings: 2 },
  { file: 'dealloc_never_frees.c', defect: 'dealloc-never-frees', minMinor: 9 },
  { file: 'member_not_visited.c', defect: 'traverse-member-not-visited', minMinor: 9 },
  { file: 'type_visit_skipped.c', defect: 'traverse-type-not-visited', minMinor: 9 },
  { file: 'buffer_not_visited.c', defect: 'traverse-member-not-visited', minMinor: 9, buffer: true },
  { file: 'buffer_not_released.c', defect: 'buffer-not-released', minMinor: 9, buffer: true },
  { file: 'no_tp_clear.c', defect: 'clear-missing', minMinor: 9 },
  { file: 'setter_no_clear.c', defect: 'clear-missing', minMinor: 9 },
  { file: 'dealloc_clears_first.c', defect: 'dealloc-not-untracked', minMinor: 9 },
  { file: 'state_not_traversed.c', defect: 'module-state-not-traversed', minMinor: 9 },
  { file: 'state_not_cleared.c', defect: 'module-state-not-cleared', minMinor: 9 },
  { file: 'state_free_only.c', defect: 'module-state-not-cleared', minMinor: 9, moduleCycleUnbroken: true },
  {
    file: 'managed_dict_no_visit.c',
    defect: 'managed-dict-not-visited',
    minMinor: 12,
    skipBefore: 'Py_TPFLAGS_MANAGED_DICT in a type spec and the managed-dict API exist from CPython 3.12 on',
  },
];

const fixturePath = (f: ProtocolFixture): string => fromRoot('test', 'fixtures', 'e2e-protocol', f.file);
const PROTOCOL_PROBE = fromRoot('test', 'e2e', 'protocol_probe.py');

/** Instances the probe's typeref step makes and drops (TYPEREF_INSTANCES in protocol_probe.py). */
const TYPEREF_INSTANCES = 100;
const MAIN_STEPS = [
  'start', 'import', 'type', 'typeref', 'referents', 'member-cycle', 'self-cycle', 'dict-cycle', 'buffer-cycle', 'buffer-release', 'module',
];
/** Run on its own: with a dealloc that does not untrack first it kills the interpreter. */
const DEL_COLLECT_STEPS = ['start', 'import', 'del-collect'];

interface Observation {
  main: ProbeResult;
  /** del-collect with the default allocator (pymalloc): what a user would see. */
  delCollect: ProbeResult;
  /** del-collect under PYTHONMALLOC=debug: freed memory is overwritten (0xDD), so a second dealloc's use of it faults. */
  delCollectDebug: ProbeResult;
}

// ---------------------------------------------------------------------------------------------------------------
// Building and probing, at most `limit` processes at a time (CI has 2 cores).

let tempDir: string | null = null;
const observations = new Map<string, Promise<Observation>>();
let running = 0;
const waiting: (() => void)[] = [];
const limit = Math.max(2, availableParallelism());

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  // A finishing call hands its slot straight to the next waiting one.
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function observe(py: PythonInstall, fixture: ProtocolFixture): Promise<Observation> {
  const k = `${py.version}/${fixture.file}`;
  let p = observations.get(k);
  if (!p) {
    if (tempDir === null) {
      tempDir = makeTempDir('protocol');
      const made = tempDir;
      process.once('exit', () => removeTempDir(made)); // also when a failure skips the after() hook
    }
    const dir = tempDir;
    p = (async () => {
      const built = await limited(() => compileExtension(py, fixturePath(fixture), dir));
      const probe = (steps: string[], env?: Record<string, string>) =>
        limited(() => runProbe(built, { script: PROTOCOL_PROBE, steps, env }));
      const [main, delCollect, delCollectDebug] = await Promise.all([
        probe(MAIN_STEPS),
        probe(DEL_COLLECT_STEPS),
        probe(DEL_COLLECT_STEPS, { PYTHONMALLOC: 'debug' }),
      ]);
      return { main, delCollect, delCollectDebug };
    })();
    // A rejection is reported by the tests that await it; do not let an early one go unhandled.
    p.catch(() => {});
    observations.set(k, p);
  }
  return p;
}

const staticRuns = new Map<string, Promise<CliRun>>();

function staticRun(fixture: ProtocolFixture): Promise<CliRun> {
  let p = staticRuns.get(fixture.file);
  if (!p) {
    p = runCapiGc([fixturePath(fixture)]);
    p.catch(() => {});
    staticRuns.set(fixture.file, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the facts.

/** Killed by a signal (SIGSEGV, SIGABRT …): faulthandler re-raises the fatal signal after printing the stack. */
function killed(r: ProbeResult): boolean {
  return r.process.signal !== null;
}

/**
 * The requested step that was running when the process ended abnormally, or null after a normal exit. The fact
 * printed from inside the del-collect step (del-collect-inside) belongs to that step.
 */
function stoppedIn(r: ProbeResult): string | null {
  if (r.process.code === 0) return null;
  const failed = r.facts.find((f) => f['ok'] === false);
  if (failed) return failed.step;
  const last = r.facts[r.facts.length - 1];
  if (!last) return r.steps[0] ?? null;
  if (last.step === 'del-collect-inside') return 'del-collect';
  return r.steps[r.steps.indexOf(last.step) + 1] ?? '(after the last step)';
}

interface ModuleTrial {
  moduleAlive: boolean;
  /** The module object is still among the collector's objects (its weakref may be dead: found, not freed). */
  moduleLeft: boolean;
  stateTypeVisited: boolean;
  thingTypesAlive: number;
  thingTypeRefcounts: number[];
  thingTypesCleared: number;
}

interface Facts {
  type?: ProbeFact;
  typeref?: ProbeFact;
  referents?: ProbeFact;
  memberCycle?: ProbeFact;
  selfCycle?: ProbeFact;
  dictCycle?: ProbeFact;
  bufferCycle?: ProbeFact;
  bufferRelease?: ProbeFact;
  module?: { withoutInstance: ModuleTrial; droppedInstance: ModuleTrial; instanceCycle: ModuleTrial; typeCycle: ModuleTrial };
  /** What the gc.collect() run inside the dealloc collected, default allocator / PYTHONMALLOC=debug. */
  insideCollected?: number;
  insideCollectedDebug?: number;
}

function factsOf(obs: Observation): Facts {
  const m = obs.main;
  const module = fact(m, 'module') as unknown as Facts['module'] | undefined;
  return {
    type: fact(m, 'type'),
    typeref: fact(m, 'typeref'),
    referents: fact(m, 'referents'),
    memberCycle: fact(m, 'member-cycle'),
    selfCycle: fact(m, 'self-cycle'),
    dictCycle: fact(m, 'dict-cycle'),
    bufferCycle: fact(m, 'buffer-cycle'),
    bufferRelease: fact(m, 'buffer-release'),
    module: module?.withoutInstance ? module : undefined,
    insideCollected: fact(obs.delCollect, 'del-collect-inside')?.['collected'] as number | undefined,
    insideCollectedDebug: fact(obs.delCollectDebug, 'del-collect-inside')?.['collected'] as number | undefined,
  };
}

interface Shown {
  /** Rule ids, sorted; `?…` entries stand for behaviour no rule explains (an unexpected crash …). */
  rules: string[];
  evidence: string[];
}

/**
 * Reads the GC-protocol defects off what the interpreter did, without looking at which fixture it was.
 *  - N instances made and dropped leave sys.getrefcount(Thing) N higher           → dealloc-type-not-decrefed
 *  - payload not in gc.get_referents(o), and o.payload -> [marker, o] survives    → traverse-member-not-visited
 *  - o is its own referent (payload visited), yet o.payload = o survives gc.collect() without reaching
 *    gc.garbage                                                                    → clear-missing
 *  - a gc.collect() run from a member's __del__ during Thing's dealloc collects something (the dying instance),
 *    or the interpreter dies in that dealloc                                       → dealloc-not-untracked
 *  - a fresh module whose referents lack its Thing type is never collected       → module-state-not-traversed
 *  - a fresh module is collected but its Thing type stays alive                  → module-state-not-cleared
 *  - o.x = o through the instance __dict__ survives gc.collect(), the dict unseen by traverse → managed-dict-not-visited
 */
function defectsShownByInterpreter(obs: Observation): Shown {
  const rules = new Set<string>();
  const evidence: string[] = [];
  const done = (): Shown => ({ rules: [...rules].sort(), evidence });
  const f = factsOf(obs);

  const imported = fact(obs.main, 'import');
  if (imported?.['ok'] !== true) {
    rules.add(`?import failed (${stoppedIn(obs.main)})`);
    return done();
  }
  if (obs.main.process.code !== 0) rules.add(`?main probe stopped in step ${stoppedIn(obs.main)}`);
  if (f.type?.['haveGc'] !== true || f.type?.['heapType'] !== true) rules.add('?Thing is not a GC heap type');
  const typeCycle = f.module?.typeCycle;
  if (f.referents?.['typeVisited'] !== true) {
    if (typeCycle?.moduleAlive === true) {
      rules.add('traverse-type-not-visited');
      evidence.push(`Thing not in gc.get_referents(o)${f.referents?.['taggedTypeVisited'] === true ? ' (but in those of Thing(payload, tag), where the early return is not taken)' : ''}; module -> instance -> type -> module survives gc.collect()`);
    } else {
      rules.add('?traverse does not visit the type, yet nothing leaks');
    }
  }

  const delta = f.typeref?.['delta'];
  const blocks = f.typeref?.['blocksDelta'] as number | undefined;
  if (blocks !== undefined && blocks >= TYPEREF_INSTANCES * 0.9) {
    // The instances' memory stays allocated; the type reference each holds leaks with it.
    rules.add('dealloc-never-frees');
    evidence.push(`sys.getallocatedblocks() +${blocks}, sys.getrefcount(Thing) +${String(delta)} after ${TYPEREF_INSTANCES} instances`);
  } else if (delta !== 0) {
    if (delta === TYPEREF_INSTANCES) {
      rules.add('dealloc-type-not-decrefed');
      evidence.push(`sys.getrefcount(Thing) ${String(f.typeref?.['before'])} -> ${String(f.typeref?.['after'])} after ${TYPEREF_INSTANCES} instances`);
    } else {
      rules.add(`?sys.getrefcount(Thing) changed by ${String(delta)}`);
    }
  }

  const payloadVisited = f.referents?.['payloadVisited'] === true;
  if (f.memberCycle?.['markerAlive'] === true) {
    if (!payloadVisited) {
      rules.add('traverse-member-not-visited');
      evidence.push(`payload not in gc.get_referents(o); o.payload -> [marker, o]: marker alive, ${String(f.memberCycle['instancesLeft'])} instance(s) left after gc.collect()`);
    } else {
      rules.add('?a cycle through a visited member leaks');
    }
  }

  const b = f.bufferCycle;
  if (b?.['applicable'] === true && (b['instancesLeft'] as number) > 0) {
    if ((b['exporterVisits'] as number) < 2) {
      rules.add('traverse-member-not-visited');
      evidence.push(`o2 = make(o1) holds o1 as payload and as its view's exporter, gc.get_referents(o2) shows it ${String(b['exporterVisits'])} time(s); o1 <-> o2: ${String(b['instancesLeft'])} instance(s) left after gc.collect()`);
    } else if (f.bufferRelease?.['refcountAfter'] === f.bufferRelease?.['refcountBefore']) {
      rules.add('?a cycle through a visited buffer exporter leaks');
    }
  }
  const r = f.bufferRelease;
  if (r && r['refcountAfter'] !== r['refcountBefore']) {
    rules.add('buffer-not-released');
    evidence.push(`o = make(bytearray) dropped: the bytearray's refcount ${String(r['refcountBefore'])} -> ${String(r['refcountAfter'])}, ${r['resizable'] ? 'still resizable' : 'no longer resizable (BufferError)'}`);
  }

  const self = f.selfCycle;
  if (self && (self['instancesLeft'] as number) > 0) {
    if (self['ownReferent'] === true && self['garbage'] === 0) {
      rules.add('clear-missing');
      evidence.push(`o.payload = o: found by gc.collect() (collected ${String(self['collected'])}) but ${String(self['instancesLeft'])} instance(s) left, gc.garbage empty`);
    } else if (payloadVisited) {
      rules.add('?a self-cycle leaks for another reason');
    }
  }

  const inside = [f.insideCollected, f.insideCollectedDebug];
  const delCrash = [obs.delCollect, obs.delCollectDebug].filter((r) => r.process.code !== 0);
  if (inside.some((n) => n !== undefined && n > 0) || delCrash.length > 0) {
    rules.add('dealloc-not-untracked');
    evidence.push(
      `gc.collect() inside the dealloc collected ${inside.map(String).join(' / ')} (default / PYTHONMALLOC=debug)` +
        (delCrash.length ? `; died: ${delCrash.map((r) => r.process.signal ?? `exit ${r.process.code}`).join(', ')}` : ''),
    );
  }
  if (inside.some((n) => n === undefined)) rules.add('?a del-collect run never reached the finalizer');

  const mod = f.module;
  if (!mod) {
    rules.add('?no module facts');
  } else {
    const w = mod.withoutInstance;
    if (w.moduleAlive) {
      if (!w.stateTypeVisited) {
        rules.add('module-state-not-traversed');
        evidence.push('Thing not in gc.get_referents(fresh module); the module is alive after gc.collect()');
      } else {
        rules.add('?a fresh module leaks although m_traverse visits its type');
      }
    } else if (w.thingTypesAlive > 0) {
      rules.add('module-state-not-cleared');
      evidence.push(`fresh module collected${w.moduleLeft ? ' (found, yet the module object is never freed)' : ''}; its Thing type left with refcount ${w.thingTypeRefcounts.join(', ')}`);
    }
  }

  const d = f.dictCycle;
  if (d?.['applicable'] === true && (d['instancesLeft'] as number) > 0) {
    if (d['dictVisited'] === false) {
      rules.add('managed-dict-not-visited');
      evidence.push(`o.x = o: the instance __dict__ is not in gc.get_referents(o); ${String(d['instancesLeft'])} instance(s) left after gc.collect()`);
    } else {
      rules.add('?a cycle through a visited __dict__ leaks');
    }
  }
  return done();
}

function account(obs: Observation): string {
  return [
    `main run: ${describeProbe(obs.main)}`,
    `del-collect run: ${describeProbe(obs.delCollect)}`,
    `del-collect run, PYTHONMALLOC=debug: ${describeProbe(obs.delCollectDebug)}`,
  ].join('\n');
}

function outcome(r: ProbeResult): string {
  if (r.process.code === 0) return 'survived';
  return killed(r) ? `killed by ${r.process.signal}` : `exit ${r.process.code}`;
}

/** One line of figures per interpreter and fixture, printed as a test diagnostic. */
function figures(obs: Observation): string {
  const f = factsOf(obs);
  const trial = (t: ModuleTrial | undefined) =>
    t ? `${t.moduleAlive ? 'alive' : t.moduleLeft ? 'found, never freed' : 'collected'}, types left ${t.thingTypesAlive}${t.thingTypesAlive ? ` (refcount ${t.thingTypeRefcounts.join('/')})` : ''}` : '?';
  const d = f.dictCycle;
  return [
    `getrefcount(Thing) +${String(f.typeref?.['delta'])}/${TYPEREF_INSTANCES}, allocated blocks +${String(f.typeref?.['blocksDelta'])}`,
    `member cycle: marker ${f.memberCycle?.['markerAlive'] ? 'alive' : 'dead'}, left ${String(f.memberCycle?.['instancesLeft'])}`,
    `self cycle: left ${String(f.selfCycle?.['instancesLeft'])}, found ${String(f.selfCycle?.['collected'])}x, garbage ${String(f.selfCycle?.['garbage'])}`,
    `dict cycle: ${d?.['applicable'] ? `left ${String(d['instancesLeft'])}` : 'no __dict__'}`,
    `buffer cycle: ${f.bufferCycle?.['applicable'] ? `exporter visited ${String(f.bufferCycle['exporterVisits'])}x, left ${String(f.bufferCycle['instancesLeft'])}` : 'no buffer'}`,
    `buffer release: refcount ${String(f.bufferRelease?.['refcountBefore'])} -> ${String(f.bufferRelease?.['refcountAfter'])}${f.bufferRelease?.['resizable'] ? '' : ', not resizable'}`,
    `fresh module: ${trial(f.module?.withoutInstance)}; after a dropped instance: ${trial(f.module?.droppedInstance)}; instance cycle: ${trial(f.module?.instanceCycle)}; type cycle: ${trial(f.module?.typeCycle)}`,
    `del-collect: inside collected ${String(f.insideCollected)}, ${outcome(obs.delCollect)}; PYTHONMALLOC=debug: inside collected ${String(f.insideCollectedDebug)}, ${outcome(obs.delCollectDebug)}`,
  ].join('; ');
}

/** The figures each fixture must show, beyond the classification. */
function checkFacts(py: PythonInstall, fixture: ProtocolFixture, obs: Observation): void {
  const msg = (what: string): string => `${fixture.file} on ${py.fullVersion}: ${what}\n${account(obs)}`;
  const f = factsOf(obs);
  const mod = f.module;
  assert.ok(mod, msg('no module facts'));
  assert.equal(obs.main.process.code, 0, msg('the main probe must exit normally'));
  // Otherwise protocol-correct: a GC heap type whose traverse visits its type.
  const typeHidden = fixture.defect === 'traverse-type-not-visited';
  assert.equal(f.type?.['haveGc'], true, msg('HAVE_GC'));
  assert.equal(f.type?.['heapType'], true, msg('heap type'));
  assert.equal(f.referents?.['typeVisited'], !typeHidden, msg('traverse visits Py_TYPE(self)'));
  if (typeHidden) {
    // The early return is what hides the type: with the tag set the same traverse visits it.
    assert.equal(f.referents?.['taggedTypeVisited'], true, msg('Thing(payload, tag): the type is visited'));
  }
  // The managed dict exists where the fixture asks for it (good_protocol.c from 3.12 on).
  const wantsDict = fixture.defect === 'managed-dict-not-visited' || (fixture.defect === null && py.minor >= 12);
  assert.equal(f.type?.['managedDict'], wantsDict, msg('Py_TPFLAGS_MANAGED_DICT'));
  assert.equal(f.dictCycle?.['applicable'], wantsDict, msg('instances have a __dict__'));

  const defect = fixture.defect;
  // dealloc-type-not-decrefed: every dropped instance leaves one more reference to the type; so does one never freed.
  const leaksType = defect === 'dealloc-type-not-decrefed' || defect === 'dealloc-never-frees';
  assert.equal(f.typeref?.['delta'], leaksType ? TYPEREF_INSTANCES : 0, msg('sys.getrefcount(Thing) growth'));
  // dealloc-never-frees: every dropped instance stays allocated.
  const blocks = f.typeref?.['blocksDelta'] as number;
  if (defect === 'dealloc-never-frees') assert.ok(blocks >= TYPEREF_INSTANCES, msg(`sys.getallocatedblocks() grows by N (got ${blocks})`));
  else assert.ok(blocks < TYPEREF_INSTANCES / 2, msg(`sys.getallocatedblocks() stays about flat (got ${blocks})`));
  // traverse-member-not-visited (of payload itself): the member cycle survives; other fixtures collect it (a list has
  // tp_clear).
  const memberHidden = defect === 'traverse-member-not-visited' && !fixture.buffer;
  assert.equal(f.referents?.['payloadVisited'], !memberHidden, msg('payload in gc.get_referents(o)'));
  assert.equal(f.memberCycle?.['markerAlive'], memberHidden, msg('o.payload -> [marker, o]: marker alive after gc.collect()'));
  assert.equal(f.memberCycle?.['instancesLeft'], memberHidden ? 1 : 0, msg('member cycle: instances left'));
  // clear-missing: the self-cycle is found at every collection and never broken; without the member visit it is
  // not even found.
  const selfLeaks = defect === 'clear-missing' || memberHidden;
  assert.equal(f.selfCycle?.['instancesLeft'], selfLeaks ? 1 : 0, msg('o.payload = o: instances left'));
  assert.equal(f.selfCycle?.['garbage'], 0, msg('gc.garbage stays empty'));
  if (defect === 'clear-missing') {
    assert.equal(f.selfCycle?.['ownReferent'], true, msg('o is its own referent'));
    assert.ok((f.selfCycle?.['collected'] as number) >= 1, msg('gc.collect() finds the self-cycle'));
  }
  if (memberHidden) assert.equal(f.selfCycle?.['collected'], 0, msg('the self-cycle is invisible to gc.collect()'));

  // dealloc-not-untracked: the collection run from the finalizer during the dealloc collects the dying
  // instance (refcount 0, still tracked); with freed memory overwritten (PYTHONMALLOC=debug) the dealloc
  // that then resumes on it kills the interpreter. With pymalloc the outcome depends on the version
  // (printed, not asserted).
  if (defect === 'dealloc-not-untracked') {
    assert.equal(f.insideCollected, 1, msg('gc.collect() inside the dealloc collects the dying instance'));
    assert.equal(f.insideCollectedDebug, 1, msg('the same under PYTHONMALLOC=debug'));
    assert.ok(killed(obs.delCollectDebug), msg('PYTHONMALLOC=debug: the resumed dealloc must kill the interpreter'));
    assert.equal(stoppedIn(obs.delCollectDebug), 'del-collect', msg('it dies in the dealloc'));
  } else {
    assert.equal(f.insideCollected, 0, msg('gc.collect() inside the dealloc finds nothing'));
    assert.equal(f.insideCollectedDebug, 0, msg('the same under PYTHONMALLOC=debug'));
    assert.equal(obs.delCollect.process.code, 0, msg('del-collect survives'));
    assert.equal(obs.delCollectDebug.process.code, 0, msg('del-collect survives under PYTHONMALLOC=debug'));
  }

  // Module trials.
  const notTraversed = defect === 'module-state-not-traversed';
  const notCleared = defect === 'module-state-not-cleared';
  const w = mod.withoutInstance;
  assert.equal(w.stateTypeVisited, !notTraversed, msg('m_traverse visits the state type'));
  assert.equal(w.moduleAlive, notTraversed, msg('a fresh module alive after gc.collect()'));
  assert.equal(w.thingTypesAlive, notTraversed || notCleared ? 1 : 0, msg('its Thing type alive'));
  // Without m_clear nothing breaks the cycle through the state: the module object is never freed.
  const unbroken = fixture.moduleCycleUnbroken === true;
  for (const trial of [mod.withoutInstance, mod.droppedInstance, mod.instanceCycle]) {
    assert.equal(trial.moduleLeft, trial.moduleAlive || unbroken, msg('the module object left after gc.collect()'));
  }
  if (notCleared) {
    // The collector broke the module <-> type cycle (type_clear emptied the type); only the state's
    // reference is left.
    assert.deepEqual(w.thingTypeRefcounts, [1], msg('the leaked type holds exactly the state reference'));
    assert.equal(w.thingTypesCleared, 1, msg('the collector cleared the leaked type'));
  }
  // An instance made and dropped (by refcount) before the module: a leaked type reference keeps the
  // type, and through it the module, alive.
  const d = mod.droppedInstance;
  const keepsType = leaksType;
  assert.equal(d.moduleAlive, notTraversed || keepsType, msg('module alive after a dropped instance'));
  // An instance in a cycle through the module: invisible when the member is not visited; with the type
  // reference leaked, the collector frees the module but the type survives with the leaked reference.
  const c = mod.instanceCycle;
  assert.equal(c.moduleAlive, notTraversed || memberHidden || typeHidden, msg('module alive with an instance cycle'));
  if (keepsType) {
    assert.deepEqual(c.thingTypeRefcounts, [1], msg('the type survives with the one leaked reference'));
  } else if (!notTraversed && !notCleared && !memberHidden && !typeHidden) {
    assert.equal(c.thingTypesAlive, 0, msg('no type left after an instance cycle'));
  }
  // An instance whose only way back to the module is its type: found only when traverse visits the type.
  const tc = mod.typeCycle;
  assert.equal(tc.moduleAlive, notTraversed || typeHidden, msg('module alive with a cycle through the instance\'s type'));
  if (typeHidden) assert.equal(tc.thingTypesAlive, 1, msg('the type leaks with the module'));
  if (keepsType) assert.deepEqual(tc.thingTypeRefcounts, [1], msg('type cycle: the type survives with the one leaked reference'));

  // Buffers: only the buffer fixtures export one; o1 <-> o2 through a view leaks when view.obj is not visited,
  // and, once collected, an unreleased view still leaks its exporter.
  assert.equal(f.bufferCycle?.['applicable'], fixture.buffer === true, msg('Thing exports a buffer'));
  if (fixture.buffer) {
    const viewHidden = defect === 'traverse-member-not-visited';
    const notReleased = defect === 'buffer-not-released';
    assert.equal(f.bufferCycle?.['exporterVisits'], viewHidden ? 1 : 2, msg('o1 in gc.get_referents(o2): payload and view.obj'));
    // An unvisited view hides the cycle (both left); an unreleased one leaks the exporter o1 once the collector
    // has cleared the cycle and o2's dealloc forgets the view.
    assert.equal(f.bufferCycle?.['instancesLeft'], viewHidden ? 2 : notReleased ? 1 : 0, msg('o1 <-> o2: instances left'));
  }
  const released = defect !== 'buffer-not-released';
  assert.equal(f.bufferRelease?.['refcountAfter'], (f.bufferRelease?.['refcountBefore'] as number) + (released ? 0 : 1), msg('make(bytearray) dropped: the bytearray refcount'));
  assert.equal(f.bufferRelease?.['resizable'], released, msg('the bytearray can be resized again'));

  // managed-dict-not-visited: o.x = o through the __dict__ leaks; the correct module collects it.
  if (wantsDict) {
    const hidden = defect === 'managed-dict-not-visited';
    assert.equal(f.dictCycle?.['dictVisited'], !hidden, msg('traverse shows the __dict__ reference'));
    assert.equal(f.dictCycle?.['instancesLeft'], hidden ? 1 : 0, msg('o.x = o: instances left'));
  }
}

// ---------------------------------------------------------------------------------------------------------------

const toolchain = requireOrSkip();

describe('e2e protocol: fixture extensions on CPython', () => {
  before(() => {
    // Start every build and probe now; the limiter keeps the machine from being flooded.
    for (const py of toolchain.pythons) for (const f of FIXTURES) if (py.minor >= f.minMinor) void observe(py, f);
  });
  after(() => {
    if (tempDir !== null) removeTempDir(tempDir);
  });

  if (toolchain.skipReason !== null) {
    it('compiles and probes the protocol fixtures', { skip: toolchain.skipReason.replace(/^SKIP e2e: /, '') }, () => {});
    return;
  }

  for (const py of toolchain.pythons) {
    describe(`CPython ${py.fullVersion} (${py.source}: ${py.executable})`, { concurrency: true }, () => {
      for (const fixture of FIXTURES) {
        const shows = fixture.defect ?? 'no defect';
        if (py.minor < fixture.minMinor) {
          it(`${fixture.file}: skipped before 3.${fixture.minMinor}`, { skip: fixture.skipBefore ?? `needs 3.${fixture.minMinor}+` }, () => {});
          continue;
        }
        it(`${fixture.file}: the interpreter shows ${shows}`, { timeout: 120_000 }, async (t: TestContext) => {
          const obs = await observe(py, fixture);
          t.diagnostic(`${py.fullVersion} ${fixture.file}: ${figures(obs)}`);
          const shown = defectsShownByInterpreter(obs);
          assert.deepEqual(
            shown.rules,
            fixture.defect ? [fixture.defect] : [],
            `${fixture.file} on ${py.fullVersion}: evidence: ${shown.evidence.join('; ') || 'none'}\n${account(obs)}`,
          );
          checkFacts(py, fixture, obs);
        });

        it(`${fixture.file}: capi-gc reports what the interpreter shows`, { timeout: 120_000 }, async () => {
          const [obs, run] = await Promise.all([observe(py, fixture), staticRun(fixture)]);
          const shown = defectsShownByInterpreter(obs);
          const reported = [...new Set(run.report.findings.map((x) => x.rule))].sort();
          assert.deepEqual(
            reported,
            shown.rules,
            `capi-gc (static) vs the interpreter (${shown.evidence.join('; ') || 'no defect shown'})\n${JSON.stringify(run.report.findings, null, 2)}`,
          );
        });
      }
    });
  }
});

describe('e2e protocol: capi-gc on the fixture extensions (static)', { concurrency: true }, () => {
  for (const fixture of FIXTURES) {
    it(`${fixture.file}: findings match its expect comments`, { timeout: 120_000 }, async () => {
      const run = await staticRun(fixture);
      const expected = readExpectations(fixturePath(fixture));
      assert.deepEqual(findingKeys(run.report.findings), expectationKeys(expected));
      const errors = expected.some((e) => e.severity === 'error');
      assert.equal(run.exitCode, errors ? 1 : 0, 'exit code: 1 when errors are found, else 0');
      assert.deepEqual(
        [...new Set(expected.map((e) => e.rule))],
        fixture.defect ? [fixture.defect] : [],
        'expect comments name exactly the defect',
      );
      assert.equal(expected.length, fixture.defect ? fixture.findings ?? 1 : 0, 'one finding per defective fixture (and per type inheriting the defect)');
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Subclass probe: a Python subclass of a subclassable non-GC type is a GC type, freed by the base's dealloc.

interface SubclassFixture {
  file: string;
  /** The dealloc frees with a fixed function (PyObject_Del): a subclass instance aborts under PYTHONMALLOC=debug. */
  fixedFree: boolean;
}

const SUBCLASS_FIXTURES: SubclassFixture[] = [
  { file: 'subclass_fixed_free.c', fixedFree: true },
  { file: 'subclass_tp_free.c', fixedFree: false },
];
const SUBCLASS_STEPS = ['start', 'import', 'plain-drop', 'subclass-drop'];
const subclassPath = (f: SubclassFixture): string => fromRoot('test', 'fixtures', 'e2e-protocol', f.file);

describe('e2e protocol: Python subclasses of a subclassable non-GC type', () => {
  if (toolchain.skipReason !== null) {
    it('compiles and probes the subclass fixtures', { skip: toolchain.skipReason.replace(/^SKIP e2e: /, '') }, () => {});
    return;
  }
  const dir = makeTempDir('protocol-subclass');
  after(() => removeTempDir(dir));
  for (const py of toolchain.pythons) {
    describe(`CPython ${py.fullVersion}`, { concurrency: true }, () => {
      for (const fixture of SUBCLASS_FIXTURES) {
        it(`${fixture.file}: dropping a subclass instance under PYTHONMALLOC=debug ${fixture.fixedFree ? 'aborts' : 'is fine'}`, { timeout: 120_000 }, async (t: TestContext) => {
          const built = await limited(() => compileExtension(py, subclassPath(fixture), dir));
          const [debug, plain] = await Promise.all([
            limited(() => runProbe(built, { script: PROTOCOL_PROBE, steps: SUBCLASS_STEPS, env: { PYTHONMALLOC: 'debug' } })),
            limited(() => runProbe(built, { script: PROTOCOL_PROBE, steps: SUBCLASS_STEPS })),
          ]);
          const account = `PYTHONMALLOC=debug: ${describeProbe(debug)}\ndefault allocator: ${describeProbe(plain)}`;
          t.diagnostic(`${py.fullVersion} ${fixture.file}: PYTHONMALLOC=debug ${outcome(debug)}; default allocator ${outcome(plain)}`);
          // Thing itself is not GC and its own instances are freed fine; the subclass is GC.
          assert.equal(fact(debug, 'plain-drop')?.['haveGc'], false, account);
          assert.equal(fact(debug, 'subclass-made')?.['subclassHaveGc'], true, account);
          if (fixture.fixedFree) {
            assert.ok(killed(debug), `the debug allocator must abort on the wrong free\n${account}`);
            assert.equal(fact(debug, 'subclass-drop'), undefined, account);
            assert.match(debug.process.stderr, /Debug memory block at address/, account);
          } else {
            assert.equal(debug.process.code, 0, account);
            assert.equal(plain.process.code, 0, account);
            assert.equal(fact(debug, 'subclass-drop')?.['ok'], true, account);
          }
        });
      }
    });
  }
  describe('capi-gc on the subclass fixtures (static)', { concurrency: true }, () => {
    for (const fixture of SUBCLASS_FIXTURES) {
      it(`${fixture.file}: findings match its expect comments`, { timeout: 120_000 }, async () => {
        const run = await runCapiGc([subclassPath(fixture)]);
        const expected = readExpectations(subclassPath(fixture));
        assert.deepEqual(findingKeys(run.report.findings), expectationKeys(expected));
        assert.deepEqual([...new Set(expected.map((e) => e.rule))], fixture.fixedFree ? ['gc-alloc-mismatch'] : []);
      });
    }
  });
});
