#!/usr/bin/env node
// capi-gc command line: `capi-gc check [paths…]`, `capi-gc rules [id]`.

import { parseArgs } from 'node:util';
import { checkPaths } from '../analyze.js';
import { formatDiagnostics, formatFindings, printable as printableName } from '../report/text.js';
import { formatJson, formatJsonDocument } from '../report/json.js';
import { verifyModule, type RuntimeReport, type VerifyOptions } from '../runtime/verify.js';
import { annotateFindings, placeInSource, runtimeFindings, runtimeOnlyFindings } from '../runtime/findings.js';
import { displayPath } from '../files/discover.js';
import { interpreterProblem } from '../runtime/driver.js';
import { describeWatch, mergeWatch, runWatched, watchFindings } from '../runtime/watch.js';
import { KNOWN_RULES, findRule } from '../rules/index.js';
import { isKnownRuleId, nearestWord, unknownRuleMessage } from '../rules/ids.js';
import { ConfigError, findPyproject, loadConfig, parsePythonVersion, type FileConfig } from './config.js';
import { readRuleDoc } from './docs.js';
import { TOOL_VERSION } from '../version.js';
import type { Finding, Severity } from '../rules/rule.js';
import { formatSarif } from '../report/sarif.js';
import { formatGithub } from '../report/github.js';
import { formatStatistics, formatStatisticsJson } from '../report/statistics.js';
import { SourceIndex } from '../report/source.js';
import { UNUSED_SUPPRESSION, unusedSuppressionFindings } from '../report/unused.js';
import { unusedSuppressions, type SuppressionComment } from '../suppress.js';
import { BaselineError, applyBaseline, baselineEntries, formatBaseline, readBaseline, type Baseline, type BaselineEntry } from '../baseline/baseline.js';
import { parseColorChoice, useColor } from './color.js';
import { progressWanted, startProgress } from './progress.js';
import { OutputError, checkOutputPath, inputClash, writeOutputFile } from './output.js';
import { dirname, resolve } from 'node:path';
import { markShortLivedProcess } from '../parse/parser.js';

const DEFAULT_PYTHON = { major: 3, minor: 9 };

