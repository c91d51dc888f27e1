// Run-time verdicts that several rules share: they predict the same observable leak.

import type { RuntimeEvidence, RuntimeVerdict } from './rule.js';

/** Rules about a member's cycle: whether a cycle through an attribute of an instance was collected. */
export function selfCycleVerdict({ type: t, python, typeNotFound }: RuntimeEvidence): RuntimeVerdict {
  if (!t) return typeNotFound;
  const c = t.selfCycleCollected;
  if (c?.value === false) return { verdict: 'confirmed at run time', evidence: `a cycle through ${t.name}.${c.via ?? 'an attribute'} is never collected on ${python}` };
  if (c?.value === true) return { verdict: 'not observed', evidence: `a cycle through ${t.name}.${c.via ?? 'an attribute'} is collected on ${python} (the flagged member may need another cycle)` };
  return { verdict: 'not testable', evidence: c?.reason ?? `no cycle could be made through ${t.name}` };
}

/** Rules about module state: whether a fresh module object, and its types, are collected once dropped. */
export function freshModuleVerdict({ report, module, python, moduleLeak }: RuntimeEvidence): RuntimeVerdict {
  const supported = report.fresh.filter((x) => x.supported);
  if (!supported.length) return { verdict: 'not testable', evidence: report.fresh[0]?.reason ?? `a fresh ${module} module cannot be loaded` };
  return moduleLeak ? { verdict: 'confirmed at run time', evidence: `${moduleLeak} on ${python}` }
    : { verdict: 'not observed', evidence: `a fresh ${module} module and its types are collected on ${python}` };
}

/** traverse-member-not-visited: whether an object stored in the member's attribute shows in gc.get_referents. */
export function memberVisitVerdict(member: string | null, seen: RuntimeEvidence): RuntimeVerdict {
  const visit = seen.type?.memberVisits.find((v) => v.via === member);
  if (visit?.value === false) return { verdict: 'confirmed at run time', evidence: `an object stored in ${seen.type!.name}.${member} is not among gc.get_referents(instance) on ${seen.python}` };
  return selfCycleVerdict(seen);
}
