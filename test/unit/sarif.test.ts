// --format sarif: every log validates against the SARIF 2.1.0 schema (Ajv) and, where it runs, with
// @microsoft/sarif-multitool; rules, regions, related locations, fingerprints, suppressions and invocations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { installSarifTools, validateSarif } from '../sarif-validate.js';
import { NO_GC, noGc, runCli, withExampleProject, withTree } from '../cli-run.js';
import { KNOWN_RULES } from '../../src/rules/index.js';
import { TOOL_REPOSITORY, ruleDocUrl } from '../../src/version.js';
import { pathToFileURL } from 'node:url';
import { git } from '../e2e/git-install.js';

/** Every SARIF log this file produced, for the multitool at the end. */
const produced: string[] = [];
const collectDir = mkdtempSync(join(tmpdir(), 'capi-gc-sarif-logs-'));

function sarifOf(args: string[], cwd: string, input?: string): { code: number | null; doc: Record<string, any>; stderr: string } {
  const r = runCli(['check', ...args, '--format', 'sarif'], cwd, { input });
  assert.ok(r.code === 0 || r.code === 1 || r.code === 2, r.stderr);
  const doc = validateSarif(r.stdout);
  const file = join(collectDir, `log-${produced.length}.sarif`);
  writeFileSync(file, r.stdout);
  produced.push(file);
  return { code: r.code, doc, stderr: r.stderr };
}

test('SARIF of the example: rules with help, results with regions, fingerprints and related locations', async () => {
  await withExampleProject((dir) => {
    const { code, doc } = sarifOf(['src'], dir);
    assert.equal(code, 1);
    assert.equal(doc.version, '2.1.0');
    const run = doc.runs[0];
    const rules = run.tool.driver.rules;
    assert.equal(run.tool.driver.name, 'capi-gc');
    assert.deepEqual(rules.map((r: { id: string }) => r.id), KNOWN_RULES.map((r) => r.id));
    // package.json names no repository (none is published): no made-up links, the page itself is the help.
    assert.equal(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).repository, undefined);
    assert.equal(run.tool.driver.informationUri, undefined);
    for (const r of rules) {
      assert.equal(r.helpUri, undefined);
      assert.match(r.help.text, new RegExp(`capi-gc rules ${r.id}$`));
      assert.ok(r.shortDescription.text && r.fullDescription.text && r.name);
      assert.match(r.help.markdown, new RegExp(`^# ${r.id}\\n`), 'help is the rule page');
      assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration.level));
    }
    assert.equal(run.results.length, 4);
    const flag = run.results.find((r: { ruleId: string }) => r.ruleId === 'gc-flag-missing');
    assert.equal(rules[flag.ruleIndex].id, 'gc-flag-missing');
    assert.equal(flag.level, 'error');
    const loc = flag.locations[0].physicalLocation;
    assert.deepEqual(loc.artifactLocation, { uri: 'src/leakymodule.c', uriBaseId: '%SRCROOT%' });
    assert.deepEqual(
      { startLine: loc.region.startLine, startColumn: loc.region.startColumn, endLine: loc.region.endLine, endColumn: loc.region.endColumn },
      { startLine: 80, startColumn: 14, endLine: 80, endColumn: 32 },
    );
    assert.match(loc.region.snippet.text, /Py_TPFLAGS_DEFAULT/);
    assert.match(flag.partialFingerprints['capiGc/v1'], /^[0-9a-f]{32}$/);
    assert.equal(flag.properties.type, 'leaky.View');
    // The type's spec is where the finding points; its instance struct and slot functions are related.
    assert.ok(flag.relatedLocations.length >= 1, JSON.stringify(flag.relatedLocations));
    for (const rel of flag.relatedLocations) assert.ok(rel.physicalLocation.region.startLine >= 1 && rel.message.text);
    const traverse = run.results.find((r: { ruleId: string }) => r.ruleId === 'traverse-type-not-visited');
    assert.ok(traverse.relatedLocations.some((r: { message: { text: string } }) => /PyType_Spec/.test(r.message.text)), 'the spec is related to a traverse finding');
    const inv = run.invocations[0];
    assert.equal(inv.exitCode, 1);
    assert.equal(inv.executionSuccessful, true);
    assert.deepEqual(inv.properties.notAnalysed, []);
    assert.match(run.originalUriBaseIds['%SRCROOT%'].uri, /^file:\/\/.*\/$/);
  });
});