const USAGE = `usage: capi-gc check [paths...] [options]
       capi-gc verify --python PYTHON MODULE [--path DIR] [--factory TYPE=EXPR] [--timeout SECONDS]
                      [--format text|json] [--fail-on error|warning|note]
       capi-gc verify --python PYTHON --run 'COMMAND' [--format text|json|sarif|github] [--output FILE] [--verbose]
       capi-gc rules [rule-id]

Checks CPython C-extension sources (.c/.h files and folders) for types and modules that do not
fully implement the garbage-collector protocol.

options:
  --format text|json|sarif|github
                            output format (default: text); sarif is SARIF 2.1.0 for code scanning,
                            github prints GitHub Actions annotations (::error file=…::…)
  --output FILE             write the report to FILE (atomically) instead of stdout
  --quiet                   print the findings only: no summary, no notes (input NOT analysed is still said)
  --statistics              print how many findings each rule reported instead of the findings
  --show-source             show the offending line with a caret under each finding (text format)
  --color auto|always|never colour the text output (default auto: only on a terminal; NO_COLOR and
                            FORCE_COLOR are honoured)
  --baseline FILE           report only findings that FILE does not list
  --write-baseline FILE     record today's findings in FILE (a baseline) and report none
  --report-stale-baseline   list baseline entries that no finding matches any more
  --report-unused-suppressions
                            report suppression comments that silence nothing (as unused-suppression)
  --stdin-filename PATH     read one file's text from stdin and analyse it as PATH (with the paths
                            given, if any; an editor's unsaved buffer)
  --fail-on error|warning|note
                            lowest severity that makes the exit code 1 (default: error)
  --python-version X.Y      oldest Python the extension supports (default: requires-python from
                            pyproject.toml, else ${DEFAULT_PYTHON.major}.${DEFAULT_PYTHON.minor})
  --define NAME[=VALUE]     treat a macro as defined in #if conditions (repeatable)
  --undefine NAME           treat a macro as undefined in #if conditions (repeatable)
  --select ID[,ID]          run only these rules
  --ignore ID[,ID]          do not run these rules
  --exclude PATTERN         leave out files matching a gitignore-style pattern (repeatable)
  --config FILE             pyproject.toml to read [tool.capi-gc] from (default: nearest one)
  --max-file-size BYTES     files larger than this are skipped (default: 4194304)
  --verbose                 list everything that could not be decided or read
  --exit-zero               exit 0 even when findings are reported (2 still means failure)
  --keep-going              when some input could not be analysed, exit with the findings' code
                            instead of 2 (what was not analysed is still listed)
  --jobs N                  worker threads that parse files (default: one fewer than the cores, this thread
                            parsing the smallest files beside them; 0: none)
  --file-timeout SECONDS    time one file may take to parse before it is reported as not analysed
                            (default: 30 plus 2 per MB)
  --cache DIR               keep each file's facts in DIR: a second run parses only files that changed
                            (also cache-dir in [tool.capi-gc]; --no-cache turns it off)
  --verify                  also import the built module (--module) with --python and say, for each
                            finding, whether the interpreter confirms it (runs the extension's code)
  --python PYTHON           interpreter for --verify / verify
  --module NAME             importable name of the built module, for --verify
  --path DIR                directory to put on sys.path for the import (repeatable)
  --factory TYPE=EXPR       how to make an instance of TYPE, as a Python expression with the module
                            bound to m (e.g. --factory pkg.mod.Node='m.make_node()'; repeatable)
  --timeout SECONDS         limit for each run-time probe (default: 60)
  --run 'COMMAND'           run COMMAND (e.g. 'python -m pytest tests/') through the shell with every Python
                            process it starts watched (--python's directory first on PATH); each finding
                            says "confirmed by the test suite" or "not exercised". The command's own output
                            is untouched: the report goes to --output, else stderr. Exit code: the
                            command's, or 1 when it passed and a finding reaches --fail-on. Also
                            reported: crashes (faulthandler into capi-gc's own file), modules never freed
                            by Py_Finalize (a __capi_gc_witness__ in each watched module), and on 3.12+
                            memory left by each subinterpreter that loads a module (--verbose: skipped ones)
  --no-color                plain text output (same as --color never)
  --version, --help

exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or internal failure,
            or some input could not be analysed (unless --keep-going)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command === '--version') {
    process.stdout.write(`capi-gc ${TOOL_VERSION}\n`);
    return 0;
  }
  if (command === 'rules') return rulesCommand(rest);
  if (command === 'check') return checkCommand(rest);
  if (command === 'verify') return verifyCommand(rest);
  process.stderr.write(`capi-gc: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

function rulesCommand(args: string[]): number {
  if (!args.length) {
    for (const r of KNOWN_RULES) process.stdout.write(`${r.id.padEnd(28)} ${r.defaultSeverity.padEnd(8)} ${r.summary}\n`);
    return 0;
  }
  const rule = findRule(args[0]) ?? (args[0] === UNUSED_SUPPRESSION.id ? UNUSED_SUPPRESSION : undefined);
  if (!rule) {
    process.stderr.write(`capi-gc: no rule "${args[0]}"; \`capi-gc rules\` lists them\n`);
    return 2;
  }
  const doc = readRuleDoc(rule.id);
  process.stdout.write(doc ?? `${rule.id}: ${rule.summary}\n`);
  return 0;
}

