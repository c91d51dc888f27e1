// `npm run build`, after `tsc`: bundles the command (dist/src/cli/main.js and every module of capi-gc it imports)
// into one file, dist/capi-gc.mjs, the package's `bin`. Node then loads one module instead of about eighty: a check
// of a small extension's tree takes about 0.27 s instead of 0.32 s, most of the difference the ES module loader.
// web-tree-sitter and write-file-atomic stay where npm put them. Without esbuild (it is a
// devDependency) the bin is a one-line module that imports the compiled command: the same behaviour, started more
// slowly.

import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
const out = join(root, 'dist', 'capi-gc.mjs');
const temporary = `${out}.${process.pid}.tmp`;

let esbuild = null;
try {
  esbuild = await import('esbuild');
} catch (error) {
  process.stderr.write(`capi-gc bundle: esbuild is not available (${error.message.split('\n')[0]}); dist/capi-gc.mjs imports the compiled modules instead\n`);
}

let bundled = false;
if (esbuild) {
  try {
    await esbuild.build({
      entryPoints: [entry], outfile: temporary, bundle: true, platform: 'node', format: 'esm', target: 'node20',
      // web-tree-sitter loads its wasm from beside its own file; the grammar is only ever resolved by path;
      // write-file-atomic reads CommonJS's __filename, which a bundled ES module does not have.
      external: ['web-tree-sitter', 'tree-sitter-c', 'write-file-atomic'], logLevel: 'warning', legalComments: 'none',
      // The CommonJS dependency bundled (ignore) may call require() for Node's own modules.
      banner: { js: "import { createRequire as __capiGcRequire } from 'node:module'; const require = __capiGcRequire(import.meta.url);" },
    });
    bundled = true;
  } catch (error) {
    process.stderr.write(`capi-gc bundle: esbuild failed (${error.message.split('\n')[0]}); dist/capi-gc.mjs imports the compiled modules instead\n`);
  }
}
// main.js begins with its own `#!/usr/bin/env node` line, which esbuild keeps at the top of the bundle.
if (!bundled) writeFileSync(temporary, "#!/usr/bin/env node\nimport './src/cli/main.js';\n");
chmodSync(temporary, 0o755);
renameSync(temporary, out);
