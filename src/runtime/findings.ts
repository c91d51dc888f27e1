// Run-time observations as findings (`capi-gc verify`), and as verdicts on static findings (`check --verify`).

import { formatMessage, type Finding, type RuntimeEvidence, type RuntimeVerdict, type Severity } from '../rules/rule.js';
import { findRule } from '../rules/index.js';
import { runtimeCrash } from '../rules/runtime-crash.js';
import { runtimeLeak } from '../rules/runtime-leak.js';
import { runtimeNotTestable } from '../rules/runtime-not-testable.js';
import { SYSTEM_ERROR_NO_TRAVERSE } from '../rules/traverse-missing.js';
import { describeCrash, type RuntimeReport, type RuntimeType } from './verify.js';

interface Observation {
  rule: string;
  messageId?: string;
  severity: Severity;
  message: string;
  type: RuntimeType | null;
  member?: string;
}

/** What the interpreter showed, one finding per defect observed. */
export function runtimeFindings(report: RuntimeReport, file: string): Finding[] {
  return observations(report).map((o) => ({
    rule: o.rule, ...(o.messageId ? { messageId: o.messageId } : {}), severity: o.severity, message: `${o.message} (seen at run time on Python ${report.python})`,
    file, line: 1, column: 1,
    type: o.type?.name ?? null, typeKind: o.type ? (o.type.heap ? 'heap' : 'static') : null, spec: null, function: null, member: o.member ?? null,
    module: report.module,
  }));
}

function observations(report: RuntimeReport): Observation[] {
  const out: Observation[] = [];
  if (report.importError) {
    const noTraverse = SYSTEM_ERROR_NO_TRAVERSE.test(report.importError);
    // The same words whichever rule the failure belongs to.
    const message = formatMessage(runtimeCrash, 'importFails', { module: report.module, error: report.importError });
    out.push(noTraverse
      ? { rule: 'traverse-missing', severity: 'error', type: null, message }
      : { rule: runtimeCrash.id, messageId: 'importFails', severity: 'error', type: null, message });
    return out;
  }
  for (const e of report.factoryErrors) {
    out.push(notTestable('factoryRaised', { type: e.name, error: e.error, traceback: e.traceback.trimEnd() }, null));
  }
  for (const t of report.types) {
    if (t.factoryError) {
      out.push(notTestable('factoryRaised', { type: t.name, error: t.factoryError.error, traceback: t.factoryError.traceback.trimEnd() }, t));
    } else if (t.instance && !t.instance.ok && !t.crash) {
      out.push(notTestable('noInstance', { type: t.name, error: t.instance.error ?? 'no existing instance either' }, t));
    }
    const notVisited = t.memberVisits.filter((v) => !v.value).map((v) => v.via);
    for (const via of notVisited) {
      out.push(via === '__dict__' && t.managedDict
        ? { rule: 'managed-dict-not-visited', severity: 'error', type: t,
          message: `an object stored in the __dict__ of a ${t.name} instance is not among gc.get_referents(instance): its tp_traverse does not visit the managed dict` }
        : { rule: 'traverse-member-not-visited', severity: 'error', type: t, member: via,
          message: `an object stored in ${t.name}.${via} is not among gc.get_referents(instance): its tp_traverse does not visit that member` });
    }
    if (t.crash) {
      out.push(crash('typeCrash', { crash: describeCrash(t.crash), type: t.name }, t));
    }
    if (t.gc && t.instance?.ok && t.tracked === false && t.instance.via !== 'existing') {
      out.push({ rule: 'instances-not-tracked', severity: 'error', type: t,
        message: `an instance of GC type ${t.name} made by ${t.instance.via === 'factory' ? 'its factory' : 'calling the type'} is not tracked (gc.is_tracked() is false)` });
    }
    // A cycle through a member the traverse does not visit is that defect, already reported.
    if (t.selfCycleCollected?.value === false && !notVisited.includes(t.selfCycleCollected.via === PROBE_ATTR ? '__dict__' : t.selfCycleCollected.via ?? '')) {
      out.push(leak('cycleNotCollected', { type: t.name, via: t.selfCycleCollected.via ?? 'an attribute' }, t));
    }
    // Static types hold no reference to themselves: the type's visit and decref are heap types' duties.
    if (!t.heap) continue;
    if (!t.gc) {
      out.push({ rule: 'gc-flag-missing', severity: t.immutable ? 'note' : 'error', type: t,
        message: `heap type ${t.name} does not have Py_TPFLAGS_HAVE_GC: gc.is_tracked() is false for its instances and the collector never sees them` });
    }
    if (t.gc && t.tracked && t.typeInReferents === false) {
      out.push({ rule: 'traverse-type-not-visited', severity: 'error', type: t,
        message: `${t.name} is not among gc.get_referents(instance): its tp_traverse does not visit the type` });
    }
    if (t.refcountDelta && t.refcountDelta.n > 0 && t.refcountDelta.value >= t.refcountDelta.n * 0.9) {
      out.push({ rule: 'dealloc-type-not-decrefed', severity: 'error', type: t,
        message: `the reference count of ${t.name} grew by ${t.refcountDelta.value} after ${t.refcountDelta.n} instances were created and freed: its tp_dealloc does not Py_DECREF the type` });
    }
  }
  for (const f of report.fresh) {
    if (!f.supported) continue;
    if (f.moduleCollected === false) {
      out.push(f.variant === 'with_instance'
        ? leak('freshModuleWithInstance', { module: report.module, type: f.type ?? 'one of its types' }, null)
        : leak('freshModule', { module: report.module }, null));
    } else if (f.typesLeft.length) {
      out.push(leak(f.variant === 'with_instance' ? 'typesOutliveModuleWithInstance' : 'typesOutliveModule', { module: report.module, types: f.typesLeft.join(', ') }, null));
    }
  }
  if (report.freshCrash) {
    out.push(crash('freshModuleCrash', { module: report.module, crash: describeCrash(report.freshCrash) }, null));
  }
  return out;
}

