import type { Rule } from './rule.js';
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
import { moduleStateNotTraversed } from './module-state-not-traversed.js';
import { moduleStateNotCleared } from './module-state-not-cleared.js';
import { managedDictNotVisited } from './managed-dict-not-visited.js';

export const ALL_RULES: readonly Rule[] = [
  gcFlagMissing, traverseMissing, traverseTypeNotVisited, instancesNotTracked, gcAllocMismatch,
  traverseMemberNotVisited, clearMissing, clearMemberNotCleared, deallocNotUntracked, deallocTypeNotDecrefed,
  moduleStateNotTraversed, moduleStateNotCleared, managedDictNotVisited,
];

export function findRule(id: string): Rule | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
