// What a rule is: metadata (id, messages, fix title, run-time verdict) plus a check that asks the model's queries
// and reports findings through one call with a message id and the data its template needs.

import type { ExtensionType } from '../model/model.js';
import type { Queries } from '../model/queries.js';
import type { RuntimeReport, RuntimeType } from '../runtime/verify.js';

export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  rule: string;
  /** Which of the rule's messages this is (not part of the JSON contract). */
  messageId?: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  type: string | null;
  typeKind: 'heap' | 'static' | null;
  spec: string | null;
  function: string | null;
  member: string | null;
  module: string | null;
  /**
   * Other places the finding is about (the type's spec, its tp_traverse, tp_clear or tp_dealloc, the member's
   * declaration): SARIF's related locations. Not part of the JSON v1 findings.
   */
  related?: RelatedLocation[];
  /**
   * `check --verify`: the run-time verdict on a static finding, or "found at run time only"; `check --run`: whether
   * the program's run (a test suite) showed it.
   */
  runtime?: { verdict: Verdict | WatchVerdict | 'found at run time only'; evidence: string };
}

export interface RelatedLocation {
  file: string;
  line: number;
  column: number;
  /** What is there: `tp_traverse of m.Foo (foo_traverse)`. */
  message: string;
}

/** Where a finding points, and what it is about. */
export interface ReportLocation {
  /** Overrides the rule's default severity for this one finding. */
  severity?: Severity;
  file: string;
  line: number;
  column: number;
  type?: ExtensionType | null;
  function?: string | null;
  member?: string | null;
  module?: string | null;
}

/** Values for a message template's `{{placeholders}}`. */
export type MessageData = Readonly<Record<string, string | number>>;

export type Report<MessageId extends string = string> = (messageId: MessageId, data: MessageData, at: ReportLocation) => void;

export type Verdict = 'confirmed at run time' | 'not observed' | 'not testable';

/** `check --run`: a static finding the watched program showed, or one it never exercised. */
export type WatchVerdict = 'confirmed by the test suite' | 'not exercised';

export interface RuntimeVerdict {
  verdict: Verdict;
  evidence: string;
}

/** What `check --verify` saw in the interpreter, for one static finding. */
export interface RuntimeEvidence {
  report: RuntimeReport;
  /** The finding's type as imported, if found. */
  type: RuntimeType | undefined;
  /** `Python 3.12.1`. */
  python: string;
  module: string;
  /** How a fresh module (or its types) leaked, if it did. */
  moduleLeak: string | null;
  /** The verdict when the finding's type was not found in the imported module. */
  typeNotFound: RuntimeVerdict;
  /** Why nothing could be read from an instance of `t` (crash, no instance, untracked). */
  instanceProblem(t: RuntimeType): string;
}

export interface RuleMeta<MessageId extends string = string> {
  id: string;
  summary: string;
  defaultSeverity: Severity;
  /** Oldest and newest Python versions (inclusive) the rule applies to; null for no bound. */
  appliesTo: { from: [number, number] | null; until: [number, number] | null };
  /** Message templates by id; `{{name}}` is filled from the data of each report. */
  messages: Readonly<Record<MessageId, string>>;
  /** What to do about a finding. */
  fixTitle: string;
  /** `check --verify`: what the interpreter says about a finding of this rule; absent when it cannot tell. */
  runtimeVerdict?(finding: Finding, seen: RuntimeEvidence): RuntimeVerdict;
  /** `check --verify` when the module does not import: whether that failure is this rule's defect. */
  importErrorVerdict?(importError: string, python: string): RuntimeVerdict | null;
}

export interface Rule<MessageId extends string = string> extends RuleMeta<MessageId> {
  /**
   * `q` asks the code as compiled for max(oldest supported, appliesTo.from); `context.oldest` the code as compiled
   * for the oldest supported version, for rules that also judge what must not happen there.
   */
  check(q: Queries, report: Report<MessageId>, context: RuleContext): void;
  /**
   * Text without which the rule cannot report: when no analysed text contains any of these (in code, in a macro's
   * body or pasted together by one), the rule is known to find nothing, and a model of a newer Python built only
   * for it is not built.
   */
  reportsOnlyWhereNamed?: readonly string[];
}

/** A rule only `verify` reports: what the interpreter showed without a static rule to name it. */
export type RuntimeOnlyRule<MessageId extends string = string> = RuleMeta<MessageId>;

export interface RuleContext {
  oldest: Queries;
  /** Says that the rule could not decide something (a macro or function it cannot see): listed by --verbose. */
  undecided(file: string, line: number, message: string): void;
}

/** Declares a rule, checking its reports against its own message ids. */
export function defineRule<const MessageId extends string>(rule: Rule<MessageId>): Rule<MessageId> {
  return rule;
}

export function defineRuntimeRule<const MessageId extends string>(rule: RuntimeOnlyRule<MessageId>): RuntimeOnlyRule<MessageId> {
  return rule;
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/** The placeholder names a template uses. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Fills a rule's message template; an unknown id or a missing value is a bug in the rule and throws. */
export function formatMessage(rule: RuleMeta, messageId: string, data: MessageData): string {
  const template = Object.hasOwn(rule.messages, messageId) ? rule.messages[messageId] : undefined;
  if (template === undefined) throw new Error(`rule ${rule.id} has no message "${messageId}"`);
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!Object.hasOwn(data, name)) throw new Error(`rule ${rule.id}, message "${messageId}": no value for {{${name}}}`);
    return String(data[name]);
  });
}

/**
 * Whether a rule matters for an extension whose oldest supported Python is `oldest` (newer ones are supported too):
 * only a rule whose last version is older than that is irrelevant.
 */
export function ruleAppliesTo(rule: RuleMeta, oldest: { major: number; minor: number }): boolean {
  const { until } = rule.appliesTo;
  return !until || oldest.major * 100 + oldest.minor <= until[0] * 100 + until[1];
}
