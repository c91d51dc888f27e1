// The pipeline: files → parse → model → rules → findings. Used by the CLI, the tests and the language server.

import { createHash } from 'node:crypto';
import { discoverFiles, type DiscoveryProblem } from './files/discover.js';
import { readSource, DEFAULT_READ_OPTIONS, type ReadOptions } from './files/read.js';
import { shimSource } from './parse/shim.js';
import { typeDefiningMacros } from './parse/type-macros.js';
import { openFactsCache, type FactsCache, type FactsCacheStats } from './cache/facts-cache.js';
import { macroEnvironmentFor } from './parse/preprocessor.js';
import { apiHeaderFiles, apiMacroEnvironment } from './model/capi.js';
import { createExtractor, type Extractor } from './pool/extractor.js';
import { plainReason } from './pool/pool.js';
import type { FileFacts } from './model/facts.js';
import { linkModel } from './model/link.js';
import type { Model, Uncertainty } from './model/model.js';
import { Queries } from './model/queries.js';
import { ALL_RULES } from './rules/index.js';
import { formatMessage, ruleAppliesTo, type Finding, type Rule, type RuleContext } from './rules/rule.js';
import { suppressionsIn, isSuppressed, type Suppressions, type SuppressionComment } from './suppress.js';
import { relatedLocations } from './report/related.js';
import { isKnownRuleId, unknownRuleMessage } from './rules/ids.js';

export interface AnalyzeOptions {
  cwd: string;
  pythonVersion: { major: number; minor: number };
  defines?: ReadonlyMap<string, string>;
  undefines?: ReadonlySet<string>;
  exclude?: readonly string[];
  /** Rule ids to leave out. */
  ignore?: readonly string[];
  /** Rule ids to run (all when empty). */
  select?: readonly string[];
  read?: ReadOptions;
  /** Worker threads for parsing (0: this thread); default: this thread for small runs, else one per core. */
  jobs?: number;
  /** Seconds one file may take to parse before it is reported as not analysed. */
  fileTimeoutSeconds?: number;
  /** Buffers that replace the file of the same path on disk, or join the run (an editor's `--stdin-filename`). */
  overlay?: readonly SourceInput[];
  /** Told how many files will be analysed, once they are found (for a progress line). */
  onFiles?: (count: number) => void;
  /** A folder keeping per-file facts between runs (`--cache`, `cache-dir`); none when unset. */
  cacheDir?: string;
}

export interface FileProblem {
  file: string;
  message: string;
  /** True for files left out on purpose (e.g. large generated tables); listed only with --verbose. */
  quiet?: boolean;
  /** A path the user named does not exist: the run fails with exit code 2 (the other paths are still analysed). */
  fatal?: boolean;
  /** Input the user gave that could not be analysed (unreadable, binary, too large, the parser failed). */
  notAnalysed?: boolean;
  /** How the file was decoded, when not plain UTF-8: said once in the summary, listed with --verbose. */
  encoding?: boolean;
  /** Internal detail (a stack), shown only with --verbose. */
  detail?: string;
}

export interface AnalysisResult {
  findings: Finding[];
  model: Model;
  problems: FileProblem[];
  /** What linking and the rules could not decide, each said once. */
  uncertainties: readonly Uncertainty[];
  filesAnalysed: number;
  /** Files that could not be parsed or read at all. */
  unparsed: string[];
  /** CPython's own headers among the inputs (its `Include/`, a venv's headers, pythoncapi_compat.h): the C API. */
  apiHeaders: string[];
  seconds: number;
  /** The text of each analysed file, by its display path: for fingerprints and `--show-source`, without reading again. */
  sources?: ReadonlyMap<string, string>;
  /** Findings silenced by a suppression comment, with the comment (SARIF lists them as suppressed). */
  suppressed?: SuppressedFinding[];
  /** Every suppression comment that applies to capi-gc in the analysed files. */
  suppressionComments?: SuppressionComment[];
  /** Ids of the rules that ran. */
  rulesRun?: string[];
  /** With a cache: how many files' facts it had, did not have, and received. */
  factsCache?: FactsCacheStats;
}

