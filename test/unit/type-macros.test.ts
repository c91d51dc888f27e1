import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTypeMacros, typeDefiningMacros } from '../../src/parse/type-macros.js';
import { matchingParen, splitTopLevelCommas } from '../../src/parse/c-text.js';

const header = [
  '#define DEFINE_TYPE(NAME, PREFIX) \\',
  '  static PyTypeObject NAME##_Type = { \\',
  '    .tp_name = "m." #NAME, \\',
  '    .tp_traverse = PREFIX##_traverse, \\',
  '  }',
  '#define NOT_A_TYPE(x) ((x) + 1)',
  '',
].join('\n');

test('only macros whose body defines a type object, spec, slot table or module def are declaring', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: header }]);
  assert.deepEqual([...table.declaring.keys()], ['DEFINE_TYPE']);
  assert.deepEqual([...table.all.keys()].sort(), ['DEFINE_TYPE', 'NOT_A_TYPE']);
  assert.equal(table.declaring.get('DEFINE_TYPE')![0].line, 1);
  assert.deepEqual(table.declaring.get('DEFINE_TYPE')![0].params, ['NAME', 'PREFIX']);
});

test('no declaring macro: the text is returned unchanged', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: '#define TWICE(x) ((x) * 2)\n' }]);
  const text = 'int f(void) { return TWICE(2); }\n';
  assert.equal(expandTypeMacros(text, 'a.c', table).text, text);
});

test('## pastes and # stringizes as the C preprocessor does', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: header }]);
  const { text, notes } = expandTypeMacros('DEFINE_TYPE(Pair, pair);\n', 'a.c', table);
  assert.deepEqual(notes, []);
  assert.match(text, /static PyTypeObject Pair_Type = \{/);
  assert.match(text, /\.tp_name = "m\." "Pair"/);
  assert.match(text, /\.tp_traverse = pair_traverse/);
  assert.doesNotMatch(text, /##|NAME|PREFIX/);
});

test('every line after an invocation keeps its number, also when the invocation spans lines', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: header }]);
  const source = ['int a;', 'DEFINE_TYPE(Pair,', '            pair);', 'int after_it;', ''].join('\n');
  const { text } = expandTypeMacros(source, 'a.c', table);
  const lines = text.split('\n');
  assert.equal(lines.length, source.split('\n').length);
  assert.equal(lines[0], 'int a;');
  assert.match(lines[1], /PyTypeObject Pair_Type/);
  assert.equal(lines[3], 'int after_it;');
});

test('variadic macros take __VA_ARGS__, with the commas inside it', () => {
  const def = [
    '#define GC_TYPE(NAME, ...) static PyTypeObject NAME = { .tp_name = #NAME, __VA_ARGS__ }',
    '',
  ].join('\n');
  const table = typeDefiningMacros([{ file: 'a.c', text: def }]);
  const { text } = expandTypeMacros(def + 'GC_TYPE(Box, .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, .tp_traverse = box_traverse);\n', 'a.c', table);
  assert.match(text, /static PyTypeObject Box = \{ \.tp_name = "Box", +\.tp_flags = Py_TPFLAGS_DEFAULT \| Py_TPFLAGS_HAVE_GC, *\.tp_traverse = box_traverse \}/);
});

test('project macros nested in a declaring macro are expanded too, without recursion', () => {
  const defs = [
    '#define SLOT(name, fn) {Py_##name, (void *)fn}',
    '#define SLOTS(PREFIX) static PyType_Slot PREFIX##_slots[] = { SLOT(tp_traverse, PREFIX##_traverse), {0, NULL} }',
    '',
  ].join('\n');
  const table = typeDefiningMacros([{ file: 'defs.h', text: defs }]);
  const { text } = expandTypeMacros('SLOTS(node);\n', 'a.c', table);
  assert.match(text, /static PyType_Slot node_slots\[\] = \{ \{Py_tp_traverse, \(void \*\)node_traverse\}, \{0, NULL\} \}/);
});

test('an invocation in a comment, a string or a #define line is left alone', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: header }]);
  const source = '/* DEFINE_TYPE(A, a) */\nconst char *s = "DEFINE_TYPE(B, b)";\n#define ALIAS DEFINE_TYPE(C, c)\n';
  assert.equal(expandTypeMacros(source, 'a.c', table).text, source);
});

test('a macro defined differently in two other files is not guessed: a note says so once', () => {
  const one = '#define MAKE(N) static PyTypeObject N = { .tp_flags = Py_TPFLAGS_DEFAULT }\n';
  const two = '#define MAKE(N) static PyTypeObject N = { .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC }\n';
  const table = typeDefiningMacros([{ file: 'one.h', text: one }, { file: 'two.h', text: two }]);
  const source = 'MAKE(T);\n';
  const result = expandTypeMacros(source, 'a.c', table);
  assert.equal(result.text, source);
  assert.equal(result.notes.length, 1);
  assert.match(result.notes[0].message, /MAKE\(\) is defined differently in several files/);
  // The file's own definition wins over the others.
  const own = expandTypeMacros(one + source, 'one.h', table);
  assert.deepEqual(own.notes, []);
  assert.match(own.text, /static PyTypeObject T = \{ \.tp_flags = Py_TPFLAGS_DEFAULT \}/);
});

test('a wrong number of arguments is a note, not a guess', () => {
  const table = typeDefiningMacros([{ file: 'h.h', text: header }]);
  const result = expandTypeMacros('DEFINE_TYPE(OnlyOne);\n', 'a.c', table);
  assert.equal(result.text, 'DEFINE_TYPE(OnlyOne);\n');
  assert.equal(result.notes.length, 1);
  assert.equal(result.notes[0].line, 1);
  assert.match(result.notes[0].message, /could not be expanded/);
});

test('arguments split as cpp splits them (only parentheses group), expressions also group brackets and braces', () => {
  const list = '"a,b", f(c, d), {e, f}, x[g, h]';
  assert.deepEqual(splitTopLevelCommas(list, 'preprocessor').map((s) => s.trim()), ['"a,b"', 'f(c, d)', '{e', 'f}', 'x[g', 'h]']);
  assert.deepEqual(splitTopLevelCommas(list, 'expression').map((s) => s.trim()), ['"a,b"', 'f(c, d)', '{e, f}', 'x[g, h]']);
  assert.equal(matchingParen('f(a, (b), c) + 1', 1), 11);
  assert.equal(matchingParen('f(a, (b)', 1), -1);
});
