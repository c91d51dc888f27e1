import { readFileSync } from 'node:fs';

export const TOOL_NAME = 'capi-gc';

interface PackageJson {
  version?: string;
  repository?: string | { url?: string };
}

function readPackage(): PackageJson {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
  } catch {
    return {};
  }
}

const PKG = readPackage();

export const TOOL_VERSION = PKG.version ?? '0.0.0';

/** Where the project lives, from package.json `repository` (`git+https://github.com/o/r.git` → `https://github.com/o/r`). */
export const TOOL_REPOSITORY = (() => {
  const raw = typeof PKG.repository === 'string' ? PKG.repository : PKG.repository?.url;
  const url = (raw ?? 'https://github.com/capi-gc/capi-gc').replace(/^git\+/, '').replace(/\.git$/, '').replace(/^github:/, 'https://github.com/');
  return url.replace(/\/+$/, '');
})();

/** The page of a rule in the repository (GitHub renders docs/rules/<id>.md). */
export function ruleDocUrl(id: string): string {
  return `${TOOL_REPOSITORY}/blob/main/docs/rules/${id}.md`;
}
