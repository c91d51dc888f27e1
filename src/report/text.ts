// GCC-style text: `path:line:col: severity: message [rule-id]`, then a one-line summary.

import type { AnalysisResult } from '../analyze.js';

export interface TextOptions {
  verbose: boolean;
  color: boolean;
}

const COLORS = { error: '\x1b[1;31m', warning: '\x1b[1;35m', note: '\x1b[1;36m', reset: '\x1b[0m', bold: '\x1b[1m' };

export function formatFindings(result: Pick<AnalysisResult, 'findings'>, options: TextOptions): string {
  const c = (code: string, s: string) => (options.color ? code + s + COLORS.reset : s);
  const lines: string[] = [];
  for (const f of result.findings) {
    lines.push(`${c(COLORS.bold, `${f.file}:${f.line}:${f.column}:`)} ${c(COLORS[f.severity], `${f.severity}:`)} ${f.message} [${f.rule}]`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Problems, uncertainties and the summary line: written to stderr so stdout stays machine-readable. */
export function formatDiagnostics(result: AnalysisResult, options: TextOptions): string {
  const lines: string[] = [];
  for (const p of result.problems) {
    if (p.quiet && !options.verbose) continue;
    lines.push(`capi-gc: ${p.file}: ${p.message}`);
  }
  const quiet = result.problems.filter((p) => p.quiet).length;
  if (result.apiHeaders.length) lines.push(`capi-gc: ${result.apiHeaders.length} header(s) of the C API itself (CPython's Include/, pythoncapi_compat.h) were read as the C API, not as extension code`);
  if (quiet && !options.verbose) lines.push(`capi-gc: ${quiet} large file(s) with no type, module or GC code were skipped (--verbose lists them)`);
  const u = result.uncertainties;
  const conditions = result.model.files.reduce((n, f) => n + f.unknownConditions.length, 0);
  if (options.verbose) {
    for (const x of u) lines.push(`capi-gc: ${x.file}:${x.line}: not understood: ${x.message}`);
    for (const f of result.model.files) {
      for (const cond of f.unknownConditions) {
        lines.push(`capi-gc: ${f.file}:${cond.line}: ${cond.condition}: unknown macro(s) ${cond.macros.join(', ')}; analysed the first branch (use --define/--undefine)`);
      }
    }
  } else if (u.length) {
    lines.push(`capi-gc: ${u.length} construct(s) could not be decided and produced no error (e.g. ${u[0].file}:${u[0].line}: ${u[0].message}); --verbose lists them all`);
  }
  if (!options.verbose && conditions) {
    lines.push(`capi-gc: ${conditions} #if condition(s) used macros with no known value; the first branch was analysed (--verbose lists them)`);
  }
  const counts = { error: 0, warning: 0, note: 0 };
  for (const f of result.findings) counts[f.severity]++;
  lines.push(
    `capi-gc: ${result.filesAnalysed} file(s), ${result.model.types.length} type(s), ${result.model.modules.length} module(s): `
    + `${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s) in ${result.seconds.toFixed(2)}s`,
  );
  return lines.join('\n') + '\n';
}
