// A git repository holding the working tree as it is (tracked and new, not ignored, files; uncommitted edits
// included), for the tests that install capi-gc "from git" the way npm and pre-commit do.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';

export function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('git', args, {
    cwd, encoding: 'utf8', timeout: 600_000,
    env: { ...env, GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.invalid' },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** A fresh repository (one commit) with the files of the working tree; returns its folder. */
export function snapshotRepository(): string {
  const listed = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], REPO_ROOT);
  if (listed.code !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const repo = mkdtempSync(join(tmpdir(), 'capi-gc-snapshot-'));
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (file === 'node_modules') continue; // the worktree's symlink to a shared node_modules
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    try {
      copyFileSync(join(REPO_ROOT, file), join(repo, file));
    } catch {
      // Deleted in the working tree but still in the index: not part of the snapshot.
    }
  }
  for (const args of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'snapshot']]) {
    const r = git(args, repo);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  }
  return repo;
}
