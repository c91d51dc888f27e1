// Suppression comments, clang-tidy/ruff style: `// capi-gc: ignore[rule-id, other-id]` or `/* capi-gc: ignore */`
// on the reported line or the line above it. A bare `ignore` silences every rule there.

export type Suppressions = Map<number, Set<string> | 'all'>;

const COMMENT = /capi-gc:\s*ignore(?:\[([\w\s,-]*)\])?/g;

export function suppressionsIn(text: string): Suppressions {
  const out: Suppressions = new Map();
  if (!text.includes('capi-gc:')) return out;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes('capi-gc:')) continue;
    for (const m of line.matchAll(COMMENT)) {
      const lineNo = i + 1;
      const ids = m[1]?.split(',').map((s) => s.trim()).filter(Boolean);
      const existing = out.get(lineNo);
      if (!ids?.length || existing === 'all') out.set(lineNo, 'all');
      else out.set(lineNo, new Set([...(existing ?? []), ...ids]));
    }
  }
  return out;
}

export function isSuppressed(s: Suppressions, rule: string, line: number): boolean {
  for (const l of [line, line - 1]) {
    const entry = s.get(l);
    if (entry === 'all' || entry?.has(rule)) return true;
  }
  return false;
}
