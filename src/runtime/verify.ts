// `capi-gc verify`: what the garbage collector really sees for a built module's heap types, as findings, and the
// run-time verdict on each static finding in `check --verify`.

import { interpreterProblem, runProbeCommand, type ProbeLine, type ProbeOptions, type ProbeRun } from './driver.js';

export interface VerifyOptions extends ProbeOptions {
  module: string;
  /** Instances created and dropped to measure the type's reference count. */
  instances: number;
  /** Python expressions that make an instance, by type name (`m` is the module). */
  factories: Record<string, string>;
}

export interface RuntimeType {
  name: string;
  qualname: string;
  heap: boolean;
  gc: boolean;
  immutable: boolean;
  managedDict: boolean;
  instance: { ok: boolean; via: string | null; error: string | null } | null;
  tracked: boolean | null;
  typeInReferents: boolean | null;
  refcountDelta: { value: number; n: number } | null;
  selfCycleCollected: { value: boolean | null; via?: string; reason?: string } | null;
  /** An instance freed while one of its members runs gc.collect() in __del__ survived (true), or untestable (null). */
  collectInDealloc: boolean | null;
  /** Whether gc.get_referents(instance) showed an object stored in each settable attribute. */
  memberVisits: { via: string; value: boolean }[];
  /** The factory given for the type raised: the error and its traceback. */
  factoryError: { error: string; traceback: string } | null;
  /** Found only after a factory ran (a type the module creates on first use). */
  lazy: boolean;
  /** Step during which the probe of this type crashed or hung. */
  crash: { step: string; signal: string | null; timedOut: boolean } | null;
}

export interface FreshModuleResult {
  variant: string;
  supported: boolean;
  moduleCollected: boolean | null;
  typesLeft: string[];
  type?: string;
  reason?: string;
}

export interface RuntimeReport {
  python: string;
  module: string;
  file: string | null;
  multiPhase: boolean | null;
  importError: string | null;
  types: RuntimeType[];
  fresh: FreshModuleResult[];
  freshCrash: { step: string; signal: string | null; timedOut: boolean } | null;
  /** The probe itself could not run (interpreter missing, module not importable for another reason). */
  problem: string | null;
  /** The interpreter cannot run the probe at all (not Python, Python < 3.9, missing): a usage error. */
  interpreterProblem: string | null;
  /** Factories (by the type name given) for which the module has no type: a usage error. */
  unknownFactories: string[];
  /** Factories that raised while the module's types were listed, before their type could be known. */
  factoryErrors: { name: string; error: string; traceback: string }[];
}

