// Validates SARIF logs against the SARIF 2.1.0 JSON schema with Ajv, and installs @microsoft/sarif-multitool for
// `sarif-multitool validate` (test/unit/sarif.test.ts). The schema is not kept in this repository (it is not our
// code): it is the `sarif-2.1.0.json` that the pinned multitool package ships, installed on demand.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { REPO_ROOT } from './helpers.js';

const require = createRequire(import.meta.url);
// Microsoft's copy of the schema is JSON Schema 2020-12: Ajv's 2020 class, with the formats it uses.
const Ajv2020 = require('ajv/dist/2020') as new (options: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
};
const addFormats = require('ajv-formats') as (ajv: unknown) => void;

const MULTITOOL_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'capi-gc-sarif-multitool');
const MULTITOOL_VERSION = '5.7.0';

/** @microsoft/sarif-multitool, installed once into node_modules/.cache (100 MB: not a dependency). */
export function installSarifTools(): { bin: string; schema: string } | { error: string } {
  const bin = join(MULTITOOL_DIR, 'node_modules', '.bin', 'sarif-multitool');
  const schema = join(MULTITOOL_DIR, 'node_modules', '@microsoft', 'sarif-multitool-linux', 'sarif-2.1.0.json');
  if (existsSync(bin) && existsSync(schema)) return { bin, schema };
  mkdirSync(MULTITOOL_DIR, { recursive: true });
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', MULTITOOL_DIR, `@microsoft/sarif-multitool@${MULTITOOL_VERSION}`], {
    encoding: 'utf8', timeout: 300_000,
  });
  if (r.status !== 0 || !existsSync(bin) || !existsSync(schema)) {
    return { error: `npm install @microsoft/sarif-multitool@${MULTITOOL_VERSION} failed: ${(r.stderr || r.error?.message || '').trim().slice(-500)}` };
  }
  return { bin, schema };
}

let validator: ReturnType<InstanceType<typeof Ajv2020>['compile']> | null = null;

export function validateSarif(text: string): Record<string, any> {
  if (!validator) {
    const tools = installSarifTools();
    // Without the schema no SARIF test can say anything true: fail, naming what to install.
    assert.ok(!('error' in tools), `the SARIF 2.1.0 schema is needed to validate SARIF output (npm install @microsoft/sarif-multitool): ${'error' in tools ? tools.error : ''}`);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(tools.schema, 'utf8')));
  }
  const doc = JSON.parse(text);
  const ok = validator(doc);
  assert.ok(ok, `SARIF does not validate against the 2.1.0 schema:\n${(validator.errors ?? []).slice(0, 10).map((e) => `  ${e.instancePath}: ${e.message}`).join('\n')}`);
  return doc;
}
