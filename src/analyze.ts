// The pipeline: files → parse → model → rules → findings. Used by the CLI, the tests and the language server.

import { discoverFiles, type DiscoveryProblem } from './files/discover.js';
import { readSource, DEFAULT_READ_OPTIONS, type ReadOptions } from './files/read.js';
import { typeDefiningMacros } from './parse/type-macros.js';
import { openFactsCache, type FactsCache, type FactsCacheStats } from './cache/facts-cache.js';
import { readRun, runCacheKey, textDigest, writeRun } from './cache/run-cache.js';
import { macroEnvironmentFor } from './parse/preprocessor.js';
import { apiHeaderFiles, apiMacroEnvironment, apiNameExists } from './model/capi.js';
import { createExtractor, type ExtractorOptions } from './pool/extractor.js';
import { plainReason } from './pool/pool.js';
import { contextFingerprint, contextKeyFor, type PrepareContext, type PreparedFile } from './pool/prepare.js';
import type { FileFacts } from './model/facts.js';
import { linkModel } from './model/link.js';
import { SharedExpressions } from './model/share.js';
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
  /** Worker threads for parsing (0: this thread); default: this thread for small runs, else one per core but one, beside this thread. */
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
  /** Types and modules of the model (what the summary counts). */
  counts: { types: number; modules: number };
  /** `#if` conditions on macros with no known value, per analysed file of the oldest version, in input order. */
  conditions: { file: string; unknownConditions: FileFacts['unknownConditions'] }[];
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
  /** `textDigest(text)`, when the caller already computed it (the run cache's key): not hashed a second time. */
  textHash?: string;
}

export async function analyzePaths(paths: readonly string[], options: AnalyzeOptions): Promise<AnalysisResult> {
  const started = performance.now();
  const inputs = readInputs(paths, options);
  options.onFiles?.(inputs.sources.length);
  const result = await analyzeSources(inputs.sources, options);
  return {
    ...result,
    problems: [...inputs.problems, ...result.problems],
    unparsed: [...inputs.unparsed, ...result.unparsed],
    seconds: (performance.now() - started) / 1000,
  };
}

/** What the CLI reports: an analysis, or with a cache the stored result of the same run on the same inputs. */
export interface CheckResult extends Omit<AnalysisResult, 'model'> {
  /** Absent when the result came from the run cache. */
  model?: Model;
  /** With a cache: whether this run's result was the stored one, or was stored for the next run. */
  runCache?: 'hit' | 'stored' | 'not stored';
}

/**
 * `analyzePaths`, and with `cacheDir` (unless the model itself is wanted) the run cache: an unchanged tree with
 * the same options gets the stored result, having only been read.
 */
export async function checkPaths(paths: readonly string[], options: AnalyzeOptions & { needsModel?: boolean }): Promise<CheckResult> {
  if (!options.cacheDir || options.needsModel) return analyzePaths(paths, options);
  const started = performance.now();
  const read = readInputs(paths, options);
  // Hashed once, for the run's key and, on a miss, each file's facts key.
  const inputs = { ...read, sources: read.sources.map((s) => ({ ...s, textHash: textDigest(s.text) })) };
  options.onFiles?.(inputs.sources.length);
  const key = runCacheKey({
    pythonVersion: options.pythonVersion, defines: [...(options.defines ?? [])], undefines: [...(options.undefines ?? [])],
    select: options.select ?? [], ignore: options.ignore ?? [],
  }, inputs.sources);
  const stored = readRun(options.cacheDir, key, isStoredRun);
  let result: Omit<CheckResult, 'seconds'>;
  if (stored) {
    const { suppressed, ...rest } = stored;
    result = {
      ...rest,
      suppressed: suppressed.map((s) => ({ finding: s.finding, by: stored.suppressionComments[s.by] })),
      sources: new Map(inputs.sources.map((s) => [s.file, s.text])),
      runCache: 'hit',
    };
  } else {
    const { model: _model, sources, factsCache, ...analysed } = await analyzeSources(inputs.sources, options);
    const comments = analysed.suppressionComments ?? [];
    const toStore: StoredRun = {
      ...analysed, suppressionComments: comments,
      suppressed: (analysed.suppressed ?? []).map((s) => ({ finding: s.finding, by: comments.indexOf(s.by) })),
    };
    // A file the parser gave up on (time, memory) may be analysed next time: such a run is not kept.
    const keep = !analysed.problems.some((p) => p.notAnalysed) && toStore.suppressed.every((s) => s.by >= 0);
    result = { ...analysed, sources, factsCache, runCache: keep && writeRun(options.cacheDir, key, toStore) ? 'stored' : 'not stored' };
  }
  return {
    ...result,
    problems: [...inputs.problems, ...result.problems],
    unparsed: [...inputs.unparsed, ...result.unparsed],
    seconds: (performance.now() - started) / 1000,
  };
}