async function checkCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        'fail-on': { type: 'string' },
        'python-version': { type: 'string' },
        define: { type: 'string', multiple: true },
        undefine: { type: 'string', multiple: true },
        select: { type: 'string', multiple: true },
        ignore: { type: 'string', multiple: true },
        exclude: { type: 'string', multiple: true },
        config: { type: 'string' },
        'max-file-size': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        'exit-zero': { type: 'boolean', default: false },
        'keep-going': { type: 'boolean', default: false },
        jobs: { type: 'string' },
        'file-timeout': { type: 'string' },
        cache: { type: 'string' },
        'no-cache': { type: 'boolean', default: false },
        verify: { type: 'boolean', default: false },
        run: { type: 'string' },
        python: { type: 'string' },
        module: { type: 'string' },
        path: { type: 'string', multiple: true },
        factory: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        'no-color': { type: 'boolean', default: false },
        color: { type: 'string' },
        output: { type: 'string', short: 'o' },
        quiet: { type: 'boolean', short: 'q', default: false },
        statistics: { type: 'boolean', default: false },
        'show-source': { type: 'boolean', default: false },
        baseline: { type: 'string' },
        'write-baseline': { type: 'string' },
        'report-stale-baseline': { type: 'boolean', default: false },
        'report-unused-suppressions': { type: 'boolean', default: false },
        'stdin-filename': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`capi-gc: ${optionErrorMessage(error as Error)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const cwd = process.cwd();
  const stdinFilename = values['stdin-filename'];
  const given = positionals.filter((p) => p !== '-');
  if (positionals.includes('-') && stdinFilename === undefined) return usageError('reading a file from stdin ("-") needs --stdin-filename PATH, the path to report it under');
  if (stdinFilename !== undefined && !stdinFilename.trim()) return usageError('--stdin-filename needs a path');
  // With --stdin-filename alone, the buffer is the whole input; otherwise the current folder is the default.
  const paths = given.length ? given : stdinFilename !== undefined ? [] : ['.'];
  const anchor = paths[0] ?? (stdinFilename !== undefined ? dirname(resolve(cwd, stdinFilename)) : cwd);
  let config;
  try {
    config = loadConfig(values.config ?? findPyproject(anchor), anchor);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`capi-gc: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const format = values.format;
  if (format !== 'text' && format !== 'json' && format !== 'sarif' && format !== 'github') {
    return usageError(`--format must be text, json, sarif or github, not "${format}"`);
  }
  if (values.statistics && format !== 'text' && format !== 'json') return usageError('--statistics prints text or json, not ' + format);
  const colorChoice = parseColorChoice(values.color, values['no-color']);
  if (colorChoice !== 'auto' && colorChoice !== 'always' && colorChoice !== 'never') return usageError(colorChoice);
  // Everything that can fail about the files we write or read is checked before the analysis runs.
  for (const [option, what] of [['output', 'output file'], ['write-baseline', 'baseline']] as const) {
    const path = values[option];
    if (path === undefined) continue;
    if (!path.trim()) return usageError(`--${option} needs a file name`);
    const problem = checkOutputPath(path, cwd, what, option === 'write-baseline' ? 'baseline' : 'report');
    if (problem) return usageError(problem);
  }
  if (values.output !== undefined) {
    for (const [option, path] of [['--baseline', values.baseline], ['--write-baseline', values['write-baseline']]] as const) {
      if (path !== undefined && resolve(cwd, path) === resolve(cwd, values.output)) {
        return usageError(`--output ${values.output} is also the file of ${option}; the report would replace the baseline: give another name`);
      }
    }
  }
  if (values.baseline !== undefined && !values.baseline.trim()) return usageError('--baseline needs a file name');
  let baseline: Baseline | null = null;
  if (values.baseline !== undefined) {
    try {
      baseline = readBaseline(values.baseline, cwd);
    } catch (error) {
      if (error instanceof BaselineError) return usageError(error.message);
      throw error;
    }
  } else if (values['report-stale-baseline']) return usageError('--report-stale-baseline needs --baseline FILE');
  let overlay: { file: string; text: string }[] = [];
  if (stdinFilename !== undefined) {
    let text: string;
    try {
      text = await readStdin();
    } catch (error) {
      return usageError(`--stdin-filename: cannot read stdin: ${(error as Error).message}`);
    }
    overlay = [{ file: displayPath(resolve(cwd, stdinFilename), cwd), text: text.replace(/^\uFEFF/, '') }];
  }
  if (values.cache === '') return usageError('--cache needs a folder name');
  const cacheDir = values['no-cache'] ? undefined : values.cache !== undefined ? resolve(cwd, values.cache) : config.cacheDir;
  const failOn = (values['fail-on'] ?? config.failOn ?? 'error') as Severity;
  if (!['error', 'warning', 'note'].includes(failOn)) return usageError(`--fail-on must be error, warning or note`);
  let pythonVersion = config.pythonVersion ?? DEFAULT_PYTHON;
  if (values['python-version']) {
    const v = parsePythonVersion(values['python-version']);
    if (typeof v === 'string') return usageError(`--python-version ${v}`);
    pythonVersion = v;
  }
  const split = (xs: string[] | undefined) => (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const select = [...split(values.select), ...(config.select ?? [])];
  const ignore = [...split(values.ignore), ...(config.ignore ?? [])];
  for (const id of [...select, ...ignore]) {
    if (!isKnownRuleId(id)) return usageError(unknownRuleMessage(id));
  }
  const defines = new Map<string, string>();
  for (const d of [...(config.define ?? []), ...(values.define ?? [])]) {
    const eq = d.indexOf('=');
    const name = (eq < 0 ? d : d.slice(0, eq)).trim();
    if (!/^[A-Za-z_]\w*$/.test(name)) return usageError(`--define needs a macro name (NAME or NAME=VALUE), not "${d}"`);
    defines.set(name, eq < 0 ? '1' : d.slice(eq + 1));
  }
  for (const u of [...(config.undefine ?? []), ...(values.undefine ?? [])]) {
    if (!/^[A-Za-z_]\w*$/.test(u.trim())) return usageError(`--undefine needs a macro name, not "${u}"`);
  }
  const undefines = new Set([...(config.undefine ?? []), ...(values.undefine ?? [])]);
  let maxBytes = 4 * 1024 * 1024;
  if (values['max-file-size']) {
    maxBytes = Number(values['max-file-size']);
    if (!Number.isFinite(maxBytes) || maxBytes <= 0) return usageError('--max-file-size must be a positive number of bytes');
  }
  let jobs: number | undefined;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 0) return usageError('--jobs must be a whole number of worker threads (0 parses in the main thread)');
  }
  let fileTimeoutSeconds: number | undefined;
  if (values['file-timeout'] !== undefined) {
    fileTimeoutSeconds = Number(values['file-timeout']);
    if (!Number.isFinite(fileTimeoutSeconds) || fileTimeoutSeconds <= 0) return usageError('--file-timeout must be a positive number of seconds');
  }
  const progress = startProgress(process.stderr, progressWanted(process.stderr, process.env, values.quiet));
  let result;
  try {
    result = await checkPaths(paths, {
      cwd, pythonVersion, defines, undefines, select, ignore,
      exclude: [...(config.exclude ?? []), ...(values.exclude ?? [])],
      read: { maxBytes, largeFileBytes: 256 * 1024 },
      jobs, fileTimeoutSeconds, overlay, onFiles: (n) => progress.files(n), cacheDir,
      // --verify places run-time findings in the model's types.
      needsModel: values.verify === true,
    });
  } finally {
    progress.stop();
  }
  if (values.verify) {
    // Running the user's extension is explicit: only with --verify, and only with an interpreter and a module named.
    const settings = verifySettings(values, config);
    if (typeof settings === 'string') return usageError(settings);
    const report = await verifyModule({ ...settings, cwd });
    const usage = verifyUsageProblem(report);
    if (usage) return usageError(usage);
    if (report.problem && !report.importError) process.stderr.write(`capi-gc: verify: ${report.problem}\n`);
    const annotated = annotateFindings(result.findings, report);
    const where = report.file ? displayPath(report.file, cwd) : settings.module;
    result.findings = sortFindings([...annotated, ...placeInSource(runtimeOnlyFindings(annotated, report, where), result.model!)]);
  }
  let programExit: number | null = null;
  if (values.run !== undefined) {
    const python = values.python ?? config.verify?.python;
    if (!python) return usageError('--run needs --python (the interpreter whose directory goes first on PATH)');
    if (!values.run.trim()) return usageError('--run needs a command');
    const unusable = await interpreterProblem(python, cwd);
    if (unusable) return usageError(`--run: ${unusable}`);
    const run = await runWatched({ python, command: values.run, cwd });
    programExit = run.exitCode;
    process.stderr.write(`capi-gc: --run: \`${values.run}\` exited ${run.exitCode}; ${describeWatch(run, values.verbose)}\n`);
    result.findings = sortFindings(mergeWatch(result.findings, run, watchFindings(run, cwd, values.run)));
  }
  const index = new SourceIndex(result.sources);
  let findings: Finding[] = result.findings;
  if (values['report-unused-suppressions']) {
    const used = new Map<SuppressionComment, Set<string>>();
    for (const s of result.suppressed ?? []) {
      if (!used.has(s.by)) used.set(s.by, new Set());
      used.get(s.by)!.add(s.finding.rule);
    }
    const unused = unusedSuppressionFindings(unusedSuppressions(result.suppressionComments ?? [], used, new Set(result.rulesRun ?? [])));
    findings = sortFindings([...findings, ...unused]);
  }
  const notes: string[] = [];
  let known = 0;
  let stale: BaselineEntry[] = [];
  if (baseline) {
    const match = applyBaseline(baseline, findings, index, cwd);
    findings = match.fresh;
    known = match.known.length;
    stale = match.stale;
    notes.push(`capi-gc: baseline ${values.baseline}: ${known} known finding(s) not shown; ${findings.length} new`
      + (stale.length ? `; ${stale.length} entr${stale.length === 1 ? 'y' : 'ies'} no longer match${stale.length === 1 ? 'es' : ''} a finding${values['report-stale-baseline'] ? '' : ' (--report-stale-baseline lists them)'}` : ''));
    if (values['report-stale-baseline']) {
      for (const e of stale) notes.push(`capi-gc: stale baseline entry: ${printableName(e.file)}:${e.line}: [${e.rule}] ${printableName(e.message)}`);
    }
  }
  for (const [option, what] of [['output', 'output file'], ['write-baseline', 'baseline']] as const) {
    const path = values[option];
    const clash = path === undefined ? null : inputClash(path, cwd, what, result.sources?.keys() ?? []);
    if (clash) return usageError(clash);
  }
  if (values['write-baseline'] !== undefined) {
    const recorded = result.findings;
    try {
      await writeOutputFile(values['write-baseline'], cwd, formatBaseline(baselineEntries(recorded, index, cwd, values['write-baseline'])), 'baseline');
    } catch (error) {
      if (error instanceof OutputError) return usageError(error.message);
      throw error;
    }
    notes.push(`capi-gc: wrote baseline ${values['write-baseline']} with ${recorded.length} finding(s); \`--baseline ${values['write-baseline']}\` reports only findings not in it`);
    // Everything found is now recorded: nothing is new.
    findings = findings.filter((f) => f.rule === UNUSED_SUPPRESSION.id);
  }
  const exitCode = (() => {
    if (result.problems.some((p) => p.fatal)) return 2;
    // A run that skipped input the user gave did not check it: CI must not go green on it.
    if (!values['keep-going'] && result.problems.some((p) => p.notAnalysed)) return 2;
    const rank: Record<Severity, number> = { note: 0, warning: 1, error: 2 };
    if (programExit !== null) return programExit !== 0 || values['exit-zero'] ? programExit : findings.some((f) => rank[f.severity] >= rank[failOn]) ? 1 : 0;
    if (values['exit-zero']) return 0;
    return findings.some((f) => rank[f.severity] >= rank[failOn]) ? 1 : 0;
  })();
  const toFile = values.output !== undefined;
  const color = !toFile && useColor(colorChoice, process.stdout, process.env);
  const summaryOf = (rule: string) => (findRule(rule) ?? (rule === UNUSED_SUPPRESSION.id ? UNUSED_SUPPRESSION : undefined))?.summary ?? '';
  let report: string;
  if (values.statistics) report = format === 'json' ? formatStatisticsJson(findings) : formatStatistics(findings, summaryOf);
  else if (format === 'json') {
    report = formatJsonDocument(findings, {
      files: result.filesAnalysed, types: result.counts.types, modules: result.counts.modules,
      unparsed: result.unparsed, seconds: result.seconds,
    });
  } else if (format === 'sarif') {
    report = formatSarif(result, { cwd, exitCode, ruleDoc: readRuleDoc, findings, baseline: baseline !== null, arguments: ['check', ...args] });
  } else if (format === 'github') report = formatGithub(findings, result.problems, result.sources, cwd);
  else report = formatFindings({ findings }, { verbose: values.verbose, color, source: values['show-source'] ? index : undefined });
  if (toFile) {
    try {
      await writeOutputFile(values.output!, cwd, report, 'output file');
    } catch (error) {
      if (error instanceof OutputError) return usageError(error.message);
      throw error;
    }
  } else if (programExit !== null) process.stderr.write(report); // stdout is the program's
  else process.stdout.write(report);
  if (values.quiet) {
    // Findings only; but input that was not analysed makes the run fail, so it is always said.
    const failed = result.problems.filter((p) => p.notAnalysed || p.fatal);
    for (const p of failed) process.stderr.write(`capi-gc: ${printableName(p.file)}: ${printableName(p.message)}\n`);
    // Asked for by name: the stale entries are listed even when the rest is quiet.
    const staleLines = notes.filter((n) => n.startsWith('capi-gc: stale baseline entry: '));
    if (staleLines.length) process.stderr.write(staleLines.join('\n') + '\n');
  } else {
    process.stderr.write(formatDiagnostics({ ...result, findings }, { verbose: values.verbose, color: false }));
    if (notes.length) process.stderr.write(notes.join('\n') + '\n');
    if (toFile) process.stderr.write(`capi-gc: wrote ${format} report to ${values.output}\n`);
  }
  return exitCode;
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