export async function verifyModule(options: VerifyOptions): Promise<RuntimeReport> {
  const unusable = await interpreterProblem(options.python, options.cwd);
  const lazyFactories = Object.entries(options.factories).flatMap(([name, expr]) => ['--lazy-factory', `${name}=${expr}`]);
  const list = unusable ? null : await runProbeCommand(['list', options.module, ...lazyFactories], options);
  const moduleLine = list?.lines.find((l) => l.event === 'module');
  const report: RuntimeReport = {
    python: String(moduleLine?.python ?? 'unknown'),
    module: options.module,
    file: typeof moduleLine?.file === 'string' ? moduleLine.file : null,
    multiPhase: typeof moduleLine?.multi_phase === 'boolean' ? moduleLine.multi_phase : null,
    importError: typeof moduleLine?.import_error === 'string' ? moduleLine.import_error : null,
    types: [],
    fresh: [],
    freshCrash: null,
    problem: null,
    interpreterProblem: unusable,
    unknownFactories: [],
    factoryErrors: [],
  };
  if (unusable || !list) {
    report.problem = unusable;
    return report;
  }
  if (!moduleLine) {
    report.problem = list.crashedAt
      ? `importing ${options.module} crashed the interpreter (${describeDeath(list)})`
      : `the probe did not run: ${list.stderr.trim().split('\n').slice(-1)[0] || `exit code ${list.exitCode}`}`;
    if (list.crashedAt) report.importError = `crash: ${describeDeath(list)}`;
    return report;
  }
  if (report.importError) return report;
  const listed = list.lines.filter((l) => l.event === 'type');
  for (const l of list.lines.filter((x) => x.event === 'factory_error')) {
    report.factoryErrors.push({ name: String(l.name), error: String(l.error), traceback: String(l.traceback ?? '') });
  }
  report.unknownFactories = Object.keys(options.factories).filter((name) =>
    !listed.some((t) => t.name === name || t.qualname === name) && !report.factoryErrors.some((e) => e.name === name));
  if (report.unknownFactories.length) return report;
  for (const t of listed) {
    const rt: RuntimeType = {
      name: String(t.name), qualname: String(t.qualname), heap: !!t.heap, gc: !!t.gc, immutable: !!t.immutable,
      managedDict: !!t.managed_dict, instance: null, tracked: null, typeInReferents: null, refcountDelta: null,
      selfCycleCollected: null, collectInDealloc: null, crash: null, memberVisits: [], factoryError: null, lazy: !!t.lazy,
    };
    const args = ['type', options.module, rt.qualname, '--instances', String(options.instances)];
    const factory = options.factories[rt.name] ?? options.factories[rt.qualname];
    if (factory) args.push('--factory', factory);
    const run = await runProbeCommand(args, options);
    readTypeRun(rt, run);
    report.types.push(rt);
  }
  // The fresh-module test stores one instance on the module; a factory says how to make it.
  const firstFactory = Object.values(options.factories)[0];
  const fresh = await runProbeCommand(['module', options.module, ...(firstFactory ? ['--factory', firstFactory] : [])], options);
  for (const l of fresh.lines.filter((x) => x.event === 'fresh_module')) {
    report.fresh.push({
      variant: String(l.variant ?? 'plain'), supported: !!l.supported,
      moduleCollected: typeof l.module_collected === 'boolean' ? l.module_collected : null,
      typesLeft: Array.isArray(l.types_left) ? l.types_left.map(String) : [],
      type: typeof l.type === 'string' ? l.type : undefined,
      reason: typeof l.reason === 'string' ? l.reason : undefined,
    });
  }
  if (fresh.crashedAt) report.freshCrash = { step: fresh.crashedAt, signal: fresh.signal, timedOut: fresh.timedOut };
  return report;
}

function readTypeRun(rt: RuntimeType, run: ProbeRun): void {
  for (const l of run.lines) {
    if (l.event === 'instance') rt.instance = { ok: !!l.ok, via: str(l.via), error: str(l.error) };
    if (l.event === 'factory_error') rt.factoryError = { error: String(l.error), traceback: String(l.traceback ?? '') };
    if (l.event !== 'fact') continue;
    switch (l.fact) {
      case 'member_visit': if (typeof l.value === 'boolean') rt.memberVisits.push({ via: String(l.via), value: l.value }); break;
      case 'tracked': rt.tracked = bool(l.value); break;
      case 'type_in_referents': rt.typeInReferents = bool(l.value); break;
      case 'type_refcount_delta': if (typeof l.value === 'number') rt.refcountDelta = { value: l.value, n: Number(l.n ?? 0) }; break;
      case 'collect_in_dealloc': rt.collectInDealloc = bool(l.value); break;
      case 'self_cycle_collected': rt.selfCycleCollected = { value: bool(l.value), via: str(l.via) ?? undefined, reason: str(l.reason) ?? undefined }; break;
    }
  }
  if (run.crashedAt) rt.crash = { step: run.crashedAt, signal: run.signal, timedOut: run.timedOut };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function describeDeath(run: Pick<ProbeRun, 'signal' | 'timedOut' | 'exitCode'>): string {
  if (run.timedOut) return 'it hung and was stopped';
  if (run.signal) return `killed by ${run.signal}`;
  return `exit code ${run.exitCode}`;
}

export function describeCrash(c: { step: string; signal: string | null; timedOut: boolean }): string {
  const how = c.timedOut ? 'hangs' : `crashes the interpreter${c.signal ? ` (${c.signal})` : ''}`;
  const during: Record<string, string> = {
    instance: 'making an instance',
    collect_with_instance: 'a collection while an instance is alive',
    drop: 'freeing an instance',
    refcount: 'creating and freeing instances',
    self_cycle: 'collecting a cycle through an instance',
    member_visit: 'reading gc.get_referents of an instance with an attribute set',
    factory: 'running a factory',
    collect_in_dealloc: 'a collection run inside tp_dealloc (by a member freed there)',
    'start-up': 'importing the module',
  };
  return `${during[c.step] ?? c.step} ${how}`;
}

export type { ProbeLine };