test('SARIF fingerprints survive moving the code down and re-indenting it', async () => {
  await withTree({ 'a.c': NO_GC }, (dir) => {
    const before = sarifOf(['a.c'], dir).doc.runs[0].results[0];
    writeFileSync(join(dir, 'a.c'), '/* moved\n   down */\n\n' + NO_GC.replace(/\n    /g, '\n\t'));
    const after = sarifOf(['a.c'], dir).doc.runs[0].results[0];
    assert.notEqual(after.locations[0].physicalLocation.region.startLine, before.locations[0].physicalLocation.region.startLine);
    assert.deepEqual(after.partialFingerprints, before.partialFingerprints);
  });
});

test('SARIF: input not analysed is in the invocation (exit 2, not successful, a notification)', async () => {
  await withTree({ 'a.c': NO_GC, 'blob.c': '\u0000\u0001\u0002binary\u0000'.repeat(50) }, (dir) => {
    const { code, doc } = sarifOf(['.'], dir);
    assert.equal(code, 2);
    const inv = doc.runs[0].invocations[0];
    assert.equal(inv.exitCode, 2);
    assert.equal(inv.executionSuccessful, false);
    assert.deepEqual(inv.properties.notAnalysed, ['blob.c']);
    const n = inv.toolExecutionNotifications.find((x: { descriptor: { id: string } }) => x.descriptor.id === 'not-analysed');
    assert.equal(n.level, 'error');
    assert.equal(n.locations[0].physicalLocation.artifactLocation.uri, 'blob.c');
  });
});

test('SARIF: a suppressed finding is there with an inSource suppression and its reason; text output omits it', async () => {
  const src = noGc('Foo').replace('    .flags = Py_TPFLAGS_DEFAULT,', '    .flags = Py_TPFLAGS_DEFAULT,  // capi-gc: ignore[gc-flag-missing] -- immortal, holds no objects')
    + noGc('Bar').replace('    .flags = Py_TPFLAGS_DEFAULT,', '    // NOLINTNEXTLINE(capi-gc-gc-flag-missing): static singleton\n    .flags = Py_TPFLAGS_DEFAULT,');
  await withTree({ 'a.c': src }, (dir) => {
    const { code, doc } = sarifOf(['a.c'], dir);
    assert.equal(code, 0);
    const results = doc.runs[0].results;
    assert.equal(results.length, 2);
    const reasons = results.map((r: { suppressions: { kind: string; justification: string }[] }) => {
      assert.equal(r.suppressions[0].kind, 'inSource');
      return r.suppressions[0].justification;
    }).sort();
    assert.deepEqual(reasons, ['immortal, holds no objects', 'static singleton']);
    const text = runCli(['check', 'a.c'], dir);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, '');
  });
});

test('SARIF with --baseline marks the results new and leaves the known ones out', async () => {
  await withTree({ 'a.c': noGc('Foo') }, (dir) => {
    assert.equal(runCli(['check', 'a.c', '--write-baseline', 'b.json'], dir).code, 0);
    writeFileSync(join(dir, 'a.c'), noGc('Foo') + noGc('Bar'));
    const { code, doc } = sarifOf(['a.c', '--baseline', 'b.json'], dir);
    assert.equal(code, 1);
    assert.equal(doc.runs[0].results.length, 1);
    assert.equal(doc.runs[0].results[0].properties.type, 'm.Bar');
    assert.equal(doc.runs[0].results[0].baselineState, 'new');
  });
});

test('SARIF with unused suppressions describes the pseudo-rule', async () => {
  await withTree({ 'a.c': '// capi-gc: ignore[clear-missing]\nint x;\n' }, (dir) => {
    const { doc } = sarifOf(['a.c', '--report-unused-suppressions'], dir);
    const run = doc.runs[0];
    assert.equal(run.results[0].ruleId, 'unused-suppression');
    assert.equal(run.tool.driver.rules[run.results[0].ruleIndex].id, 'unused-suppression');
  });
});