type VerifySettings = Omit<VerifyOptions, 'cwd'>;

function verifySettings(
  values: { python?: string; module?: string; path?: string[]; timeout?: string; factory?: string[] },
  config: FileConfig,
  moduleArg?: string,
): VerifySettings | string {
  const python = values.python ?? config.verify?.python;
  const module = moduleArg ?? values.module ?? config.verify?.module;
  if (!python) return 'verify needs --python (the interpreter to import the module with)';
  if (!module) return 'verify needs the importable module name (--module, or [tool.capi-gc.verify] module)';
  const timeout = values.timeout ? Number(values.timeout) : config.verify?.timeout ?? 60;
  if (!Number.isFinite(timeout) || timeout <= 0) return '--timeout must be a positive number of seconds';
  const factories: Record<string, string> = { ...(config.verify?.factories ?? {}) };
  for (const f of values.factory ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0) return `--factory takes TYPE=EXPRESSION, not "${f}"`;
    factories[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return {
    python, module, paths: [...(values.path ?? []), ...(config.verify?.path ?? [])],
    timeoutMs: timeout * 1000, instances: 100, factories,
  };
}

async function verifyCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        python: { type: 'string' },
        module: { type: 'string' },
        path: { type: 'string', multiple: true },
        factory: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        format: { type: 'string', default: 'text' },
        'fail-on': { type: 'string' },
        config: { type: 'string' },
        'exit-zero': { type: 'boolean', default: false },
        run: { type: 'string' },
        output: { type: 'string', short: 'o' },
        verbose: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usageError(optionErrorMessage(error as Error));
  }
  const { values, positionals } = parsed;
  if (values.run !== undefined) return verifyRun(values, positionals);
  if (positionals.length > 1) return usageError('verify takes one module name');
  if (values.format !== 'text' && values.format !== 'json') return usageError(`--format must be text or json`);
  let config: FileConfig;
  try {
    config = loadConfig(values.config ?? findPyproject(process.cwd()));
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
  const settings = verifySettings(values, config, positionals[0]);
  if (typeof settings === 'string') return usageError(settings);
  const started = performance.now();
  const report = await verifyModule({ ...settings, cwd: process.cwd() });
  const usage = verifyUsageProblem(report);
  if (usage) return usageError(usage);
  if (report.problem && !report.importError) {
    process.stderr.write(`capi-gc: verify: ${report.problem}\n`);
    return 2;
  }
  const file = report.file ? displayPath(report.file, process.cwd()) : settings.module;
  const findings = runtimeFindings(report, file);
  const seconds = (performance.now() - started) / 1000;
  if (values.format === 'json') {
    process.stdout.write(formatJsonDocument(findings, { files: 0, types: report.types.length, modules: 1, unparsed: [], seconds }));
  } else {
    process.stdout.write(formatFindings({ findings }, { verbose: false, color: false }));
  }
  const counts = { error: 0, warning: 0, note: 0 };
  for (const f of findings) counts[f.severity]++;
  process.stderr.write(`capi-gc: verify ${settings.module} on Python ${report.python}: ${report.types.length} heap type(s): `
    + `${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s) in ${seconds.toFixed(2)}s\n`);
  if (values['exit-zero']) return 0;
  const failOn = (values['fail-on'] ?? config.failOn ?? 'error') as Severity;
  const rank: Record<Severity, number> = { note: 0, warning: 1, error: 2 };
  return findings.some((f) => rank[f.severity] >= rank[failOn]) ? 1 : 0;
}

