import type { Rule, RuleMeta } from './rule.js';
import { gcFlagMissing } from './gc-flag-missing.js';
import { traverseMissing } from './traverse-missing.js';
import { traverseTypeNotVisited } from './traverse-type-not-visited.js';
import { instancesNotTracked } from './instances-not-tracked.js';
import { gcAllocMismatch } from './gc-alloc-mismatch.js';
import { traverseMemberNotVisited } from './traverse-member-not-visited.js';
import { clearMissing } from './clear-missing.js';
import { clearMemberNotCleared } from './clear-member-not-cleared.js';
import { deallocNotUntracked } from './dealloc-not-untracked.js';
import { deallocTypeNotDecrefed } from './dealloc-type-not-decrefed.js';
import { deallocNeverFrees } from './dealloc-never-frees.js';
import { moduleStateNotTraversed } from './module-state-not-traversed.js';
import { moduleStateNotCleared } from './module-state-not-cleared.js';
import { managedDictNotVisited } from './managed-dict-not-visited.js';
import { bufferNotReleased } from './buffer-not-released.js';
import { runtimeCrash } from './runtime-crash.js';
import { runtimeLeak } from './runtime-leak.js';
import { runtimeNotTestable } from './runtime-not-testable.js';

/** The rules `check` runs on the sources. */
export const ALL_RULES: readonly Rule[] = [
  gcFlagMissing, traverseMissing, traverseTypeNotVisited, instancesNotTracked, gcAllocMismatch,
  traverseMemberNotVisited, clearMissing, clearMemberNotCleared, deallocNotUntracked, deallocTypeNotDecrefed,
  deallocNeverFrees, moduleStateNotTraversed, moduleStateNotCleared, managedDictNotVisited, bufferNotReleased,
];

/** Rules only `verify` reports: what the interpreter showed without a static rule to name it. */
export const RUNTIME_ONLY_RULES: readonly RuleMeta[] = [runtimeCrash, runtimeLeak, runtimeNotTestable];

/** Every rule id a user can name (`--select`, `--ignore`, `capi-gc rules`, suppression comments). */
export const KNOWN_RULES: readonly RuleMeta[] = [...ALL_RULES, ...RUNTIME_ONLY_RULES];

export function findRule(id: string): RuleMeta | undefined {
  return KNOWN_RULES.find((r) => r.id === id);
}