export interface SuppressedFinding {
  finding: Finding;
  by: SuppressionComment;
}

export interface SourceInput {
  file: string;
  text: string;
}

export async function analyzePaths(paths: readonly string[], options: AnalyzeOptions): Promise<AnalysisResult> {
  const started = performance.now();
  const { files, problems: discoveryProblems } = discoverFiles(paths, { cwd: options.cwd, exclude: options.exclude });
  const problems: FileProblem[] = discoveryProblems.map((p: DiscoveryProblem) => ({ file: p.path, message: p.message, fatal: p.fatal, notAnalysed: !p.fatal && !p.informational }));
  const unparsed: string[] = [];
  const sources: SourceInput[] = [];
  for (const f of files) {
    const r = readSource(f.path, options.read ?? DEFAULT_READ_OPTIONS);
    if (!r.ok) {
      problems.push({ file: f.display, message: r.reason, quiet: r.skippedQuietly, notAnalysed: !r.skippedQuietly });
      if (!r.skippedQuietly) unparsed.push(f.display);
      continue;
    }
    if (r.encodingNote) problems.push({ file: f.display, message: r.encodingNote, quiet: true, encoding: true });
    sources.push({ file: f.display, text: r.text });
  }
  for (const buffer of options.overlay ?? []) {
    const at = sources.findIndex((s) => s.file === buffer.file);
    if (at >= 0) sources[at] = buffer;
    else sources.push(buffer);
  }
  options.onFiles?.(sources.length);
  const result = await analyzeSources(sources, options);
  return {
    ...result,
    problems: [...problems, ...result.problems],
    unparsed: [...unparsed, ...result.unparsed],
    seconds: (performance.now() - started) / 1000,
  };
}

