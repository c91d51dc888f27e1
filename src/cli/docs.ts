import { readFileSync } from 'node:fs';
import { fromPackage } from '../paths.js';

/** The docs page of a rule, shipped in docs/rules/. */
export function readRuleDoc(id: string): string | null {
  try {
    return readFileSync(fromPackage('docs', 'rules', `${id}.md`), 'utf8');
  } catch {
    return null;
  }
}