test('SARIF written with --output validates too', async () => {
  await withExampleProject((dir) => {
    const r = runCli(['check', 'src', '--format', 'sarif', '--output', 'out.sarif'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const text = readFileSync(join(dir, 'out.sarif'), 'utf8');
    validateSarif(text);
    const file = join(collectDir, `log-${produced.length}.sarif`);
    writeFileSync(file, text);
    produced.push(file);
  });
});

test('SARIF and GitHub annotations name files relative to the repository root, as code scanning resolves them, from any folder', async () => {
  assert.equal(ruleDocUrl('gc-flag-missing', 'https://github.com/o/r'), 'https://github.com/o/r/blob/main/docs/rules/gc-flag-missing.md');
  assert.equal(ruleDocUrl('gc-flag-missing', null), null);
  await withTree({ 'ext/src/a.c': NO_GC, 'ext/pyproject.toml': '[project]\nname = "a"\n' }, (dir) => {
    assert.equal(git(['init', '-q'], dir).code, 0);
    const ext = join(dir, 'ext');
    const { doc } = sarifOf(['.'], ext);
    const run = doc.runs[0];
    assert.deepEqual(run.results[0].locations[0].physicalLocation.artifactLocation, { uri: 'ext/src/a.c', uriBaseId: '%SRCROOT%' });
    assert.match(run.originalUriBaseIds['%SRCROOT%'].uri, /^file:\/\/.*\/capi-gc-fit-[^/]+\/$/);
    assert.match(run.invocations[0].workingDirectory.uri, /\/ext\/$/);
    const gh = runCli(['check', '.', '--format', 'github'], join(ext, 'src'));
    assert.match(gh.stdout, /^::error file=ext\/src\/a\.c,line=7,col=14,/m);
    // The text output stays relative to where it ran.
    assert.match(runCli(['check', '.'], join(ext, 'src')).stdout, /^a\.c:7:14: error:/m);
    // A file outside the repository: an absolute file URI, not a relative path GitHub would misplace.
    const elsewhere = mkdtempSync(join(tmpdir(), 'capi-gc-outside-'));
    writeFileSync(join(elsewhere, 'b.c'), NO_GC);
    const outside = sarifOf([join(elsewhere, 'b.c')], ext).doc.runs[0].results[0];
    assert.equal(outside.locations[0].physicalLocation.artifactLocation.uri, pathToFileURL(join(elsewhere, 'b.c')).href);
    assert.equal(outside.locations[0].physicalLocation.artifactLocation.uriBaseId, undefined);
    rmSync(elsewhere, { recursive: true, force: true });
  });
});

test('every SARIF log above passes `sarif-multitool validate` (no error or warning)', (t) => {
  assert.ok(produced.length >= 7, `logs collected: ${produced.length}`);
  const tool = installSarifTools();
  if ('error' in tool) {
    const why = `SKIPPED LOUDLY: @microsoft/sarif-multitool is not installable here, so no SARIF could be validated: ${tool.error}`;
    console.error(`# ${why}`);
    t.skip(why);
    return;
  }
  const bin: string = tool.bin;
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) {
    const why = `SKIPPED LOUDLY: sarif-multitool does not run on this machine (${(probe.stderr || probe.error?.message || '').trim().slice(0, 300)})`;
    console.error(`# ${why}`);
    t.skip(why);
    return;
  }
  for (const file of produced) {
    const out = `${file}.validation.sarif`;
    const r = spawnSync(bin, ['validate', file, '--output', out, '--log', 'ForceOverwrite'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `sarif-multitool validate ${file}:\n${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    // SARIF2005 asks for tool.driver.informationUri: capi-gc has no published home page yet, and a made-up URL would
    // be a dead link in every code-scanning alert, so that one warning is expected (and only that one).
    const problems = (report.runs[0].results ?? [])
      .filter((x: { level?: string }) => x.level === 'error' || x.level === 'warning' || x.level === undefined)
      .filter((x: { ruleId: string }) => !(x.ruleId === 'SARIF2005' && TOOL_REPOSITORY === null));
    assert.deepEqual(problems.map((x: { ruleId: string; message: unknown }) => `${x.ruleId}: ${JSON.stringify(x.message)}`), [], `${file}: ${readFileSync(file, 'utf8').slice(0, 300)}`);
  }
});
