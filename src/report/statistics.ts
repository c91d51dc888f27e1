// `--statistics`: how many findings each rule reported, most first, as ruff prints them (count, code, name).

import type { Finding, Severity } from '../rules/rule.js';

export interface RuleCount {
  rule: string;
  severity: Severity;
  count: number;
}

export function ruleCounts(findings: readonly Finding[]): RuleCount[] {
  const by = new Map<string, RuleCount>();
  const rank: Record<Severity, number> = { note: 0, warning: 1, error: 2 };
  for (const f of findings) {
    const c = by.get(f.rule);
    if (!c) by.set(f.rule, { rule: f.rule, severity: f.severity, count: 1 });
    else {
      c.count++;
      if (rank[f.severity] > rank[c.severity]) c.severity = f.severity;
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count || (a.rule < b.rule ? -1 : 1));
}

export function formatStatistics(findings: readonly Finding[], summaryOf: (rule: string) => string): string {
  const counts = ruleCounts(findings);
  if (!counts.length) return '';
  const countWidth = Math.max(...counts.map((c) => String(c.count).length));
  const ruleWidth = Math.max(...counts.map((c) => c.rule.length));
  return counts.map((c) => `${String(c.count).padStart(countWidth)}\t${c.rule.padEnd(ruleWidth)}\t${c.severity.padEnd(7)}\t${summaryOf(c.rule)}`).join('\n') + '\n';
}

export function formatStatisticsJson(findings: readonly Finding[]): string {
  return JSON.stringify(ruleCounts(findings), null, 2) + '\n';
}
