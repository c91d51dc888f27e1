// Proof that a change to the extractor keeps its output byte for byte: `node dist/bench/facts-digest.js <folder…>
// [--versions 3.9,3.12] [--time]` runs, for every .c/.h file the check would analyse, the same shim and extraction
// the analyser does (src/analyze.ts buildModel: shimSource with macroEnvironmentFor(version…) and
// typeDefiningMacros, then src/pool/extract-job.ts extractFile), on this thread, for each Python version, and
// prints one sha256 of JSON.stringify(facts) per file and version, then a total. Two runs that print the same
// lines extracted the same facts. `--time` also prints (to stderr) the seconds spent in tree-sitter's parse and
// in extractFacts, summed over the files (single thread), the median of `--runs N` passes.

import { createHash } from 'node:crypto';
import { discoverFiles } from '../src/files/discover.js';
import { readSource, DEFAULT_READ_OPTIONS } from '../src/files/read.js';
import { shimSource } from '../src/parse/shim.js';
import { typeDefiningMacros } from '../src/parse/type-macros.js';
import { macroEnvironmentFor } from '../src/parse/preprocessor.js';
import { apiHeaderFiles, apiMacroEnvironment } from '../src/model/capi.js';
import { extractFile } from '../src/pool/extract-job.js';
import { getParser } from '../src/parse/parser.js';
import { extractFacts } from '../src/model/extract/extract.js';
import { CHUNKED_PARSE_BYTES } from '../src/pool/chunks.js';

const args = process.argv.slice(2);
let versions = ['3.9', '3.12'];
let time = false;
let runs = 3;
const paths: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--versions') versions = args[++i].split(',');
  else if (args[i] === '--time') time = true;
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else paths.push(args[i]);
}

const { files } = discoverFiles(paths, { cwd: process.cwd() });
const all: { file: string; text: string }[] = [];
for (const f of files) {
  const r = readSource(f.path, DEFAULT_READ_OPTIONS);
  if (r.ok) all.push({ file: f.display, text: r.text });
}
const apiHeaders = apiHeaderFiles(all.map((s) => s.file));
const sources = apiHeaders.size ? all.filter((s) => !apiHeaders.has(s.file)) : all;
const typeMacros = typeDefiningMacros(sources);

const total = createHash('sha256');
const timings: { parse: number; extract: number }[] = [];
for (const v of versions) {
  const [major, minor] = v.split('.').map(Number);
  const version = { major, minor };
  const env = macroEnvironmentFor(version, undefined, undefined, apiMacroEnvironment(version));
  const shimmed: { file: string; text: string }[] = [];
  for (const source of sources) {
    let text: string;
    try {
      text = shimSource(source.text, env, typeMacros, source.file).text;
    } catch (error) {
      const line = `${v} ${source.file} shim-failed ${(error as Error).message}`;
      console.log(line);
      total.update(line + '\n');
      continue;
    }
    shimmed.push({ file: source.file, text });
  }
  for (const { file, text } of shimmed) {
    let digest: string;
    try {
      const facts = await extractFile(file, text);
      digest = createHash('sha256').update(JSON.stringify(facts)).digest('hex');
    } catch (error) {
      digest = `extract-failed ${(error as Error).message}`;
    }
    const line = `${v} ${file} ${digest}`;
    console.log(line);
    total.update(line + '\n');
  }
  if (time) {
    const parser = await getParser();
    const passes: { parse: number; extract: number; parseCpu: number; extractCpu: number }[] = [];
    for (let r = 0; r < runs; r++) {
      let parse = 0;
      let extract = 0;
      let parseCpu = 0;
      let extractCpu = 0;
      for (const { file, text } of shimmed) {
        if (text.length > CHUNKED_PARSE_BYTES) continue;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const tree = parser.parse(text);
        const t1 = performance.now();
        const c1 = process.cpuUsage();
        if (!tree) continue;
        try {
          extractFacts(file, tree.rootNode, text);
        } catch {
          // counted all the same
        }
        extract += performance.now() - t1;
        parse += t1 - t0;
        const c2 = process.cpuUsage();
        parseCpu += c1.user + c1.system - c0.user - c0.system;
        extractCpu += c2.user + c2.system - c1.user - c1.system;
        tree.delete();
      }
      passes.push({ parse: parse / 1000, extract: extract / 1000, parseCpu: parseCpu / 1e6, extractCpu: extractCpu / 1e6 });
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const p = med(passes.map((x) => x.parse));
    const e = med(passes.map((x) => x.extract));
    timings.push({ parse: p, extract: e });
    const pc = med(passes.map((x) => x.parseCpu));
    const ec = med(passes.map((x) => x.extractCpu));
    console.error(`${v}: ${shimmed.length} files, wall: parse ${p.toFixed(2)} s, extractFacts ${e.toFixed(2)} s (${(e / p).toFixed(2)}× parse); `
      + `CPU (process, all threads): parse ${pc.toFixed(2)} s, extractFacts ${ec.toFixed(2)} s (${(ec / pc).toFixed(2)}× parse); median of ${runs}; `
      + `passes (parse/extract wall): ${passes.map((x) => `${x.parse.toFixed(2)}/${x.extract.toFixed(2)}`).join(' ')}`);
  }
}
console.log(`total ${total.digest('hex')}`);