/** `verify --run COMMAND`: the command's run, watched, as findings. */
async function verifyRun(
  values: { run?: string; python?: string; format?: string; output?: string; config?: string; 'fail-on'?: string; 'exit-zero'?: boolean; verbose?: boolean },
  positionals: string[],
): Promise<number> {
  const cwd = process.cwd();
  const command = values.run ?? '';
  if (positionals.length) return usageError('verify --run takes no module name: the command imports the modules it uses');
  if (!command.trim()) return usageError('--run needs a command');
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'sarif' && format !== 'github') {
    return usageError('--format must be text, json, sarif or github');
  }
  let config: FileConfig;
  try {
    config = loadConfig(values.config ?? findPyproject(cwd));
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }
  const python = values.python ?? config.verify?.python;
  if (!python) return usageError('verify --run needs --python (the interpreter whose directory goes first on PATH)');
  const failOn = (values['fail-on'] ?? config.failOn ?? 'error') as Severity;
  if (!['error', 'warning', 'note'].includes(failOn)) return usageError('--fail-on must be error, warning or note');
  if (values.output !== undefined) {
    if (!values.output.trim()) return usageError('--output needs a file name');
    const problem = checkOutputPath(values.output, cwd, 'output file');
    if (problem) return usageError(problem);
  }
  const unusable = await interpreterProblem(python, cwd);
  if (unusable) return usageError(`verify: ${unusable}`);
  const started = performance.now();
  const run = await runWatched({ python, command, cwd });
  const findings = sortFindings(watchFindings(run, cwd, command));
  const seconds = (performance.now() - started) / 1000;
  const rank: Record<Severity, number> = { note: 0, warning: 1, error: 2 };
  const exitCode = run.exitCode !== 0 || values['exit-zero'] ? run.exitCode : findings.some((f) => rank[f.severity] >= rank[failOn]) ? 1 : 0;
  const types = new Set(run.records.flatMap((r) => r.types.map((t) => t.name))).size;
  let report: string;
  if (format === 'json') report = formatJsonDocument(findings, { files: 0, types, modules: new Set(run.records.flatMap((r) => r.modules.map((m) => m.name))).size, unparsed: [], seconds });
  else if (format === 'sarif') {
    report = formatSarif({ findings, problems: [], sources: new Map(), suppressed: [] }, { cwd, exitCode, ruleDoc: readRuleDoc, findings, arguments: ['verify', '--run', command] });
  } else if (format === 'github') report = formatGithub(findings, []);
  else report = formatFindings({ findings }, { verbose: false, color: false });
  // The program's stdout is its own: the report goes to --output, else stderr.
  if (values.output !== undefined) {
    try {
      await writeOutputFile(values.output, cwd, report, 'output file');
    } catch (error) {
      if (error instanceof OutputError) return usageError(error.message);
      throw error;
    }
  } else process.stderr.write(report);
  const counts = { error: 0, warning: 0, note: 0 };
  for (const f of findings) counts[f.severity]++;
  process.stderr.write(`capi-gc: verify --run: \`${command}\` exited ${run.exitCode}; ${describeWatch(run, values.verbose)}: `
    + `${counts.error} error(s), ${counts.warning} warning(s), ${counts.note} note(s)\n`);
  return exitCode;
}

