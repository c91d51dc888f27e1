// Runs the built capi-gc command (dist/capi-gc.mjs, the package's bin) the way a user would, and reads its JSON report.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fromRoot, repoRoot, runProcess } from './repo.js';

export const CLI_PATH = fromRoot('dist', 'capi-gc.mjs');

export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  type?: string | null;
  typeKind?: 'heap' | 'static' | null;
  spec?: string | null;
  function?: string | null;
  member?: string | null;
  module?: string | null;
}

export interface Report {
  version: number;
  tool: Record<string, unknown>;
  findings: Finding[];
  summary: Record<string, unknown>;
}

export interface CliRun {
  exitCode: number;
  report: Report;
  stderr: string;
}

export function cliBuilt(): boolean {
  return existsSync(CLI_PATH);
}

/**
 * `node dist/capi-gc.mjs check <paths...> --format json`, run from the repository root.
 * Exit 0 (no errors) and 1 (errors found) both return the report; anything else throws.
 */
export async function runCapiGc(paths: string[], extraArgs: string[] = []): Promise<CliRun> {
  if (!cliBuilt()) {
    throw new Error(`capi-gc CLI not built: ${CLI_PATH} does not exist (run \`npx tsc -p .\`)`);
  }
  const r = await runProcess(process.execPath, [CLI_PATH, 'check', ...paths, '--format', 'json', ...extraArgs], {
    cwd: repoRoot(),
    timeoutMs: 120_000,
  });
  const cmd = `capi-gc check ${paths.map((p) => path.relative(repoRoot(), p) || '.').join(' ')} --format json`;
  if (r.failedToRun) throw new Error(`${cmd}: ${r.error}`);
  if (r.code !== 0 && r.code !== 1) {
    throw new Error(`${cmd} exited ${r.code ?? r.signal} (expected 0 or 1)\nstderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 2000)}`);
  }
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch (e) {
    throw new Error(`${cmd}: stdout is not JSON (${(e as Error).message})\nstdout:\n${r.stdout.slice(0, 2000)}\nstderr:\n${r.stderr}`);
  }
  if (!Array.isArray(report.findings)) throw new Error(`${cmd}: report has no findings array`);
  return { exitCode: r.code, report, stderr: r.stderr };
}

/** The finding's file as an absolute path (the CLI may print paths relative to its working directory). */
export function findingPath(f: Finding): string {
  return path.resolve(repoRoot(), f.file);
}