/** Analyses in-memory sources (files already read, or editor buffers). */
export async function analyzeSources(allSources: readonly SourceInput[], options: AnalyzeOptions): Promise<AnalysisResult> {
  const started = performance.now();
  // The C API's own headers are what the catalogue describes: reading them as extension code would let their
  // definitions (`typedef struct _object PyObject`, `#define Py_TPFLAGS_HAVE_GC (1UL << 14)`) change the findings.
  const apiHeaders = apiHeaderFiles(allSources.map((s) => s.file));
  const sources = apiHeaders.size ? allSources.filter((s) => !apiHeaders.has(s.file)) : allSources;
  const rules = selectedRules(options);
  // A rule that applies from Python X.Y judges the code as compiled for max(oldest supported, X.Y): a visit under
  // `#if PY_VERSION_HEX >= 0x03090000` is there for every version where visiting the type is required.
  const byVersion = new Map<number, { version: { major: number; minor: number }; rules: Rule[] }>();
  const oldestKey = versionKey(options.pythonVersion);
  byVersion.set(oldestKey, { version: options.pythonVersion, rules: [] });
  for (const rule of rules) {
    const from = rule.appliesTo.from;
    const version = from && versionKey({ major: from[0], minor: from[1] }) > oldestKey ? { major: from[0], minor: from[1] } : options.pythonVersion;
    const key = versionKey(version);
    if (!byVersion.has(key)) byVersion.set(key, { version, rules: [] });
    byVersion.get(key)!.rules.push(rule);
  }
  const suppressions = new Map<string, Suppressions>();
  const suppressionProblems: FileProblem[] = [];
  for (const source of sources) {
    const found = suppressionsIn(source.text, source.file);
    if (!found.comments.length) continue;
    suppressions.set(source.file, found);
    for (const c of found.comments) {
      const what = c.style === 'capi-gc' ? 'capi-gc: ignore[…]' : `${c.style}(capi-gc-…)`;
      for (const id of c.rules) if (!isKnownRuleId(id)) suppressionProblems.push({ file: source.file, message: `line ${c.line}: ${what} names an ${unknownRuleMessage(id)}; it suppresses nothing` });
    }
  }
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  let primary: BuiltModel | null = null;
  const undecided: Uncertainty[] = [];
  const context = (oldest: Queries): RuleContext => ({ oldest, undecided: (file, line, message) => undecided.push({ file, line, message }) });
  // Facts of a file whose text preprocesses the same for two versions are extracted once. Only a hash of the
  // shimmed text is kept to compare (keeping the text itself cost as much memory as the sources).
  const cache = new Map<string, { textHash: string; facts: FileFacts | null; failure?: { reason: string; detail?: string } }>();
  let factsCache: FactsCache | null = null;
  if (options.cacheDir) {
    const opened = openFactsCache(options.cacheDir);
    if (typeof opened === 'string') suppressionProblems.push({ file: options.cacheDir, message: opened });
    else factsCache = opened;
  }
  const extractor = createExtractor({ jobs: options.jobs, fileTimeoutSeconds: options.fileTimeoutSeconds }, sources.map((s) => s.text.length));
  try {
    for (const [key, { version, rules: versionRules }] of [...byVersion].sort((a, b) => a[0] - b[0])) {
      if (key !== oldestKey && !versionRules.length) continue;
      const built = await buildModel(sources, options, version, cache, extractor, factsCache);
      if (key === oldestKey) primary = built;
      findings.push(...runRules(built.queries, versionRules, suppressions, primary!.problems, context(primary!.queries), suppressed));
      // Names that could not be linked (two extern definitions, no way to choose), met while linking or by a rule.
      undecided.push(...built.queries.model.symbols.uncertainties);
    }
  } finally {
    await extractor.close();
  }
  sortFindings(findings);
  const main = primary!;
  const silenced = new Set(dedupeFindings(suppressed.map((s) => s.finding)));
  return {
    findings: dedupeFindings(findings), model: main.queries.model, problems: [...main.problems, ...suppressionProblems],
    uncertainties: dedupeUncertainties([...main.uncertainties, ...undecided]),
    filesAnalysed: main.files, unparsed: main.unparsed, apiHeaders: [...apiHeaders], seconds: (performance.now() - started) / 1000,
    sources: new Map(sources.map((s) => [s.file, s.text])),
    suppressed: suppressed.filter((s) => silenced.has(s.finding)),
    suppressionComments: [...suppressions.values()].flatMap((s) => s.comments),
    rulesRun: rules.map((r) => r.id),
    ...(factsCache ? { factsCache: { ...factsCache.stats } } : {}),
  };
}