/** A run as the run cache keeps it: suppressions refer to their comment by index. */
type StoredRun = Omit<AnalysisResult, 'model' | 'sources' | 'seconds' | 'suppressed' | 'suppressionComments'> & {
  suppressionComments: SuppressionComment[];
  suppressed: { finding: Finding; by: number }[];
};

function isStoredRun(x: unknown): x is StoredRun {
  if (!x || typeof x !== 'object') return false;
  const r = x as Record<string, unknown>;
  return Array.isArray(r.findings) && Array.isArray(r.problems) && Array.isArray(r.uncertainties) && Array.isArray(r.unparsed)
    && Array.isArray(r.apiHeaders) && Array.isArray(r.conditions) && Array.isArray(r.suppressed) && Array.isArray(r.suppressionComments)
    && typeof r.filesAnalysed === 'number' && !!r.counts && typeof r.counts === 'object';
}

/** The inputs under `paths`, read, with the problems met finding and reading them. */
function readInputs(paths: readonly string[], options: AnalyzeOptions): { sources: SourceInput[]; problems: FileProblem[]; unparsed: string[] } {
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
  return { sources, problems, unparsed };
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
    // Its answer is known to be empty: no model of another version is built (parsed, linked) for it.
    if (!canReport(rule, sources)) continue;
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
  let factsCache: FactsCache | null = null;
  if (options.cacheDir) {
    const opened = openFactsCache(options.cacheDir);
    if (typeof opened === 'string') suppressionProblems.push({ file: options.cacheDir, message: opened });
    else factsCache = opened;
  }
  const builds = [...byVersion].sort((a, b) => a[0] - b[0]).filter(([key, v]) => key === oldestKey || v.rules.length);
  const prepareContext: PrepareContext = {
    versions: builds.map(([key, { version }]) => ({
      key, env: macroEnvironmentFor(version, options.defines, options.undefines, apiMacroEnvironment(version)),
    })),
    typeMacros: typeDefiningMacros(sources),
  };
  const prepared = await prepareSources(sources, prepareContext, { jobs: options.jobs, fileTimeoutSeconds: options.fileTimeoutSeconds }, factsCache);
  let previous: BuiltModel | null = null;
  for (const [key, { version, rules: versionRules }] of builds) {
    const built = buildModel(sources, prepared, key, version, previous);
    previous = built;
    if (key === oldestKey) primary = built;
    findings.push(...runRules(built.queries, versionRules, suppressions, primary!.problems, context(primary!.queries), suppressed));
    // Names that could not be linked (two extern definitions, no way to choose), met while linking or by a rule.
    undecided.push(...built.queries.model.symbols.uncertainties);
  }
  sortFindings(findings);
  const main = primary!;
  const silenced = new Set(dedupeFindings(suppressed.map((s) => s.finding)));
  return {
    findings: dedupeFindings(findings), model: main.queries.model, problems: [...main.problems, ...suppressionProblems],
    counts: { types: main.queries.model.types.length, modules: main.queries.model.modules.length },
    conditions: main.facts.filter((f) => f.unknownConditions.length).map((f) => ({ file: f.file, unknownConditions: f.unknownConditions })),
    uncertainties: dedupeUncertainties([...main.uncertainties, ...undecided]),
    filesAnalysed: main.files, unparsed: main.unparsed, apiHeaders: [...apiHeaders], seconds: (performance.now() - started) / 1000,
    sources: new Map(sources.map((s) => [s.file, s.text])),
    suppressed: suppressed.filter((s) => silenced.has(s.finding)),
    suppressionComments: [...suppressions.values()].flatMap((s) => s.comments),
    rulesRun: rules.map((r) => r.id),
    ...(factsCache ? { factsCache: { ...factsCache.stats } } : {}),
  };
}

function canReport(rule: Rule, sources: readonly SourceInput[]): boolean {
  const needed = rule.reportsOnlyWhereNamed;
  return !needed || sources.some((s) => needed.some((name) => s.text.includes(name)));
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
  /** The facts linked, one per analysed file, in input order. */
  facts: FileFacts[];
}

/** A source prepared for every version, or why it could not be (the parser failed or gave up on it). */
type PreparedSource = { ok: true; prepared: PreparedFile } | { ok: false; reason: string; detail?: string };

