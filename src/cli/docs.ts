import { readFileSync } from 'node:fs';

/** The docs page of a rule, shipped in docs/rules/. */
export function readRuleDoc(id: string): string | null {
  try {
    return readFileSync(new URL(`../../../docs/rules/${id}.md`, import.meta.url), 'utf8');
  } catch {
    return null;
  }
}