function hashText(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

function versionKey(v: { major: number; minor: number }): number {
  return v.major * 100 + v.minor;
}

interface BuiltModel {
  queries: Queries;
  uncertainties: readonly Uncertainty[];
  problems: FileProblem[];
  unparsed: string[];
  files: number;
}

async function buildModel(
  sources: readonly SourceInput[],
  options: AnalyzeOptions,
  version: { major: number; minor: number },
  cache: Map<string, { textHash: string; facts: FileFacts | null; failure?: { reason: string; detail?: string } }>,
  extractor: Extractor,
  factsCache: FactsCache | null,
): Promise<BuiltModel> {
  const env = macroEnvironmentFor(version, options.defines, options.undefines, apiMacroEnvironment(version));
  const typeMacros = typeDefiningMacros(sources);
  const slots: (FileFacts | null)[] = new Array(sources.length).fill(null);
  const shimmed: { index: number; file: string; text: string; textHash: string; unknownConditions: FileFacts['unknownConditions'] }[] = [];
  const problems: FileProblem[] = [];
  const unparsed: string[] = [];
  sources.forEach((source, index) => {
    try {
      const shim = shimSource(source.text, env, typeMacros, source.file);
      for (const note of shim.notes) problems.push({ file: source.file, message: `line ${note.line}: ${note.message}` });
      const cached = cache.get(source.file);
      const textHash = hashText(shim.text);
      if (cached && cached.textHash === textHash) {
        // The same text for another version: the same facts, or the same failure, without parsing again.
        if (cached.facts) slots[index] = cached.facts;
        else {
          problems.push({ file: source.file, message: `not analysed: ${cached.failure?.reason}`, detail: cached.failure?.detail, notAnalysed: true });
          unparsed.push(source.file);
        }
      } else {
        const stored = factsCache?.get(source.file, textHash) ?? null;
        if (stored) {
          stored.unknownConditions = shim.unknownConditions;
          cache.set(source.file, { textHash, facts: stored });
          slots[index] = stored;
          noteParseErrors(stored, source.file);
        } else shimmed.push({ index, file: source.file, text: shim.text, textHash, unknownConditions: shim.unknownConditions });
      }
    } catch (error) {
      problems.push({ file: source.file, message: `not analysed: ${plainReason((error as Error).message)}`, detail: (error as Error).stack, notAnalysed: true });
      unparsed.push(source.file);
    }
  });
  const outcomes = await extractor.extractAll(shimmed);
  shimmed.forEach((job, i) => {
    const outcome = outcomes[i];
    if (!outcome.ok) {
      cache.set(job.file, { textHash: job.textHash, facts: null, failure: { reason: outcome.reason, detail: outcome.detail } });
      problems.push({ file: job.file, message: `not analysed: ${outcome.reason}`, detail: outcome.detail, notAnalysed: true });
      unparsed.push(job.file);
      return;
    }
    const fileFacts = outcome.facts;
    fileFacts.unknownConditions = job.unknownConditions;
    cache.set(job.file, { textHash: job.textHash, facts: fileFacts });
    factsCache?.put(job.file, job.textHash, fileFacts);
    slots[job.index] = fileFacts;
    noteParseErrors(fileFacts, job.file);
  });
  const facts = slots.filter((f): f is FileFacts => f !== null);
  function noteParseErrors(fileFacts: FileFacts, file: string): void {
    if (fileFacts.rootIsError || fileFacts.errorRatio > 0.25) {
      problems.push({ file, message: `parsed with errors (${Math.round(fileFacts.errorRatio * 100)}% of the text not understood); findings in this file may be incomplete` });
    }
  }
  const { model, uncertainties } = linkModel(facts, { pythonVersion: version });
  return { queries: new Queries(model), uncertainties, problems, unparsed, files: facts.length };
}

export function selectedRules(options: Pick<AnalyzeOptions, 'select' | 'ignore' | 'pythonVersion'>): Rule[] {
  return ALL_RULES.filter((r) =>
    (!options.select?.length || options.select.includes(r.id))
    && !options.ignore?.includes(r.id)
    && ruleAppliesTo(r, options.pythonVersion));
}

function runRules(
  queries: Queries,
  rules: readonly Rule[],
  suppressions: Map<string, Suppressions>,
  problems: FileProblem[],
  context: RuleContext,
  suppressed: SuppressedFinding[],
): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    try {
      checkOne(rule);
    } catch (error) {
      problems.push({ file: '(analysis)', message: `rule ${rule.id} failed and was skipped: ${(error as Error).message}` });
    }
  }
  return findings;

  function checkOne(rule: Rule): void {
    rule.check(queries, (messageId, data, at) => {
      const finding: Finding = {
        rule: rule.id, messageId, severity: at.severity ?? rule.defaultSeverity, message: formatMessage(rule, messageId, data),
        file: at.file, line: at.line, column: at.column,
        type: at.type?.name ?? null,
        typeKind: at.type ? at.type.kind : null,
        spec: at.type ? at.type.cName : null,
        function: at.function ?? null,
        member: at.member ?? null,
        module: at.module ?? at.type?.module ?? null,
      };
      const related = relatedLocations(queries, at);
      if (related.length) finding.related = related;
      const s = suppressions.get(finding.file);
      const by = s && isSuppressed(s, finding.rule, finding.line);
      if (by) suppressed.push({ finding, by });
      else findings.push(finding);
    }, context);
  }
}

function dedupeUncertainties(items: readonly Uncertainty[]): Uncertainty[] {
  const seen = new Set<string>();
  return items.filter((u) => {
    const key = `${u.file}:${u.line}:${u.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dedupeFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.file}|${f.line}|${f.column}|${f.spec}|${f.member}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortFindings(findings: Finding[]): void {
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : 1)));
}
