import { readFileSync } from 'node:fs';
import { fromPackage } from './paths.js';

export const TOOL_NAME = 'capi-gc';

interface PackageJson {
  version?: string;
  repository?: string | { url?: string };
}

function readPackage(): PackageJson {
  try {
    return JSON.parse(readFileSync(fromPackage('package.json'), 'utf8')) as PackageJson;
  } catch {
    return {};
  }
}

const PKG = readPackage();

export const TOOL_VERSION = PKG.version ?? '0.0.0';

/**
 * Where the project lives, from package.json `repository` (`git+https://github.com/o/r.git` → `https://github.com/o/r`),
 * or null: the project has no published repository yet, and a made-up address would only give users dead links.
 */
export const TOOL_REPOSITORY: string | null = (() => {
  const raw = typeof PKG.repository === 'string' ? PKG.repository : PKG.repository?.url;
  if (!raw) return null;
  const url = raw.replace(/^git\+/, '').replace(/\.git$/, '').replace(/^github:/, 'https://github.com/');
  return url.replace(/\/+$/, '');
})();

/** The page of a rule in the repository (GitHub renders docs/rules/<id>.md), or null without a repository. */
export function ruleDocUrl(id: string, repository: string | null = TOOL_REPOSITORY): string | null {
  return repository ? `${repository}/blob/main/docs/rules/${id}.md` : null;
}
