// Rule ids that only `verify` reports: what the interpreter showed without a static rule to name it.

import type { Severity } from '../rules/rule.js';

export interface RuntimeRule {
  id: string;
  summary: string;
  defaultSeverity: Severity;
}

export const RUNTIME_RULES: readonly RuntimeRule[] = [
  {
    id: 'runtime-crash',
    summary: 'The interpreter crashed or hung while verify made, collected or freed instances of a type (run time only).',
    defaultSeverity: 'error',
  },
  {
    id: 'runtime-leak',
    summary: 'A cycle through an instance, or a fresh module object, was never collected (run time only).',
    defaultSeverity: 'error',
  },
];
