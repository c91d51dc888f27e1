// `npm run prepare`: compiles capi-gc (tsc -p .) when it is installed from git or a folder, or packed.
//
// `npm install -g <git URL>`, which pre-commit 4.6.1+ runs for a `language: node` hook, runs this script in a fresh
// clone WITHOUT the devDependencies it needs (npm/cli#8440: the clone is installed in global mode, so TypeScript is
// missing and `tsc` is "not found"). In that case the devDependencies are installed into the clone first, in local
// mode and without scripts, then the build runs as usual. With TypeScript present (a clone after `npm install`,
// `npm ci`, `npm pack`) this is `tsc -p .` and nothing else.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    process.stderr.write(`capi-gc prepare: cannot run ${command}: ${r.error.message}\n`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(tsc)) {
  process.stderr.write('capi-gc prepare: TypeScript is not installed here (a global install from git); installing the devDependencies to build\n');
  // A global install passes its mode down in npm_config_* variables: drop them so this install is the clone's own.
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(global|location|prefix|omit|production|only|install_links|include)$/i.test(key)) delete env[key];
  }
  env.NODE_ENV = 'development';
  const npm = process.env.npm_execpath;
  const args = ['install', '--no-save', '--ignore-scripts', '--include=dev', '--no-audit', '--no-fund', '--global=false'];
  if (npm && /\.c?js$/.test(npm)) run(process.execPath, [npm, ...args], env);
  else run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, env);
  if (!existsSync(tsc)) {
    process.stderr.write('capi-gc prepare: TypeScript is still missing after installing the devDependencies\n');
    process.exit(1);
  }
}
run(process.execPath, [tsc, '-p', '.']);
run(process.execPath, [join(root, 'scripts', 'bundle.mjs')]);
