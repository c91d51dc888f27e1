// GCC-style text: `path:line:col: severity: message [rule-id]`, then a one-line summary.

import type { AnalysisResult, CheckResult } from '../analyze.js';
import { sourceSnippet, type SourceIndex } from './source.js';

export interface TextOptions {
  verbose: boolean;
  color: boolean;
  /** `--show-source`: the offending line with a caret under each finding, as clang prints it. */
  source?: SourceIndex;
}

const COLORS = { error: '\x1b[1;31m', warning: '\x1b[1;35m', note: '\x1b[1;36m', reset: '\x1b[0m', bold: '\x1b[1m', caret: '\x1b[1;32m' };

export function formatFindings(result: Pick<AnalysisResult, 'findings'>, options: TextOptions): string {
  const c = (code: string, s: string) => (options.color ? code + s + COLORS.reset : s);
  const lines: string[] = [];
  for (const f of result.findings) {
    lines.push(`${c(COLORS.bold, `${printable(f.file)}:${f.line}:${f.column}:`)} ${c(COLORS[f.severity], `${f.severity}:`)} ${printable(f.message)} [${f.rule}]`);
    const text = options.source?.line(f.file, f.line);
    if (text != null) lines.push(sourceSnippet(text, f.line, f.column, { caret: (s) => c(COLORS.caret, s) }).replace(/\n$/, ''));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Problems, uncertainties and the summary line: written to stderr so stdout stays machine-readable. */
export function formatDiagnostics(result: CheckResult, options: TextOptions): string {
  const lines: string[] = [];
  for (const p of result.problems) {
    if (p.quiet && !options.verbose) continue;
    lines.push(`capi-gc: ${printable(p.file)}: ${printable(p.message)}`);
    if (options.verbose && p.detail) for (const d of p.detail.split('\n').slice(0, 12)) lines.push(`capi-gc:     ${d}`);
  }
  const notAnalysed = result.problems.filter((p) => p.notAnalysed || p.fatal);
  const quiet = result.problems.filter((p) => p.quiet && !p.encoding).length;
  const decoded = result.problems.filter((p) => p.encoding).length;
  if (decoded && !options.verbose) lines.push(`capi-gc: ${decoded} file(s) were not plain UTF-8 (UTF-16, Latin-1 or NUL bytes) and were decoded as such (--verbose lists them)`);
  if (result.apiHeaders.length) lines.push(`capi-gc: ${result.apiHeaders.length} header(s) of the C API itself (CPython's Include/, pythoncapi_compat.h) were read as the C API, not as extension code`);
  if (quiet && !options.verbose) lines.push(`capi-gc: ${quiet} large file(s) with no type, module or GC code were skipped (--verbose lists them)`);
  const u = result.uncertainties;
  const conditions = result.conditions.reduce((n, f) => n + f.unknownConditions.length, 0);
  if (options.verbose) {
    for (const x of u) lines.push(`capi-gc: ${printable(x.file)}:${x.line}: not understood: ${printable(x.message)}`);
    for (const f of result.conditions) {
      for (const cond of f.unknownConditions) {
        lines.push(`capi-gc: ${printable(f.file)}:${cond.line}: ${printable(cond.condition)}: unknown macro(s) ${cond.macros.join(', ')}; analysed the first branch (use --define/--undefine)`);
      }
    }
  } else if (u.length) {
    lines.push(`capi-gc: ${u.length} construct(s) could not be decided and produced no error (e.g. ${printable(u[0].file)}:${u[0].line}: ${printable(u[0].message)}); --verbose lists them all`);
  }
  if (!options.verbose && conditions) {
    lines.push(`capi-gc: ${conditions} #if condition(s) used macros with no known value; the first branch was analysed (--verbose lists them)`);
  }
  const counts = { error: 0, warning: 0, note: 0 };
  for (const f of result.findings) counts[f.severity]++;
  lines.push(
    `capi-gc: ${result.filesAnalysed} file(s), ${result.counts.types} type(s), ${result.counts.modules} module(s): `
    + `${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s) in ${result.seconds.toFixed(2)}s`
    + (notAnalysed.length ? `; ${notAnalysed.length} input(s) NOT analysed: ${notAnalysed.slice(0, 5).map((p) => printable(p.file)).join(', ')}${notAnalysed.length > 5 ? ', …' : ''}` : ''),
  );
  return lines.join('\n') + '\n';
}

/**
 * Text from the input (file names, names from the C code) with its control characters escaped, so that a file
 * named `a.c\nfake.c:1:1: error: …` cannot forge a line of output that editors and CI parsers would read.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
