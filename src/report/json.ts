// The stable, versioned JSON contract (version 1). Fields are never renamed or removed within a version.

import type { CheckResult } from '../analyze.js';
import type { Finding } from '../rules/rule.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export interface JsonSummary {
  files: number;
  types: number;
  modules: number;
  unparsed: string[];
  seconds: number;
}

export function formatJson(result: Pick<CheckResult, 'findings' | 'filesAnalysed' | 'counts' | 'unparsed' | 'seconds'>): string {
  return formatJsonDocument(result.findings, {
    files: result.filesAnalysed, types: result.counts.types, modules: result.counts.modules,
    unparsed: result.unparsed, seconds: result.seconds,
  });
}

export function formatJsonDocument(findings: readonly Finding[], summary: JsonSummary): string {
  const doc = {
    version: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    findings: findings.map((f) => ({
      rule: f.rule, severity: f.severity, message: f.message, file: f.file, line: f.line, column: f.column,
      type: f.type, typeKind: f.typeKind, spec: f.spec, function: f.function, member: f.member, module: f.module,
      ...(f.runtime ? { runtime: f.runtime } : {}),
    })),
    summary: {
      files: summary.files,
      types: summary.types,
      modules: summary.modules,
      findings: findings.length,
      unparsed: summary.unparsed,
      seconds: Math.round(summary.seconds * 1000) / 1000,
    },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
