// Suppression comments.
//
// capi-gc's own, ruff-like: `// capi-gc: ignore[rule-id, other-id]` or `/* capi-gc: ignore */` on the reported line
// or the line above it; a bare `ignore` silences every rule there.
//
// clang-tidy's, for projects that already use it: `// NOLINT(capi-gc-<id>)` on the reported line,
// `// NOLINTNEXTLINE(capi-gc-<id>)` on the line above, `// NOLINTBEGIN(capi-gc-<id>)` … `// NOLINTEND(…)` around a
// region. As in clang-tidy, a plain `NOLINT` (no list) or a glob matching the check name (`*`, `capi-gc-*`)
// silences capi-gc too; a list naming only other tools' checks (`NOLINT(bugprone-foo)`) does not.
//
// Text after the rule list is the reason (`// capi-gc: ignore[gc-flag-missing] -- immortal type`,
// `// NOLINT(capi-gc-gc-flag-missing): immortal type`): SARIF keeps it as the suppression's justification.

export type SuppressionStyle = 'capi-gc' | 'NOLINT' | 'NOLINTNEXTLINE' | 'NOLINTBEGIN';

export interface SuppressionComment {
  file: string;
  /** Line (1-based) and column of the comment's directive. */
  line: number;
  column: number;
  /** The lines it silences (inclusive). */
  from: number;
  to: number;
  style: SuppressionStyle;
  /** capi-gc rule ids named explicitly (`capi-gc-` prefix removed for NOLINT), as written. */
  rules: string[];
  /** True when it silences every capi-gc rule (bare `capi-gc: ignore`, plain `NOLINT`, `NOLINT(*)`, `NOLINT(capi-gc-*)`). */
  all: boolean;
  /** Globs over clang-tidy check names (`capi-gc-dealloc-*`) besides the explicit ids. */
  patterns: string[];
  /** True when the comment names capi-gc (not a plain NOLINT meant for clang-tidy): only these are reported unused. */
  explicit: boolean;
  /** The directive as written (`capi-gc: ignore[gc-flag-missing]`, `NOLINT(capi-gc-gc-flag-missing)`). */
  text: string;
  /** The reason given after the rule list, if any. */
  reason: string | null;
}

export interface Suppressions {
  comments: SuppressionComment[];
}

const CAPI_GC = /capi-gc:\s*ignore(?:\[([^\]\n]*)\])?/g;
const NOLINT = /\bNOLINT(NEXTLINE|BEGIN|END)?\b(?:\(([^)\n]*)\))?/g;
const CHECK_PREFIX = 'capi-gc-';

export function suppressionsIn(text: string, file = ''): Suppressions {
  const comments: SuppressionComment[] = [];
  if (!text.includes('capi-gc:') && !text.includes('NOLINT')) return { comments };
  const lines = text.split('\n');
  const open: { comment: SuppressionComment; key: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    if (line.includes('capi-gc:')) {
      for (const m of line.matchAll(CAPI_GC)) {
        const ids = m[1]?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
        comments.push({
          file, line: lineNo, column: m.index + 1, from: lineNo, to: lineNo + 1, style: 'capi-gc',
          rules: ids, all: !ids.length, patterns: [], explicit: true, text: m[0], reason: reasonAfter(line, m.index + m[0].length),
        });
      }
    }
    if (!line.includes('NOLINT')) continue;
    for (const m of line.matchAll(NOLINT)) {
      const kind = m[1] as 'NEXTLINE' | 'BEGIN' | 'END' | undefined;
      const checks = m[2] === undefined ? null : m[2].split(',').map((s) => s.trim()).filter(Boolean);
      if (kind === 'END') {
        // Closes the innermost open region with the same list (clang-tidy pairs them by their check lists).
        const key = (checks ?? []).join(',');
        for (let k = open.length - 1; k >= 0; k--) {
          if (open[k].key !== key) continue;
          open[k].comment.to = lineNo;
          open.splice(k, 1);
          break;
        }
        continue;
      }
      const parsed = parseChecks(checks);
      if (!parsed) continue; // names only other tools' checks
      const style: SuppressionStyle = kind === 'NEXTLINE' ? 'NOLINTNEXTLINE' : kind === 'BEGIN' ? 'NOLINTBEGIN' : 'NOLINT';
      const comment: SuppressionComment = {
        file, line: lineNo, column: m.index + 1,
        from: style === 'NOLINTNEXTLINE' ? lineNo + 1 : lineNo,
        to: style === 'NOLINTNEXTLINE' ? lineNo + 1 : style === 'NOLINTBEGIN' ? lines.length : lineNo,
        style, ...parsed, text: m[0], reason: reasonAfter(line, m.index + m[0].length),
      };
      comments.push(comment);
      if (style === 'NOLINTBEGIN') open.push({ comment, key: (checks ?? []).join(',') });
    }
  }
  return { comments };
}

