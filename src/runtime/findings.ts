// Run-time observations as findings (`capi-gc verify`), and as verdicts on static findings (`check --verify`).

import { formatMessage, type Finding, type RuntimeEvidence, type RuntimeVerdict, type Severity } from '../rules/rule.js';
import { findRule } from '../rules/index.js';
import { runtimeCrash } from '../rules/runtime-crash.js';
import { runtimeLeak } from '../rules/runtime-leak.js';
import { SYSTEM_ERROR_NO_TRAVERSE } from '../rules/traverse-missing.js';
import { describeCrash, type RuntimeReport, type RuntimeType } from './verify.js';

interface Observation {
  rule: string;
  messageId?: string;
  severity: Severity;
  message: string;
  type: RuntimeType | null;
}

/** What the interpreter showed, one finding per defect observed. */
export function runtimeFindings(report: RuntimeReport, file: string): Finding[] {
  return observations(report).map((o) => ({
    rule: o.rule, ...(o.messageId ? { messageId: o.messageId } : {}), severity: o.severity, message: `${o.message} (seen at run time on Python ${report.python})`,
    file, line: 1, column: 1,
    type: o.type?.name ?? null, typeKind: o.type ? 'heap' : null, spec: null, function: null, member: null,
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
  for (const t of report.types) {
    if (!t.heap) continue;
    if (!t.gc) {
      out.push({ rule: 'gc-flag-missing', severity: t.immutable ? 'note' : 'error', type: t,
        message: `heap type ${t.name} does not have Py_TPFLAGS_HAVE_GC: gc.is_tracked() is false for its instances and the collector never sees them` });
    }
    if (t.crash) {
      out.push(crash('typeCrash', { crash: describeCrash(t.crash), type: t.name }, t));
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
      out.push(leak('cycleNotCollected', { type: t.name, via: t.selfCycleCollected.via ?? 'an attribute' }, t));
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
    const { verdict, evidence } = verdictFor(f, report);
    return { ...f, message: `${f.message} [${verdict}: ${evidence}]` };
  });
}
