// Property-based tests: random mutations of this project's own fixtures never crash the analysis, never give a
// position outside the file, and give the same output for the same input. `npm run fuzz` runs longer campaigns;
// every input it ever found crashing is kept in test/fixtures/fuzz-crashes/ and checked here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkInvariants, mutate, mutationArb, seedFiles } from '../fuzz/mutate.js';
import { FIXTURES, REPO_ROOT } from '../helpers.js';
import { analyzeSources } from '../../src/analyze.js';

const seeds = seedFiles();

test('mutated fixtures: no crash, positions inside the file, identical output twice', async () => {
  assert.ok(seeds.length > 50);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (seed, mutations) => {
      const problem = await checkInvariants(mutate(seeds[seed].text, mutations));
      assert.equal(problem, null, `${seeds[seed].name} with ${JSON.stringify(mutations)}`);
    }),
    { numRuns: 150, seed: 20261202 },
  );
});

test('mutated fixtures give the same findings in worker threads as in the main thread', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (seed, mutations) => {
      const text = mutate(seeds[seed].text, mutations).toString('latin1');
      const run = (jobs: number) => analyzeSources([{ file: 'fuzzed.c', text }], { cwd: REPO_ROOT, pythonVersion: { major: 3, minor: 9 }, jobs });
      const [inProcess, inWorker] = [await run(0), await run(1)];
      assert.deepEqual(inWorker.findings, inProcess.findings);
      assert.deepEqual(inWorker.problems, inProcess.problems);
    }),
    { numRuns: 8, seed: 7 },
  );
});

test('inputs a fuzz campaign once found crashing stay fixed', async () => {
  const dir = join(FIXTURES, 'fuzz-crashes');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.bin'))) {
    assert.equal(await checkInvariants(readFileSync(join(dir, name))), null, name);
  }
});
