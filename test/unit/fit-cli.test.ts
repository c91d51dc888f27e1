// Where users run capi-gc: GitHub annotations, --output, --quiet, --statistics, --show-source, colours, progress,
// baselines, suppression comments (clang-tidy's too) and unused ones, --stdin-filename, and bad input to each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NO_GC, noGc, runCli, withExampleProject, withTree } from '../cli-run.js';
import { escapeData, escapeProperty } from '../../src/report/github.js';
import { suppressionsIn, isSuppressed } from '../../src/suppress.js';
import { useColor } from '../../src/cli/color.js';
import { progressWanted, startProgress } from '../../src/cli/progress.js';

test('--format github: one workflow command per finding, escaped as GitHub documents', async () => {
  await withExampleProject((dir) => {
    const r = runCli(['check', 'src', '--format', 'github'], dir);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^::error file=src\/leakymodule\.c,line=80,col=14,endLine=80,endColumn=32,title=capi-gc gc-flag-missing::heap type leaky\.View lacks/);
  });
  assert.equal(escapeData('50% a\r\nb: c, d'), '50%25 a%0D%0Ab: c, d');
  assert.equal(escapeProperty('a:b,c%\n'), 'a%3Ab%2Cc%25%0A');
  await withTree({ 'we,ird:na%me.c': NO_GC, 'note.c': `typedef struct { PyObject_HEAD } BarObject;
static PyType_Slot bar_slots[] = { {0, NULL} };
static PyType_Spec bar_spec = { "m.Bar", sizeof(BarObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, bar_slots };
` }, (dir) => {
    const r = runCli(['check', '.', '--format', 'github'], dir);
    assert.match(r.stdout, /^::notice file=note\.c,/m);
    assert.match(r.stdout, /^::error file=we%2Cird%3Ana%25me\.c,line=7,/m);
  });
});