/** The instance attribute the probe sets (src/runtime/probe.py PROBE_ATTR). */
const PROBE_ATTR = '_capi_gc_probe';

function notTestable(messageId: keyof typeof runtimeNotTestable.messages, data: Record<string, string>, type: RuntimeType | null): Observation {
  return { rule: runtimeNotTestable.id, messageId, severity: runtimeNotTestable.defaultSeverity, message: formatMessage(runtimeNotTestable, messageId, data), type };
}

function crash(messageId: keyof typeof runtimeCrash.messages, data: Record<string, string>, type: RuntimeType | null): Observation {
  return { rule: runtimeCrash.id, messageId, severity: runtimeCrash.defaultSeverity, message: formatMessage(runtimeCrash, messageId, data), type };
}

function leak(messageId: keyof typeof runtimeLeak.messages, data: Record<string, string>, type: RuntimeType | null): Observation {
  return { rule: runtimeLeak.id, messageId, severity: runtimeLeak.defaultSeverity, message: formatMessage(runtimeLeak, messageId, data), type };
}

export type { Verdict } from '../rules/rule.js';

/** The run-time verdict on one static finding, with the evidence: each rule judges its own findings. */
export function verdictFor(f: Finding, report: RuntimeReport): RuntimeVerdict {
  const python = `Python ${report.python}`;
  if (report.problem) return { verdict: 'not testable', evidence: report.problem };
  const rule = findRule(f.rule);
  if (report.importError) {
    return rule?.importErrorVerdict?.(report.importError, python)
      ?? { verdict: 'not testable', evidence: `the module does not import on ${python}: ${report.importError}` };
  }
  const seen: RuntimeEvidence = {
    report, python,
    module: f.module ?? report.module,
    type: f.type ? report.types.find((x) => x.name === f.type || x.name.endsWith(`.${f.type}`)) : undefined,
    moduleLeak: moduleLeak(report),
    typeNotFound: { verdict: 'not testable', evidence: `type ${f.type ?? f.spec ?? '?'} was not found in the imported module` },
    instanceProblem,
  };
  return rule?.runtimeVerdict?.(f, seen) ?? { verdict: 'not testable', evidence: 'no run-time check for this rule' };
}

