// Run-time observations as findings (`capi-gc verify`), and as verdicts on static findings (`check --verify`).

import type { Finding, Severity } from '../rules/rule.js';
import { describeCrash, type RuntimeReport, type RuntimeType } from './verify.js';

const SYSTEM_ERROR_NO_TRAVERSE = /has the Py_TPFLAGS_HAVE_GC flag but has no traverse function/;

interface Observation {
  rule: string;
  severity: Severity;
  message: string;
  type: RuntimeType | null;
}

/** What the interpreter showed, one finding per defect observed. */
export function runtimeFindings(report: RuntimeReport, file: string): Finding[] {
  return observations(report).map((o) => ({
    rule: o.rule, severity: o.severity, message: `${o.message} (seen at run time on Python ${report.python})`,
    file, line: 1, column: 1,
    type: o.type?.name ?? null, typeKind: o.type ? 'heap' : null, spec: null, function: null, member: null,
    module: report.module,
  }));
}

function observations(report: RuntimeReport): Observation[] {
  const out: Observation[] = [];
  if (report.importError) {
    const noTraverse = SYSTEM_ERROR_NO_TRAVERSE.test(report.importError);
    out.push({
      rule: noTraverse ? 'traverse-missing' : 'runtime-crash', severity: 'error', type: null,
      message: `importing ${report.module} fails: ${report.importError}`,
    });
    return out;
  }
  for (const t of report.types) {
    if (!t.heap) continue;
    if (!t.gc) {
      out.push({ rule: 'gc-flag-missing', severity: t.immutable ? 'note' : 'error', type: t,
        message: `heap type ${t.name} does not have Py_TPFLAGS_HAVE_GC: gc.is_tracked() is false for its instances and the collector never sees them` });
    }
    if (t.crash) {
      out.push({ rule: 'runtime-crash', severity: 'error', type: t, message: `${describeCrash(t.crash)} for ${t.name}` });
    }
    if (t.gc && t.instance?.ok && t.tracked === false && t.instance.via !== 'existing') {
      out.push({ rule: 'instances-not-tracked', severity: 'error', type: t,
        message: `an instance of GC type ${t.name} made by ${t.instance.via === 'factory' ? 'its factory' : 'calling the type'} is not tracked (gc.is_tracked() is false)` });
    }
    if (t.gc && t.tracked && t.typeInReferents === false) {
      out.push({ rule: 'traverse-type-not-visited', severity: 'error', type: t,
        message: `${t.name} is not among gc.get_referents(instance): its tp_traverse does not visit the type` });
    }
    if (t.refcountDelta && t.refcountDelta.n > 0 && t.refcountDelta.value >= t.refcountDelta.n * 0.9) {
      out.push({ rule: 'dealloc-type-not-decrefed', severity: 'error', type: t,
        message: `the reference count of ${t.name} grew by ${t.refcountDelta.value} after ${t.refcountDelta.n} instances were created and freed: its tp_dealloc does not Py_DECREF the type` });
    }
    if (t.selfCycleCollected?.value === false) {
      out.push({ rule: 'runtime-leak', severity: 'error', type: t,
        message: `a cycle through ${t.name}.${t.selfCycleCollected.via ?? 'an attribute'} is never collected: the collector cannot see or cannot break it` });
    }
  }
  for (const f of report.fresh) {
    if (!f.supported) continue;
    if (f.moduleCollected === false) {
      out.push({ rule: 'runtime-leak', severity: 'error', type: null,
        message: f.variant === 'with_instance'
          ? `a fresh ${report.module} module holding an instance of ${f.type ?? 'one of its types'} is never collected`
          : `a fresh ${report.module} module is never collected after it is dropped` });
    } else if (f.typesLeft.length) {
      out.push({ rule: 'runtime-leak', severity: 'error', type: null,
        message: `after a fresh ${report.module} module is collected, its type(s) ${f.typesLeft.join(', ')} stay alive${f.variant === 'with_instance' ? ' (with an instance stored on the module)' : ''}` });
    }
  }
  if (report.freshCrash) {
    out.push({ rule: 'runtime-crash', severity: 'error', type: null, message: `loading a fresh ${report.module} module: ${describeCrash(report.freshCrash)}` });
  }
  return out;
}

export type Verdict = 'confirmed at run time' | 'not observed' | 'not testable';