test('--output writes the report atomically; a missing folder or a directory is exit 2 and writes nothing', async () => {
  await withTree({ 'a.c': NO_GC, 'out/keep.txt': 'x' }, (dir) => {
    writeFileSync(join(dir, 'out', 'report.json'), 'old contents');
    let r = runCli(['check', 'a.c', '--format', 'json', '--output', 'out/report.json'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).findings.length, 1);
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['keep.txt', 'report.json'], 'no temporary file left behind');
    r = runCli(['check', 'a.c', '--output', 'missing/report.txt'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /output file missing\/report\.txt: the folder missing does not exist/);
    assert.ok(!existsSync(join(dir, 'missing')));
    r = runCli(['check', 'a.c', '--output', 'out'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a directory/);
    if (process.getuid?.() !== 0) {
      chmodSync(join(dir, 'out'), 0o500);
      r = runCli(['check', 'a.c', '--output', 'out/report.json'], dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot write output file/);
      assert.match(readFileSync(join(dir, 'out', 'report.json'), 'utf8'), /"findings"/, 'the old report is intact');
      chmodSync(join(dir, 'out'), 0o700);
    }
  });
});

test('--quiet prints the findings only; --statistics counts per rule; --show-source shows the line and a caret', async () => {
  await withExampleProject((dir) => {
    let r = runCli(['check', 'src', '--quiet'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trimEnd().split('\n').length, 4);
    r = runCli(['check', 'src', '--statistics'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^1\tgc-alloc-mismatch\s+\terror\s*\t/m);
    assert.equal(r.stdout.trimEnd().split('\n').length, 4);
    r = runCli(['check', 'src', '--statistics', '--format', 'json'], dir);
    assert.deepEqual(JSON.parse(r.stdout).map((c: { count: number }) => c.count), [1, 1, 1, 1]);
    assert.equal(runCli(['check', 'src', '--statistics', '--format', 'sarif'], dir).code, 2);
    r = runCli(['check', 'src', '--show-source'], dir);
    assert.match(r.stdout, /\[gc-flag-missing\]\n {3}80 \| {5}\.flags = Py_TPFLAGS_DEFAULT \| Py_TPFLAGS_BASETYPE,.*\n {6}\| {14}\^~{17}\n/);
  });
});

test('colours: only on a terminal unless forced; NO_COLOR, FORCE_COLOR, --color and --no-color', async () => {
  assert.equal(useColor('auto', { isTTY: true }, {}), true);
  assert.equal(useColor('auto', { isTTY: false }, {}), false);
  assert.equal(useColor('auto', { isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor('auto', { isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(useColor('auto', { isTTY: true }, { FORCE_COLOR: '0' }), false);
  assert.equal(useColor('never', { isTTY: true }, { FORCE_COLOR: '1' }), false);
  assert.equal(useColor('always', { isTTY: false }, { NO_COLOR: '1' }), true);
  await withTree({ 'a.c': NO_GC }, (dir) => {
    assert.match(runCli(['check', 'a.c', '--color', 'always'], dir).stdout, /\x1b\[1;31merror:/);
    assert.doesNotMatch(runCli(['check', 'a.c'], dir).stdout, /\x1b\[/, 'a pipe gets no colour');
    assert.match(runCli(['check', 'a.c'], dir, { env: { FORCE_COLOR: '1' } }).stdout, /\x1b\[/);
    assert.doesNotMatch(runCli(['check', 'a.c', '--no-color'], dir, { env: { FORCE_COLOR: '1' } }).stdout, /\x1b\[/);
    assert.doesNotMatch(runCli(['check', 'a.c', '--color', 'always', '--output', 'r.txt'], dir).stdout + readFileSync(join(dir, 'r.txt'), 'utf8'), /\x1b\[/);
    const bad = runCli(['check', 'a.c', '--color', 'sometimes'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--color must be auto, always or never/);
  });
});

test('the progress line: only on a terminal, never in CI or with --quiet; shown after the delay and erased', async () => {
  assert.equal(progressWanted({ isTTY: true, write: () => true }, {}, false), true);
  assert.equal(progressWanted({ isTTY: false, write: () => true }, {}, false), false);
  assert.equal(progressWanted({ isTTY: true, write: () => true }, { CI: 'true' }, false), false);
  assert.equal(progressWanted({ isTTY: true, write: () => true }, { GITHUB_ACTIONS: 'true' }, false), false);
  assert.equal(progressWanted({ isTTY: true, write: () => true }, {}, true), false);
  let written = '';
  const stream = { isTTY: true, write: (s: string) => { written += s; return true; } };
  const quick = startProgress(stream, true, { delayMs: 200 });
  quick.stop();
  assert.equal(written, '', 'a quick run shows nothing');
  const slow = startProgress(stream, true, { delayMs: 20, intervalMs: 10 });
  slow.files(12);
  await new Promise((resolve) => setTimeout(resolve, 80));
  slow.stop();
  assert.match(written, /capi-gc: checking 12 file\(s\)… \d+s/);
  assert.ok(written.endsWith('\r\x1b[2K'), 'erased before the output');
  await withTree({ 'a.c': NO_GC }, (dir) => {
    assert.doesNotMatch(runCli(['check', 'a.c'], dir).stderr, /checking/, 'never in a pipe');
  });
});

test('baseline: adopted, then a new defect is caught while the old ones stay quiet after lines move', async () => {
  await withExampleProject((dir) => {
    let r = runCli(['check', 'src', '--write-baseline', 'capi-gc-baseline.json'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /wrote baseline capi-gc-baseline\.json with 4 finding\(s\)/);
    const doc = JSON.parse(readFileSync(join(dir, 'capi-gc-baseline.json'), 'utf8'));
    assert.equal(doc.version, 1);
    assert.equal(doc.tool, 'capi-gc');
    assert.deepEqual(doc.findings.map((e: { file: string }) => e.file), Array(4).fill('src/leakymodule.c'));
    assert.equal(runCli(['check', 'src', '--baseline', 'capi-gc-baseline.json'], dir).code, 0);
    // Lines move (a comment at the top), the file is re-indented in places, and a new defect arrives.
    const file = join(dir, 'src', 'leakymodule.c');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, '/* Copyright notice\n * added later\n */\n\n' + original.replace(/\n {4}\.flags/g, '\n\t.flags') + noGc('Fresh'));
    r = runCli(['check', 'src', '--baseline', 'capi-gc-baseline.json'], dir);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /heap type m\.Fresh lacks Py_TPFLAGS_HAVE_GC/);
    assert.match(r.stderr, /baseline capi-gc-baseline\.json: 4 known finding\(s\) not shown; 1 new/);
    // Running from a subfolder finds the same entries (paths are relative to the baseline's folder).
    r = runCli(['check', '.', '--baseline', '../capi-gc-baseline.json'], join(dir, 'src'));
    assert.equal(r.stdout.trimEnd().split('\n').length, 1);
    // Fixing a known defect leaves its entry stale.
    writeFileSync(file, original.replace('Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,      /* defect: no Py_TPFLAGS_HAVE_GC */', 'Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,'));
    r = runCli(['check', 'src', '--baseline', 'capi-gc-baseline.json', '--report-stale-baseline'], dir);
    assert.match(r.stderr, /1 entry no longer matches a finding/);
    assert.match(r.stderr, /stale baseline entry: src\/leakymodule\.c:80: \[gc-flag-missing\]/);
    // --quiet keeps the findings only, but the stale entries were asked for by name.
    r = runCli(['check', 'src', '--baseline', 'capi-gc-baseline.json', '--report-stale-baseline', '--quiet'], dir);
    assert.equal(r.stderr, 'capi-gc: stale baseline entry: src/leakymodule.c:80: [gc-flag-missing] ' + doc.findings.find((e: { rule: string }) => e.rule === 'gc-flag-missing').message + '\n');
  });
});

test('baseline: unreadable, corrupt, foreign or wrong-version files are exit 2 with a clear message', async () => {
  await withTree({ 'a.c': NO_GC, 'bad.json': '{"version": 1, "tool": "capi-gc", "findings": [', 'other.json': '{"version": 2, "tool": "capi-gc", "findings": []}',
    'foreign.json': '[1, 2]', 'entries.json': '{"version": 1, "tool": "capi-gc", "findings": [{"rule": 3}]}', 'dir/x': '' }, (dir) => {
    const cases: [string, RegExp][] = [
      ['missing.json', /cannot read baseline missing\.json: no such file/],
      ['bad.json', /baseline bad\.json is not valid JSON/],
      ['other.json', /format version 2 is not 1/],
      ['foreign.json', /not a capi-gc baseline: expected a JSON object/],
      ['entries.json', /findings\[0\] lacks/],
      ['dir', /is a directory/],
    ];
    for (const [file, message] of cases) {
      const r = runCli(['check', 'a.c', '--baseline', file], dir);
      assert.equal(r.code, 2, file);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    const r = runCli(['check', 'a.c', '--write-baseline', 'nowhere/b.json'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /baseline nowhere\/b\.json: the folder nowhere does not exist/);
    assert.equal(runCli(['check', 'a.c', '--report-stale-baseline'], dir).code, 2);
  });
});

test('--output and --write-baseline never write over a source, a configuration file, an analysed input or a file that is not a baseline', async () => {
  const pyproject = '[tool.capi-gc]\nfail-on = "error"\n';
  await withTree({ 'a.c': NO_GC, 'inc/b.h': '/* header */\n', 'pyproject.toml': pyproject, 'notes.txt': 'my notes\n', 'data.json': '{"mine": true}\n' }, (dir) => {
    const source = readFileSync(join(dir, 'a.c'), 'utf8');
    const cases: [string[], RegExp][] = [
      [['check', '.', '--output', 'a.c'], /output file a\.c is one of your project's files/],
      [['check', '.', '--format', 'sarif', '--output', 'inc/b.h'], /output file inc\/b\.h is one of your project's files/],
      [['check', '.', '--output', 'pyproject.toml'], /output file pyproject\.toml is one of your project's files/],
      [['check', '.', '--write-baseline', 'a.c'], /baseline a\.c is one of your project's files/],
      [['check', '.', '--write-baseline', 'pyproject.toml'], /baseline pyproject\.toml is one of your project's files/],
      [['check', '.', '--write-baseline', 'data.json'], /baseline data\.json exists and is not a capi-gc baseline/],
      [['check', 'a.c', 'notes.txt', '--output', 'notes.txt'], /output file notes\.txt is a file this run analyses/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
    assert.equal(readFileSync(join(dir, 'a.c'), 'utf8'), source);
    assert.equal(readFileSync(join(dir, 'inc', 'b.h'), 'utf8'), '/* header */\n');
    assert.equal(readFileSync(join(dir, 'pyproject.toml'), 'utf8'), pyproject);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'my notes\n');
    assert.equal(readFileSync(join(dir, 'data.json'), 'utf8'), '{"mine": true}\n');
    // A report over an earlier report, and a baseline over an earlier baseline (or an empty file), are fine.
    writeFileSync(join(dir, 'report.sarif'), 'old');
    assert.equal(runCli(['check', 'a.c', '--format', 'sarif', '--output', 'report.sarif'], dir).code, 1);
    assert.equal(JSON.parse(readFileSync(join(dir, 'report.sarif'), 'utf8')).version, '2.1.0');
    writeFileSync(join(dir, 'b.json'), '');
    assert.equal(runCli(['check', 'a.c', '--write-baseline', 'b.json'], dir).code, 0);
    assert.equal(runCli(['check', 'a.c', '--write-baseline', 'b.json'], dir).code, 0, 'a baseline is rewritten');
    // The report never replaces the baseline it is read against or written to.
    const baselineText = readFileSync(join(dir, 'b.json'), 'utf8');
    for (const option of ['--baseline', '--write-baseline']) {
      const r = runCli(['check', 'a.c', option, 'b.json', '--output', './b.json'], dir);
      assert.equal(r.code, 2, option);
      assert.match(r.stderr, new RegExp(`--output \\./b\\.json is also the file of ${option}`));
      assert.equal(readFileSync(join(dir, 'b.json'), 'utf8'), baselineText);
    }
    // A baseline an editor saved with a byte order mark is still read.
    writeFileSync(join(dir, 'bom.json'), '\uFEFF' + readFileSync(join(dir, 'b.json'), 'utf8'));
    const r = runCli(['check', 'a.c', '--baseline', 'bom.json'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 known finding\(s\) not shown; 0 new/);
  });
});

test('suppression comments: capi-gc, NOLINT, NOLINTNEXTLINE, NOLINTBEGIN/END, reasons', () => {
  const text = [
    'a; // capi-gc: ignore[gc-flag-missing] -- immortal', // 1
    'b; // NOLINT(capi-gc-traverse-missing): reason two', // 2
    '// NOLINTNEXTLINE(capi-gc-clear-missing)', // 3
    'c;', // 4
    'd; // NOLINT', // 5
    'e; // NOLINT(bugprone-branch-clone)', // 6
    '// NOLINTBEGIN(capi-gc-dealloc-*)', // 7
    'f;', // 8
    '// NOLINTEND(capi-gc-dealloc-*)', // 9
    'g;', // 10
    '/* capi-gc: ignore */', // 11
  ].join('\n');
  const s = suppressionsIn(text, 'x.c');
  assert.equal(isSuppressed(s, 'gc-flag-missing', 1)?.reason, 'immortal');
  assert.equal(isSuppressed(s, 'gc-flag-missing', 2)?.style, 'capi-gc', 'the line after a capi-gc comment');
  assert.equal(isSuppressed(s, 'traverse-missing', 2)?.reason, 'reason two');
  assert.equal(isSuppressed(s, 'traverse-missing', 3), null, 'NOLINT is its own line only');
  assert.equal(isSuppressed(s, 'clear-missing', 4)?.style, 'NOLINTNEXTLINE');
  assert.equal(isSuppressed(s, 'clear-missing', 3), null);
  assert.equal(isSuppressed(s, 'anything', 5)?.explicit, false, 'plain NOLINT silences everything, as in clang-tidy');
  assert.equal(isSuppressed(s, 'gc-flag-missing', 6), null, "another tool's check does not silence capi-gc");
  assert.ok(isSuppressed(s, 'dealloc-not-untracked', 8));
  assert.equal(isSuppressed(s, 'clear-missing', 8), null);
  assert.equal(isSuppressed(s, 'dealloc-not-untracked', 10), null, 'NOLINTEND closes the region');
  assert.ok(isSuppressed(s, 'clear-missing', 12));
});

test('NOLINT silences findings end to end; --report-unused-suppressions lists the comments that silence nothing', async () => {
  const src = noGc('Foo').replace('    .flags = Py_TPFLAGS_DEFAULT,', '    .flags = Py_TPFLAGS_DEFAULT, // NOLINT(capi-gc-gc-flag-missing, capi-gc-clear-missing)')
    + '\n// capi-gc: ignore[traverse-missing]\nint unrelated;\n// NOLINT(bugprone-foo)\n// NOLINT\n/* capi-gc: ignore[gc-flag-misng] */\n';
  await withTree({ 'a.c': src }, (dir) => {
    let r = runCli(['check', 'a.c'], dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown rule "gc-flag-misng" \(did you mean "gc-flag-missing"\?\)/);
    r = runCli(['check', 'a.c', '--report-unused-suppressions'], dir);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines, [
      'a.c:7:37: warning: NOLINT(capi-gc-gc-flag-missing, capi-gc-clear-missing): "clear-missing" suppresses nothing here; remove it [unused-suppression]',
      'a.c:11:4: warning: capi-gc: ignore[traverse-missing] suppresses nothing here; remove it [unused-suppression]',
    ]);
    assert.equal(r.code, 0, 'warnings do not fail by default');
    assert.equal(runCli(['check', 'a.c', '--report-unused-suppressions', '--fail-on', 'warning'], dir).code, 1);
    // Rules that did not run are not judged.
    r = runCli(['check', 'a.c', '--report-unused-suppressions', '--select', 'gc-flag-missing'], dir);
    assert.equal(r.stdout, '');
  });
});

test('--stdin-filename analyses the piped buffer as that path, with the other files given', async () => {
  await withTree({ 'a.c': 'int fine;\n', 'b.c': NO_GC.replace(/Foo/g, 'Other') }, (dir) => {
    let r = runCli(['check', '--stdin-filename', 'a.c', '--format', 'json'], dir, { input: NO_GC });
    assert.equal(r.code, 1);
    let doc = JSON.parse(r.stdout);
    assert.equal(doc.summary.files, 1);
    assert.deepEqual(doc.findings.map((f: { file: string; line: number }) => `${f.file}:${f.line}`), ['a.c:7']);
    r = runCli(['check', '.', '--stdin-filename', 'a.c', '--format', 'json'], dir, { input: NO_GC });
    doc = JSON.parse(r.stdout);
    assert.equal(doc.summary.files, 2);
    assert.deepEqual(doc.findings.map((f: { file: string }) => f.file), ['a.c', 'b.c']);
    r = runCli(['check', '-', '--stdin-filename', 'new/unsaved.c'], dir, { input: NO_GC });
    assert.match(r.stdout, /^new\/unsaved\.c:7:14: error:/);
    r = runCli(['check', '-'], dir, { input: NO_GC });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --stdin-filename/);
  });
});

test('bad option values are exit 2 with a message, and no report is written', async () => {
  await withTree({ 'a.c': NO_GC }, (dir) => {
    mkdirSync(join(dir, 'out'));
    const r = runCli(['check', 'a.c', '--format', 'xml', '--output', 'out/r.txt'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be text, json, sarif or github/);
    assert.deepEqual(readdirSync(join(dir, 'out')), []);
  });
});

test('a mistyped or incomplete option is exit 2 with one clear line: the nearest option, or what it needs', async () => {
  await withTree({ 'a.c': NO_GC }, (dir) => {
    const cases: [string[], RegExp][] = [
      [['check', 'a.c', '--formt', 'json'], /^capi-gc: unknown option --formt \(did you mean --format\?\); `capi-gc --help` lists the options\n$/],
      [['check', 'a.c', '--colour', 'never'], /^capi-gc: unknown option --colour \(did you mean --color\?\);/],
      [['check', 'a.c', '--frobnicate'], /^capi-gc: unknown option --frobnicate; `capi-gc --help` lists the options\n$/],
      [['check', 'a.c', '--output'], /^capi-gc: --output needs a value;/],
      [['check', 'a.c', '--baseline='], /^capi-gc: --baseline needs a file name\n$/],
      [['check', 'a.c', '--color', 'sometimes'], /--color must be auto, always or never, not "sometimes"/],
      [['check', 'a.c', '--format', 'xml'], /--format must be text, json, sarif or github, not "xml"/],
      [['verify', '--pythn', 'python3', 'm'], /^capi-gc: unknown option --pythn \(did you mean --python\?\);/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });
});
