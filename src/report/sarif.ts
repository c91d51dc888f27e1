// SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDE viewers): one run, every rule described (its page as
// help), results with regions, related locations, fingerprints and in-source suppressions, and one invocation that
// says the exit code and what was not analysed.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import type { AnalysisResult, FileProblem, SuppressedFinding } from '../analyze.js';
import type { Finding, RuleMeta, Severity } from '../rules/rule.js';
import { KNOWN_RULES } from '../rules/index.js';
import { TOOL_NAME, TOOL_REPOSITORY, TOOL_VERSION, ruleDocUrl } from '../version.js';
import { fingerprints } from '../baseline/fingerprint.js';
import { SourceIndex, tokenEnd } from './source.js';
import { UNUSED_SUPPRESSION } from './unused.js';
import { repositoryRoot, rootRelative } from './paths.js';

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
/** The key of capi-gc's fingerprints in `partialFingerprints`. */
export const FINGERPRINT_KEY = 'capiGc/v1';
export const LINE_FINGERPRINT_KEY = 'capiGcLine/v1';

export interface SarifOptions {
  cwd: string;
  /** The folder URIs are relative to (%SRCROOT%): the repository root; default: repositoryRoot(cwd). */
  root?: string;
  exitCode: number;
  /** The rule's page (docs/rules/<id>.md), or null. */
  ruleDoc: (id: string) => string | null;
  /** Findings to report (after a baseline, plus unused suppressions); default: result.findings. */
  findings?: readonly Finding[];
  /** Set when a baseline was applied: the reported findings are all new relative to it. */
  baseline?: boolean;
  arguments?: readonly string[];
  startTime?: Date;
}

const LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = { error: 'error', warning: 'warning', note: 'note' };

export function formatSarif(result: Pick<AnalysisResult, 'findings' | 'problems' | 'sources' | 'suppressed'>, options: SarifOptions): string {
  const index = new SourceIndex(result.sources);
  const findings = options.findings ?? result.findings;
  const metas: RuleMeta[] = [...KNOWN_RULES];
  if (findings.some((f) => f.rule === UNUSED_SUPPRESSION.id)) metas.push(UNUSED_SUPPRESSION);
  const ruleIndex = new Map(metas.map((r, i) => [r.id, i]));
  const rules = metas.map((r) => ruleDescriptor(r, options.ruleDoc(r.id)));

  const base = pathToFileURL(options.cwd).href.replace(/\/?$/, '/');
  const root = options.root ?? repositoryRoot(options.cwd);
  const artifactLocation = (file: string): Sarif.ArtifactLocation => {
    const rel = isAbsolute(file) ? null : rootRelative(file, options.cwd, root);
    // Outside the repository: an absolute file URI (code scanning ignores it; a viewer can still open it).
    if (rel === null) return { uri: pathToFileURL(resolve(options.cwd, file)).href };
    // Relative to the repository root (%SRCROOT%), each segment percent-encoded.
    return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  };
  const location = (file: string, line: number, column: number, withSnippet: boolean): Sarif.PhysicalLocation => {
    const text = index.line(file, line);
    const region: Sarif.Region = { startLine: line, startColumn: column, endLine: line, endColumn: tokenEnd(text, column) };
    if (withSnippet && text !== null) region.snippet = { text };
    return { artifactLocation: artifactLocation(file), region };
  };
  const toResult = (f: Finding, suppressedBy?: SuppressedFinding['by']): Sarif.Result => {
    const fp = fingerprints(f, f.file, index);
    const r: Sarif.Result = {
      ruleId: f.rule,
      level: LEVEL[f.severity],
      message: { text: f.message },
      locations: [{ physicalLocation: location(f.file, f.line, f.column, true), ...logical(f) }],
      partialFingerprints: { [FINGERPRINT_KEY]: fp.context, [LINE_FINGERPRINT_KEY]: fp.line },
      properties: {
        type: f.type, typeKind: f.typeKind, spec: f.spec, function: f.function, member: f.member, module: f.module,
        ...(f.runtime ? { runtime: f.runtime } : {}),
      },
    };
    const i = ruleIndex.get(f.rule);
    if (i !== undefined) r.ruleIndex = i;
    if (f.related?.length) {
      r.relatedLocations = f.related.map((x, id) => ({ id, physicalLocation: location(x.file, x.line, x.column, false), message: { text: x.message } }));
    }
    if (options.baseline && !suppressedBy) r.baselineState = 'new';
    if (suppressedBy) {
      const s: Sarif.Suppression = {
        kind: 'inSource',
        status: 'accepted',
        location: { physicalLocation: location(suppressedBy.file, suppressedBy.line, suppressedBy.column, true) },
      };
      if (suppressedBy.reason) s.justification = suppressedBy.reason;
      r.suppressions = [s];
    }
    return r;
  };
  const results = [
    ...findings.map((f) => toResult(f)),
    ...(result.suppressed ?? []).map((s) => toResult(s.finding, s.by)),
  ];
  const notifications = result.problems.filter((p) => !p.quiet).map((p) => notification(p, artifactLocation, index));
  const log: Sarif.Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: TOOL_NAME, version: TOOL_VERSION, semanticVersion: TOOL_VERSION,
          ...(TOOL_REPOSITORY ? { informationUri: TOOL_REPOSITORY } : {}), rules,
        },
      },
      invocations: [{
        executionSuccessful: options.exitCode !== 2,
        exitCode: options.exitCode,
        exitCodeDescription: EXIT_CODES[options.exitCode] ?? 'exit code',
        ...(options.arguments ? { arguments: [...options.arguments] } : {}),
        ...(options.startTime ? { startTimeUtc: options.startTime.toISOString(), endTimeUtc: new Date().toISOString() } : {}),
        workingDirectory: { uri: base },
        toolExecutionNotifications: notifications,
        properties: {
          notAnalysed: result.problems.filter((p) => p.notAnalysed || p.fatal).map((p) => p.file),
        },
      }],
      originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(root).href.replace(/\/?$/, '/') } },
      columnKind: 'utf16CodeUnits',
      results,
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

