// The stable, versioned JSON contract (version 1). Fields are never renamed or removed within a version.

import type { AnalysisResult } from '../analyze.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

export function formatJson(result: AnalysisResult): string {
  const doc = {
    version: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    findings: result.findings.map((f) => ({
      rule: f.rule, severity: f.severity, message: f.message, file: f.file, line: f.line, column: f.column,
      type: f.type, typeKind: f.typeKind, spec: f.spec, function: f.function, member: f.member, module: f.module,
    })),
    summary: {
      files: result.filesAnalysed,
      types: result.model.types.length,
      modules: result.model.modules.length,
      findings: result.findings.length,
      unparsed: result.unparsed,
      seconds: Math.round(result.seconds * 1000) / 1000,
    },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
