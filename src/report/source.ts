// The analysed text, by file and line, as the analysis kept it (AnalysisResult.sources): for --show-source, the
// extent of a finding in SARIF, and fingerprints. Nothing here parses C: it only reads lines.

export class SourceIndex {
  private readonly lines = new Map<string, string[] | null>();

  constructor(private readonly sources: ReadonlyMap<string, string> | undefined) {}

  /** The file's lines, or null when its text is not known (a run-time finding, a file that could not be read). */
  linesOf(file: string): readonly string[] | null {
    let lines = this.lines.get(file);
    if (lines === undefined) {
      const text = this.sources?.get(file);
      lines = text === undefined ? null : text.split(/\r\n|\r|\n/);
      this.lines.set(file, lines);
    }
    return lines;
  }

  /** Line `n` (1-based) of `file`, or null. */
  line(file: string, n: number): string | null {
    const lines = this.linesOf(file);
    return lines && n >= 1 && n <= lines.length ? lines[n - 1] : null;
  }
}

/**
 * The column just after the token that starts at `column` (1-based, exclusive end): an identifier or number, a string
 * or character literal, else one character. For a finding's end position in SARIF and the caret's length.
 */
export function tokenEnd(lineText: string | null, column: number): number {
  if (lineText === null) return column + 1;
  const i = column - 1;
  if (i < 0 || i >= lineText.length) return column + 1;
  const ch = lineText[i];
  if (/[A-Za-z0-9_]/.test(ch)) {
    let j = i;
    while (j < lineText.length && /[A-Za-z0-9_]/.test(lineText[j])) j++;
    return j + 1;
  }
  if (ch === '"' || ch === "'") {
    let j = i + 1;
    while (j < lineText.length && lineText[j] !== ch) j += lineText[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, lineText.length) + 1;
  }
  return column + 1;
}

/**
 * The offending line with a caret under the finding, as clang prints it:
 * ```
 *    80 |     .flags = Py_TPFLAGS_DEFAULT,
 *       |              ^~~~~~~~~~~~~~~~~~
 * ```
 * Tabs before the caret are kept as tabs, so the caret lines up whatever the terminal's tab width.
 */
export function sourceSnippet(lineText: string, line: number, column: number, color: { caret: (s: string) => string }): string {
  const gutter = String(line).padStart(5);
  const shown = lineText.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  const before = shown.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ');
  const length = Math.max(1, tokenEnd(lineText, column) - column);
  const marker = '^' + '~'.repeat(length - 1);
  return `${gutter} | ${shown}\n${' '.repeat(gutter.length)} | ${before}${color.caret(marker)}\n`;
}