function moduleLeak(report: RuntimeReport): string | null {
  for (const f of report.fresh) {
    if (!f.supported) continue;
    if (f.moduleCollected === false) return `a fresh module ${f.variant === 'with_instance' ? 'holding an instance ' : ''}is never collected`;
    if (f.typesLeft.length) return `type(s) ${f.typesLeft.join(', ')} outlive a fresh module`;
  }
  return null;
}

function instanceProblem(t: RuntimeType): string {
  if (t.crash) return describeCrash(t.crash);
  if (!t.instance?.ok) return `no instance of ${t.name} could be made${t.instance?.error ? ` (${t.instance.error})` : ''}; give a factory in [tool.capi-gc.verify]`;
  return `the instance of ${t.name} is not tracked, so the collector's view of it cannot be read`;
}

/** `check --verify`: each static finding's message says what the interpreter showed. */
export function annotateFindings(findings: Finding[], report: RuntimeReport): Finding[] {
  return findings.map((f) => {
    const runtime = verdictFor(f, report);
    return { ...f, message: `${f.message} [${runtime.verdict}: ${runtime.evidence}]`, runtime };
  });
}

export const FOUND_AT_RUN_TIME_ONLY = 'found at run time only';

function sameType(staticType: string | null, runtimeType: string | null): boolean {
  if (!staticType || !runtimeType) return false;
  return staticType === runtimeType || runtimeType.endsWith(`.${staticType}`) || staticType.endsWith(`.${runtimeType}`);
}

/**
 * `check --verify`: what the interpreter showed that no static finding predicted (the static misses to chase),
 * and the notes on what could not be tested. A run-time finding is predicted by a static finding of its rule on
 * its type, or by one the run time confirmed on its type (or, for a module-level leak, on its module).
 */
export function runtimeOnlyFindings(annotated: readonly Finding[], report: RuntimeReport, file: string): Finding[] {
  const out: Finding[] = [];
  for (const r of runtimeFindings(report, file)) {
    if (r.rule === runtimeNotTestable.id) {
      out.push(r);
      continue;
    }
    const predicted = annotated.some((f) =>
      (f.rule === r.rule && (sameType(f.type, r.type) || (r.type === null && f.type === null)))
      || (f.runtime?.verdict === 'confirmed at run time' && (sameType(f.type, r.type) || r.type === null)));
    if (predicted) continue;
    const runtime = { verdict: FOUND_AT_RUN_TIME_ONLY, evidence: `capi-gc check did not predict it` } as const;
    out.push({ ...r, message: `${r.message} [${runtime.verdict}: ${runtime.evidence}]`, runtime });
  }
  return out;
}

/** What `placeInSource` needs of the model: the types and modules it found, with where they are defined. */
export interface SourcePlaces {
  readonly types: readonly {
    readonly name: string | null;
    readonly file: string;
    readonly line: number;
    readonly column: number;
    readonly struct: { readonly members: readonly { readonly name: string; readonly line: number; readonly column: number }[]; readonly file: string } | null;
  }[];
  readonly modules: readonly { readonly name: string | null; readonly def: { readonly file: string; readonly line: number; readonly column: number } }[];
}

/**
 * `check --verify`: a finding found at run time only points at the C source of its type when the sources say
 * which one it is (the member's declaration for a member not visited, else the spec or PyTypeObject; the
 * PyModuleDef for a module-level finding) rather than at the built module. Ambiguous or unknown: left as is.
 */
export function placeInSource(findings: readonly Finding[], places: SourcePlaces): Finding[] {
  return findings.map((f) => {
    if (f.type) {
      const candidates = places.types.filter((t) => sameType(t.name, f.type));
      if (candidates.length !== 1) return f;
      const t = candidates[0];
      const member = f.member && t.struct ? t.struct.members.find((m) => m.name === f.member) : undefined;
      if (member) return { ...f, file: t.struct!.file, line: member.line, column: member.column };
      return { ...f, file: t.file, line: t.line, column: t.column };
    }
    if (!f.module) return f;
    const modules = places.modules.filter((m) => m.name === f.module || (m.name !== null && f.module!.endsWith(`.${m.name}`)));
    if (modules.length !== 1) return f;
    const def = modules[0].def;
    return { ...f, file: def.file, line: def.line, column: def.column };
  });
}
