import type { Rule } from './rule.js';
import { gcFlagMissing } from './gc-flag-missing.js';
import { traverseMissing } from './traverse-missing.js';
import { traverseTypeNotVisited } from './traverse-type-not-visited.js';
import { instancesNotTracked } from './instances-not-tracked.js';
import { gcAllocMismatch } from './gc-alloc-mismatch.js';

export const ALL_RULES: readonly Rule[] = [
  gcFlagMissing, traverseMissing, traverseTypeNotVisited, instancesNotTracked, gcAllocMismatch,
];

export function findRule(id: string): Rule | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
