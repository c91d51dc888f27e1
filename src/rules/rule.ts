// What a rule is: metadata plus a check that reads the model and reports findings.

import type { ExtensionType, Model } from '../model/model.js';

export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  type: string | null;
  typeKind: 'heap' | 'static' | null;
  spec: string | null;
  function: string | null;
  member: string | null;
  module: string | null;
}

export interface ReportInput {
  severity?: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  type?: ExtensionType | null;
  function?: string | null;
  member?: string | null;
  module?: string | null;
}

export type Report = (input: ReportInput) => void;

export interface Rule {
  id: string;
  summary: string;
  defaultSeverity: Severity;
  /** Oldest and newest Python versions (inclusive) the rule applies to; null for no bound. */
  appliesTo: { from: [number, number] | null; until: [number, number] | null };
  /**
   * `model` is the code as compiled for max(oldest supported, appliesTo.from); `context.oldest` is the code as
   * compiled for the oldest supported version, for rules that also judge what must not happen there.
   */
  check(model: Model, report: Report, context: RuleContext): void;
}

export interface RuleContext {
  oldest: Model;
  /** Says that the rule could not decide something (a macro or function it cannot see): listed by --verbose. */
  undecided(file: string, line: number, message: string): void;
}

/**
 * Whether a rule matters for an extension whose oldest supported Python is `oldest` (newer ones are supported too):
 * only a rule whose last version is older than that is irrelevant.
 */
export function ruleAppliesTo(rule: Rule, oldest: { major: number; minor: number }): boolean {
  const { until } = rule.appliesTo;
  return !until || oldest.major * 100 + oldest.minor <= until[0] * 100 + until[1];
}