/** Every source's facts for every version: from the cache where it has them, else prepared by the extractor. */
async function prepareSources(
  sources: readonly SourceInput[], context: PrepareContext, extraction: ExtractorOptions, factsCache: FactsCache | null,
): Promise<PreparedSource[]> {
  const out: PreparedSource[] = new Array(sources.length);
  const shared = new SharedExpressions();
  const share = (prepared: PreparedFile) => {
    for (const facts of prepared.facts) shared.shareFunctionBodies(facts);
  };
  const fingerprint = factsCache ? contextFingerprint(context) : null;
  const keys: (string | null)[] = sources.map((s) => (fingerprint ? `${s.textHash ?? textDigest(s.text)}\0${contextKeyFor(s.text, fingerprint)}` : null));
  const pending: number[] = [];
  sources.forEach((source, i) => {
    const stored = factsCache && keys[i] ? factsCache.get(source.file, keys[i]!) : null;
    if (stored && stored.versions.length === context.versions.length) {
      share(stored);
      out[i] = { ok: true, prepared: stored };
    }
    else pending.push(i);
  });
  if (!pending.length) return out;
  // Chosen by what is left to prepare: one edited file of a cached tree needs no worker threads.
  const extractor = createExtractor(extraction, pending.map((i) => sources[i].text.length));
  try {
    await extractor.prepareAll(context, pending.map((i) => sources[i]), (n, outcome) => {
      const i = pending[n];
      out[i] = outcome;
      if (outcome.ok) share(outcome.prepared);
      // A file some version could not preprocess is prepared again next time (the failure is a bug to see, not keep).
      if (outcome.ok && factsCache && keys[i] && outcome.prepared.versions.every((v) => !v.failure)) {
        factsCache.put(sources[i].file, keys[i]!, outcome.prepared, outcome.json);
      }
    });
  } finally {
    await extractor.close();
  }
  return out;
}

function buildModel(
  sources: readonly SourceInput[],
  prepared: readonly PreparedSource[],
  key: number,
  version: { major: number; minor: number },
  previous: BuiltModel | null,
): BuiltModel {
  const facts: FileFacts[] = [];
  const problems: FileProblem[] = [];
  const unparsed: string[] = [];
  sources.forEach((source, i) => {
    const p = prepared[i];
    if (!p.ok) {
      problems.push({ file: source.file, message: `not analysed: ${p.reason}`, detail: p.detail, notAnalysed: true });
      unparsed.push(source.file);
      return;
    }
    const v = p.prepared.versions.find((x) => x.key === key)!;
    for (const note of v.notes) problems.push({ file: source.file, message: `line ${note.line}: ${note.message}` });
    if (v.facts === null) {
      problems.push({ file: source.file, message: `not analysed: ${plainReason(v.failure?.reason ?? 'the preprocessor failed')}`, detail: v.failure?.detail, notAnalysed: true });
      unparsed.push(source.file);
      return;
    }
    const fileFacts = p.prepared.facts[v.facts];
    // Facts shared with an earlier version keep that version's conditions: its model holds the same object.
    const sharedWithEarlier = p.prepared.versions.some((x) => x.key < key && x.facts === v.facts);
    if (!sharedWithEarlier) fileFacts.unknownConditions = v.unknownConditions;
    if (fileFacts.rootIsError || fileFacts.errorRatio > 0.25) {
      problems.push({ file: source.file, message: `parsed with errors (${Math.round(fileFacts.errorRatio * 100)}% of the text not understood); findings in this file may be incomplete` });
    }
    facts.push(fileFacts);
  });
  // The same facts with the same C-API names as the previous version: the same model, read as this version.
  if (previous && sameLinkage(previous, facts, version)) {
    const model: Model = Object.freeze({ ...previous.queries.model, pythonVersion: version });
    return { queries: new Queries(model), uncertainties: previous.uncertainties, problems, unparsed, files: facts.length, facts };
  }
  const { model, uncertainties } = linkModel(facts, { pythonVersion: version });
  return { queries: new Queries(model), uncertainties, problems, unparsed, files: facts.length, facts };
}

/**
 * Whether linking `facts` for `version` gives the model `previous` has: the same facts, and no function or macro
 * they define is a C-API name in one version and not the other (the symbol table ignores definitions of names the
 * target version's API has).
 */
function sameLinkage(previous: BuiltModel, facts: readonly FileFacts[], version: { major: number; minor: number }): boolean {
  if (previous.facts.length !== facts.length || previous.facts.some((f, i) => f !== facts[i])) return false;
  const before = previous.queries.model.pythonVersion;
  const agree = (name: string) => (apiNameExists(name, before) === true) === (apiNameExists(name, version) === true);
  return facts.every((f) => f.functions.every((fn) => agree(fn.name)) && f.macros.every((m) => agree(m.name)));
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