/** The run-time verdict on one static finding, with the evidence. */
export function verdictFor(f: Finding, report: RuntimeReport): { verdict: Verdict; evidence: string } {
  const py = `Python ${report.python}`;
  if (report.problem) return { verdict: 'not testable', evidence: report.problem };
  if (report.importError) {
    if (f.rule === 'traverse-missing' && SYSTEM_ERROR_NO_TRAVERSE.test(report.importError)) {
      return { verdict: 'confirmed at run time', evidence: `import raises ${report.importError} on ${py}` };
    }
    return { verdict: 'not testable', evidence: `the module does not import on ${py}: ${report.importError}` };
  }
  const module = f.module ?? report.module;
  const t = f.type ? report.types.find((x) => x.name === f.type || x.name.endsWith(`.${f.type}`)) : undefined;
  const leak = moduleLeak(report);
  switch (f.rule) {
    case 'gc-flag-missing':
      if (!t) return notFound(f);
      return t.gc ? { verdict: 'not observed', evidence: `${t.name} has Py_TPFLAGS_HAVE_GC on ${py}` }
        : { verdict: 'confirmed at run time', evidence: `${t.name} lacks Py_TPFLAGS_HAVE_GC on ${py}${leak ? `; ${leak}` : ''}` };
    case 'traverse-missing':
      if (!t) return notFound(f);
      if (t.crash?.step === 'collect_with_instance') return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${py}` };
      return t.instance?.ok ? { verdict: 'not observed', evidence: `gc.collect() with a live instance of ${t.name} works on ${py}` }
        : { verdict: 'not testable', evidence: `no instance of ${t.name} could be made` };
    case 'traverse-type-not-visited':
      if (!t) return notFound(f);
      if (t.typeInReferents === false) return { verdict: 'confirmed at run time', evidence: `${t.name} is not in gc.get_referents(instance) on ${py}` };
      if (t.typeInReferents === true) return { verdict: 'not observed', evidence: `${t.name} is in gc.get_referents(instance) on ${py}` };
      return { verdict: 'not testable', evidence: instanceProblem(t) };
    case 'instances-not-tracked':
      if (!t) return notFound(f);
      if (t.tracked === false) return { verdict: 'confirmed at run time', evidence: `gc.is_tracked(instance) is false on ${py} (instance made by ${t.instance?.via ?? '?'})` };
      if (t.tracked === true) return { verdict: 'not observed', evidence: `the instance made by ${t.instance?.via ?? '?'} is tracked on ${py}; the flagged allocation path may need a factory in [tool.capi-gc.verify]` };
      return { verdict: 'not testable', evidence: instanceProblem(t) };
    case 'dealloc-not-untracked':
      if (!t) return notFound(f);
      if (t.crash?.step === 'collect_in_dealloc') return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${py}` };
      if (t.collectInDealloc === true) return { verdict: 'not observed', evidence: `a collection inside tp_dealloc did not crash on ${py}` };
      return { verdict: 'not testable', evidence: t.crash ? describeCrash(t.crash) : 'no member of a tracked instance could hold an object whose __del__ collects' };
    case 'gc-alloc-mismatch':
      if (!t) return notFound(f);
      if (t.crash) return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${py}` };
      return { verdict: 'not testable', evidence: `no crash seen on ${py}; memory corruption need not show at once` };
    case 'dealloc-type-not-decrefed':
      if (!t) return notFound(f);
      if (!t.refcountDelta) return { verdict: 'not testable', evidence: instanceProblem(t) };
      return t.refcountDelta.value >= t.refcountDelta.n * 0.9
        ? { verdict: 'confirmed at run time', evidence: `the type's reference count grew by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${py}` }
        : { verdict: 'not observed', evidence: `the type's reference count changed by ${t.refcountDelta.value} over ${t.refcountDelta.n} instances on ${py}` };
    case 'traverse-member-not-visited':
    case 'clear-missing':
    case 'clear-member-not-cleared':
    case 'managed-dict-not-visited': {
      if (!t) return notFound(f);
      const c = t.selfCycleCollected;
      if (c?.value === false) return { verdict: 'confirmed at run time', evidence: `a cycle through ${t.name}.${c.via ?? 'an attribute'} is never collected on ${py}` };
      if (c?.value === true) return { verdict: 'not observed', evidence: `a cycle through ${t.name}.${c.via ?? 'an attribute'} is collected on ${py} (the flagged member may need another cycle)` };
      return { verdict: 'not testable', evidence: c?.reason ?? `no cycle could be made through ${t.name}` };
    }
    case 'module-state-not-traversed':
    case 'module-state-not-cleared': {
      const supported = report.fresh.filter((x) => x.supported);
      if (!supported.length) return { verdict: 'not testable', evidence: report.fresh[0]?.reason ?? `a fresh ${module} module cannot be loaded` };
      return leak ? { verdict: 'confirmed at run time', evidence: `${leak} on ${py}` }
        : { verdict: 'not observed', evidence: `a fresh ${module} module and its types are collected on ${py}` };
    }
  }
  return { verdict: 'not testable', evidence: 'no run-time check for this rule' };
}

function moduleLeak(report: RuntimeReport): string | null {
  for (const f of report.fresh) {
    if (!f.supported) continue;
    if (f.moduleCollected === false) return `a fresh module ${f.variant === 'with_instance' ? 'holding an instance ' : ''}is never collected`;
    if (f.typesLeft.length) return `type(s) ${f.typesLeft.join(', ')} outlive a fresh module`;
  }
  return null;
}

function notFound(f: Finding): { verdict: Verdict; evidence: string } {
  return { verdict: 'not testable', evidence: `type ${f.type ?? f.spec ?? '?'} was not found in the imported module` };
}

function instanceProblem(t: RuntimeType): string {
  if (t.crash) return describeCrash(t.crash);
  if (!t.instance?.ok) return `no instance of ${t.name} could be made${t.instance?.error ? ` (${t.instance.error})` : ''}; give a factory in [tool.capi-gc.verify]`;
  return `the instance of ${t.name} is not tracked, so the collector's view of it cannot be read`;
}

/** `check --verify`: each static finding's message says what the interpreter showed. */
export function annotateFindings(findings: Finding[], report: RuntimeReport): Finding[] {
  return findings.map((f) => {
    const { verdict, evidence } = verdictFor(f, report);
    return { ...f, message: `${f.message} [${verdict}: ${evidence}]` };
  });
}