/** What makes a verify run a usage error: an interpreter that cannot run the probe, a factory for no type. */
function verifyUsageProblem(report: RuntimeReport): string | null {
  if (report.interpreterProblem) return `verify: ${report.interpreterProblem}`;
  if (report.unknownFactories.length) {
    return `verify: --factory ${report.unknownFactories.join(', ')}: ${report.module} has no such type (name it as module.Type, as verify lists it)`;
  }
  return null;
}

/** node:util parseArgs's error in a user's words: an unknown option gets a "did you mean" and points at --help. */
function optionErrorMessage(error: Error): string {
  const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(error.message);
  if (unknown) {
    const options = new Set(USAGE.match(/--[a-z][a-z-]*/g) ?? []);
    const near = unknown[1].startsWith('--') ? nearestWord(unknown[1].split('=')[0], options) : null;
    return `unknown option ${unknown[1]}${near ? ` (did you mean ${near}?)` : ''}; \`capi-gc --help\` lists the options`;
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(error.message);
  if (missing) return `${missing[1]} needs a value; \`capi-gc --help\` lists the options`;
  return `${error.message}\n(\`capi-gc --help\` lists the options)`;
}

function usageError(message: string): number {
  process.stderr.write(`capi-gc: ${message}\n`);
  return 2;
}

markShortLivedProcess();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`capi-gc: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
