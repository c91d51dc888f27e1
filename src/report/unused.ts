// `--report-unused-suppressions`: a suppression comment that silences nothing is reported like a finding of the
// pseudo-rule `unused-suppression` (as mypy's `unused-ignore`, ruff's RUF100), so every format shows it.

import type { Finding, RuleMeta } from '../rules/rule.js';
import type { UnusedSuppression } from '../suppress.js';

export const UNUSED_SUPPRESSION: RuleMeta<'unused'> = {
  id: 'unused-suppression',
  summary: 'A suppression comment (`capi-gc: ignore[…]`, `NOLINT(capi-gc-…)`) that silences no finding.',
  defaultSeverity: 'warning',
  appliesTo: { from: null, until: null },
  messages: { unused: '{{what}} suppresses nothing here; remove it' },
  fixTitle: 'Remove the comment, or the rule ids in it that no longer report anything.',
};

export function unusedSuppressionFindings(unused: readonly UnusedSuppression[]): Finding[] {
  return unused.map(({ comment, rules }) => {
    const what = rules.length && (comment.rules.length > rules.length || comment.all || comment.patterns.length)
      ? `${comment.text}: ${rules.map((r) => `"${r}"`).join(', ')}`
      : comment.text;
    return {
      rule: UNUSED_SUPPRESSION.id, messageId: 'unused', severity: UNUSED_SUPPRESSION.defaultSeverity,
      message: `${what} suppresses nothing here; remove it`,
      file: comment.file, line: comment.line, column: comment.column,
      type: null, typeKind: null, spec: null, function: null, member: null, module: null,
    };
  });
}
