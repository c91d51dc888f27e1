// Every rule id a user can name (static rules and the run-time-only ones), and the nearest one to a misspelling.

import { KNOWN_RULES } from './index.js';

export function knownRuleIds(): string[] {
  return KNOWN_RULES.map((r) => r.id);
}

export function isKnownRuleId(id: string): boolean {
  return knownRuleIds().includes(id);
}

/** `unknown rule "x"` with a "did you mean" when one id is close enough to be a typo of it. */
export function unknownRuleMessage(id: string): string {
  const near = nearestRuleId(id);
  return `unknown rule "${id}"${near ? ` (did you mean "${near}"?)` : ' (`capi-gc rules` lists them)'}`;
}

export function nearestRuleId(id: string): string | null {
  return nearestWord(id, knownRuleIds());
}

/** The candidate `word` is most likely a typo of, or null when none is close (rule ids, option names). */
export function nearestWord(word: string, candidates: Iterable<string>): string | null {
  let best: { id: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (!best || d < best.distance) best = { id: candidate, distance: d };
  }
  return best && best.distance <= Math.max(2, Math.floor(best.id.length / 4)) ? best.id : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
