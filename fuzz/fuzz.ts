// `npm run fuzz -- --seconds N [--seed S]`: mutates this project's fixtures for N seconds and checks that the
// analysis never crashes, never reports a position outside the file and is deterministic. Each failing input is
// saved to test/fixtures/fuzz-crashes/<hash>.bin, where the test suite checks it from then on.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkInvariants, mutate, mutationArb, seedFiles } from '../test/fuzz/mutate.js';
import { FIXTURES } from '../test/helpers.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const value = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
  };
  const seconds = value('--seconds', 60);
  let seed = value('--seed', Date.now() % 1_000_000);
  const seeds = seedFiles();
  const deadline = Date.now() + seconds * 1000;
  let runs = 0;
  let failures = 0;
  while (Date.now() < deadline) {
    const samples = fc.sample(fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 8 })), { numRuns: 50, seed: seed++ });
    for (const [which, mutations] of samples) {
      if (Date.now() >= deadline) break;
      const bytes = mutate(seeds[which].text, mutations);
      const problem = await checkInvariants(bytes);
      runs++;
      if (problem) {
        failures++;
        const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;
        writeFileSync(join(FIXTURES, 'fuzz-crashes', name), bytes);
        console.log(`fuzz: FAILED on ${seeds[which].name} ${JSON.stringify(mutations)}: ${problem.split('\n')[0]} → test/fixtures/fuzz-crashes/${name}`);
      }
    }
  }
  console.log(`fuzz: ${runs} inputs in ${seconds} s, ${failures} failure(s)`);
  return failures ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (error) => { console.error(error); process.exitCode = 2; });
