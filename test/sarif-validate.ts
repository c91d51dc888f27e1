// Validates SARIF logs against the official SARIF 2.1.0 schema (test/sarif/, vendored) with Ajv, and collects them
// for `@microsoft/sarif-multitool validate` (test/unit/sarif.test.ts).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { REPO_ROOT } from './helpers.js';

const require = createRequire(import.meta.url);
// The schema is JSON Schema draft-04: Ajv's draft-04 class, with the formats it uses (uri, uri-reference, date-time).
const Ajv04 = require('ajv-draft-04') as new (options: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
};
const addFormats = require('ajv-formats') as (ajv: unknown) => void;

export const SARIF_SCHEMA_PATH = join(REPO_ROOT, 'test', 'sarif', 'sarif-schema-2.1.0.json');

let validator: ReturnType<InstanceType<typeof Ajv04>['compile']> | null = null;

export function validateSarif(text: string): Record<string, any> {
  if (!validator) {
    const ajv = new Ajv04({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA_PATH, 'utf8')));
  }
  const doc = JSON.parse(text);
  const ok = validator(doc);
  assert.ok(ok, `SARIF does not validate against the 2.1.0 schema:\n${(validator.errors ?? []).slice(0, 10).map((e) => `  ${e.instancePath}: ${e.message}`).join('\n')}`);
  return doc;
}
