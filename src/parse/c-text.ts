// Small scans over C text that parsing and linking share: macro invocations are found and split in text, before
// (or outside) the syntax tree.

/** The index of the `)` that closes the `(` at `open`, or -1. */
export function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Splits a comma-separated list at its top level. `preprocessor`: as the C preprocessor splits macro arguments
 * (only parentheses group, commas in string and character literals do not split); `expression`: brackets and
 * braces group too.
 */
export function splitTopLevelCommas(s: string, mode: 'preprocessor' | 'expression'): string[] {
  const opens = mode === 'preprocessor' ? '(' : '([{';
  const closes = mode === 'preprocessor' ? ')' : ')]}';
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (opens.includes(c)) depth++;
    else if (closes.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