function parseChecks(checks: string[] | null): Pick<SuppressionComment, 'rules' | 'all' | 'patterns' | 'explicit'> | null {
  if (checks === null || !checks.length) return { rules: [], all: true, patterns: [], explicit: false };
  const rules: string[] = [];
  const patterns: string[] = [];
  let all = false;
  let explicit = false;
  for (const check of checks) {
    if (check.startsWith('-')) continue; // clang-tidy's negative globs only narrow a list
    if (check.includes('*')) {
      if (check === '*' || check === 'capi-gc-*') {
        all = true;
        explicit ||= check !== '*';
      } else {
        // Matched against `capi-gc-<id>` when a finding is checked; one that can match nothing of ours is harmless.
        patterns.push(check);
        explicit ||= check.startsWith('capi-gc');
      }
      continue;
    }
    if (check.startsWith(CHECK_PREFIX)) {
      rules.push(check.slice(CHECK_PREFIX.length));
      explicit = true;
    }
  }
  if (!all && !rules.length && !patterns.length) return null;
  return { rules, all, patterns, explicit };
}

function globMatches(glob: string, name: string): boolean {
  const re = new RegExp('^' + glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(name);
}

/** The reason written after a directive: `-- reason`, `: reason`, `reason`, without a closing `*\/`. */
function reasonAfter(line: string, end: number): string | null {
  let rest = line.slice(end);
  const close = rest.indexOf('*/');
  if (close >= 0) rest = rest.slice(0, close);
  // Another directive on the same line is not a reason.
  const next = rest.search(/capi-gc:\s*ignore|\bNOLINT/);
  if (next >= 0) rest = rest.slice(0, next);
  rest = rest.replace(/^[\s:;,.—–-]+/, '').replace(/[\s/]+$/, '').trim();
  return rest.length ? rest : null;
}

/** Whether `comment` silences `rule`. */
export function suppressesRule(comment: SuppressionComment, rule: string): boolean {
  return comment.all || comment.rules.includes(rule) || comment.patterns.some((p) => globMatches(p, CHECK_PREFIX + rule));
}

/** The comment that silences `rule` at `line`, or null. A comment naming the rule wins over a blanket one. */
export function isSuppressed(s: Suppressions, rule: string, line: number): SuppressionComment | null {
  let blanket: SuppressionComment | null = null;
  for (const c of s.comments) {
    if (line < c.from || line > c.to || !suppressesRule(c, rule)) continue;
    if (!c.all) return c;
    blanket ??= c;
  }
  return blanket;
}

/** Rule ids a comment names, for checking them against the known rules. */
export function namedRuleIds(c: SuppressionComment): string[] {
  return c.rules;
}

export interface UnusedSuppression {
  comment: SuppressionComment;
  /** The ids of the comment that silenced nothing; empty for a blanket comment that silenced nothing. */
  rules: string[];
}

/**
 * Comments that name capi-gc and silenced nothing (or ids of them that silenced nothing). Ids of rules that did not
 * run (`--select`, `--ignore`, a Python version they do not apply to) and unknown ids (reported on their own) are
 * not judged; neither is a plain NOLINT, which is clang-tidy's.
 */
export function unusedSuppressions(
  comments: readonly SuppressionComment[],
  used: ReadonlyMap<SuppressionComment, ReadonlySet<string>>,
  ranRules: ReadonlySet<string>,
): UnusedSuppression[] {
  const out: UnusedSuppression[] = [];
  for (const c of comments) {
    if (!c.explicit) continue;
    const silenced = used.get(c);
    if (c.all || c.patterns.length) {
      if (!silenced?.size && !c.rules.length) out.push({ comment: c, rules: [] });
      if (!c.rules.length) continue;
    }
    const idle = c.rules.filter((id) => ranRules.has(id) && !silenced?.has(id));
    if (idle.length) out.push({ comment: c, rules: idle });
  }
  return out;
}
