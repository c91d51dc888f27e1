// GitHub Actions workflow commands: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`, one per
// finding (a warning is `::warning`, a note `::notice`), which GitHub shows as annotations on the pull request.
// Escaped as GitHub's toolkit does: data escapes %, CR and LF; property values also : and ,.

import type { FileProblem } from '../analyze.js';
import type { Finding, Severity } from '../rules/rule.js';
import { SourceIndex, tokenEnd } from './source.js';
import { repositoryRoot, rootRelative } from './paths.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(name: string, props: Record<string, string | number>, message: string): string {
  const list = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(',');
  return `::${name}${list ? ' ' + list : ''}::${escapeData(message)}`;
}

/**
 * `cwd`: where capi-gc ran; file= is relative to the repository root above it (GitHub attaches an annotation to the
 * repository path), or the path as printed when the file is outside the repository.
 */
export function formatGithub(findings: readonly Finding[], problems: readonly FileProblem[], sources?: ReadonlyMap<string, string>, cwd?: string): string {
  const index = new SourceIndex(sources);
  const root = cwd === undefined ? null : repositoryRoot(cwd);
  const repoPath = (file: string) => (root === null || cwd === undefined ? file : rootRelative(file, cwd, root) ?? file);
  const lines = findings.map((f) => command(COMMAND[f.severity], {
    file: repoPath(f.file), line: f.line, col: f.column, endLine: f.line, endColumn: tokenEnd(index.line(f.file, f.line), f.column),
    title: `capi-gc ${f.rule}`,
  }, f.message));
  // Input that was not analysed is a failure of the run: say so where the annotations are read.
  for (const p of problems) {
    if (!p.notAnalysed && !p.fatal) continue;
    lines.push(command('error', p.file && p.file !== '(analysis)' ? { file: repoPath(p.file), title: 'capi-gc: not analysed' } : { title: 'capi-gc' }, `${p.file}: ${p.message}`));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