const EXIT_CODES: Record<number, string> = {
  0: 'no finding at or above --fail-on',
  1: 'findings at or above --fail-on',
  2: 'usage error, internal failure, or some input was not analysed',
};

function ruleDescriptor(rule: RuleMeta, doc: string | null): Sarif.ReportingDescriptor {
  const helpUri = ruleDocUrl(rule.id);
  const d: Sarif.ReportingDescriptor = {
    id: rule.id,
    name: rule.id.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
    shortDescription: { text: rule.summary },
    fullDescription: { text: (doc && firstParagraph(doc)) || rule.summary },
    ...(helpUri ? { helpUri } : {}),
    defaultConfiguration: { level: LEVEL[rule.defaultSeverity] },
    properties: { tags: ['correctness', 'cpython', 'garbage-collector'], precision: 'high', 'problem.severity': rule.defaultSeverity === 'note' ? 'recommendation' : rule.defaultSeverity },
  };
  if (doc) d.help = { text: `${rule.summary}\n\n${rule.fixTitle}\n\nThe rule's page: ${helpUri ?? `capi-gc rules ${rule.id}`}`, markdown: doc };
  return d;
}

/** The paragraph under a page's title: what the rule says in a few lines. */
function firstParagraph(markdown: string): string | null {
  const body = markdown.replace(/^#[^\n]*\n+/, '');
  const para = body.split(/\n\s*\n/)[0]?.replace(/\s*\n\s*/g, ' ').trim();
  return para || null;
}

function logical(f: Finding): Pick<Sarif.Location, 'logicalLocations'> {
  const out: Sarif.LogicalLocation[] = [];
  if (f.function) out.push({ name: f.function, kind: 'function' });
  if (f.type) out.push({ fullyQualifiedName: f.type, name: f.type.split('.').pop(), kind: 'type' });
  else if (f.module) out.push({ fullyQualifiedName: f.module, kind: 'module' });
  return out.length ? { logicalLocations: out } : {};
}

function notification(p: FileProblem, artifactLocation: (file: string) => Sarif.ArtifactLocation, index: SourceIndex): Sarif.Notification {
  const n: Sarif.Notification = {
    level: p.notAnalysed || p.fatal ? 'error' : 'warning',
    message: { text: p.notAnalysed || p.fatal ? `${p.file}: not analysed: ${p.message.replace(/^not analysed: /, '')}` : `${p.file}: ${p.message}` },
    descriptor: { id: p.notAnalysed || p.fatal ? 'not-analysed' : 'analysis-note' },
  };
  if (p.file && p.file !== '(analysis)' && (index.linesOf(p.file) !== null || !/^\(/.test(p.file))) {
    n.locations = [{ physicalLocation: { artifactLocation: artifactLocation(p.file) } }];
  }
  return n;
}

