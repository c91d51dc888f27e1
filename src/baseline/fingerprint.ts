// Fingerprints of findings that survive line moves and unrelated edits: the rule, the file, the type and member the
// finding is about, and the code around it with all whitespace removed, never the line number or the message.

import { createHash } from 'node:crypto';
import type { Finding } from '../rules/rule.js';
import type { SourceIndex } from '../report/source.js';

export interface Fingerprints {
  /** Rule, file, type, member, and the finding's line with the nearest non-blank line above and below it. */
  context: string;
  /** The same with the finding's line alone: matches when only a neighbouring line changed. */
  line: string;
}

/** `file` is the path the fingerprint is taken under (relative to the baseline's folder, or the display path). */
export function fingerprints(f: Finding, file: string, index: SourceIndex): Fingerprints {
  const lines = index.linesOf(f.file);
  const norm = (s: string | undefined) => (s ?? '').replace(/\s+/g, '');
  const own = norm(lines?.[f.line - 1]);
  const neighbour = (step: -1 | 1): string => {
    if (!lines) return '';
    for (let i = f.line - 1 + step; i >= 0 && i < lines.length; i += step) {
      const text = norm(lines[i]);
      if (text) return text;
    }
    return '';
  };
  // Without the text (a run-time finding), the message stands in for the code.
  const code = lines ? own : norm(f.message);
  const head = ['capi-gc/v1', f.rule, file, f.type ?? '', f.spec ?? '', f.member ?? ''];
  return {
    context: hash([...head, neighbour(-1), code, neighbour(1)]),
    line: hash([...head, code]),
  };
}

function hash(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}
