// C's linkage over the files of one run: which definition a name used in a file refers to. Linking and every
// later lookup (functions, macros, structs, typedefs, globals, tables) ask this one table, so a name resolves
// the same way everywhere.
//
// A translation unit is a source file with the headers it includes, transitively (resolved among the inputs).
// A static definition, and anything without linkage (a macro, a struct, a typedef), is visible only inside the
// translation units that contain it; an extern one across the whole run. When several compete, the one C would
// use wins: the using file's own, then the nearest header it includes, then one elsewhere in a translation unit
// that includes the using file, then the single extern definition, then the one header that defines the name (an
// include the analysis could not follow may bring it in). Two extern definitions in different files with nothing
// to choose between them are a real ambiguity: the answer is unknown, said once.

import { posix } from 'node:path';
import type {
  FileFacts, FunctionFact, GetSetTableFact, GlobalFact, IncludeFact, MacroFact, MemberTableFact, SlotArrayFact, StructFact,
  StructMember, TypedefFact,
} from './facts.js';
import type { Uncertainty } from './model.js';
import { apiNameExists, isApiTypeName } from './capi.js';

export type Linkage = 'internal' | 'external' | 'none';

export type MacroForm = 'object' | 'function' | 'any';

/** What macro lookups need; the symbol table is one. */
export interface MacroLookup {
  macro(name: string, fromFile: string, form?: MacroForm): MacroFact | null;
}

const HEADER = /\.(h|hh|hpp|hxx|inc)$/i;

export class SymbolTable implements MacroLookup {
  /** Every definition by name, in input order (for walks over the whole run). */
  readonly functions = new Map<string, FunctionFact[]>();
  readonly macros = new Map<string, MacroFact[]>();
  private readonly objectMacros = new Map<string, MacroFact[]>();
  private readonly functionMacros = new Map<string, MacroFact[]>();
  readonly structs = new Map<string, StructFact[]>();
  readonly typedefs = new Map<string, (TypedefFact & { file: string })[]>();
  readonly globals = new Map<string, GlobalFact[]>();
  readonly slotArrays = new Map<string, SlotArrayFact[]>();
  readonly memberTables = new Map<string, MemberTableFact[]>();
  readonly getsetTables = new Map<string, GetSetTableFact[]>();
  /** Ambiguities met by lookups so far, each said once. */
  readonly uncertainties: Uncertainty[] = [];

  private readonly byFile = new Map<string, FileFacts>();
  /** Resolved includes of each file, in the order written. */
  private readonly includesOf = new Map<string, string[]>();
  /** Per file: every file it includes, transitively, with its distance (0 for itself). */
  private readonly closures = new Map<string, Map<string, number>>();
  /** Per file: the translation units (root files) that contain it. */
  private readonly rootsOf = new Map<string, string[]>();
  private readonly structOfMember = new WeakMap<StructMember, StructFact>();
  private readonly memo = new Map<string, unknown>();
  private readonly said = new Set<string>();
  private readonly sharesUnit = new Map<string, boolean>();

  constructor(readonly files: readonly FileFacts[], version: { major: number; minor: number }) {
    // The C API's own names mean what the catalogue says, whatever an input defines them as; a definition is read
    // only where the target version lacks the name (a compatibility fallback).
    const isApi = (name: string) => apiNameExists(name, version) === true;
    for (const f of files) {
      this.byFile.set(f.file, f);
      // A function read only partly (nesting too deep) is left out: what it does is unknown, not absent.
      const truncated = new Set(f.truncatedFunctions);
      for (const fn of f.functions) if (!truncated.has(fn.name) && !isApi(fn.name)) push(this.functions, fn.name, fn);
      for (const m of f.macros) {
        if (isApi(m.name)) continue;
        push(this.macros, m.name, m);
        push(m.params === null ? this.objectMacros : this.functionMacros, m.name, m);
      }
      for (const s of f.structs) {
        for (const n of s.names) if (!isApiTypeName(n)) push(this.structs, n, s);
        for (const m of s.members) this.structOfMember.set(m, s);
      }
      for (const t of f.typedefs) if (t.alias !== t.target && !isApiTypeName(t.alias)) push(this.typedefs, t.alias, { ...t, file: f.file });
      for (const g of f.globals) push(this.globals, g.name, g);
      for (const a of f.slotArrays) push(this.slotArrays, a.name, a);
      for (const t of f.memberTables) push(this.memberTables, t.name, t);
      for (const t of f.getsetTables ?? []) push(this.getsetTables, t.name, t);
    }
    this.resolveIncludes();
  }

  facts(file: string): FileFacts | undefined {
    return this.byFile.get(file);
  }

  /** The files `file` includes, resolved among the inputs. */
  includes(file: string): readonly string[] {
    return this.includesOf.get(file) ?? [];
  }

  function(name: string, fromFile: string): FunctionFact | null {
    return this.lookup('function', name, fromFile, this.functions, linkageOf);
  }

  global(name: string, fromFile: string): GlobalFact | null {
    return this.lookup('global', name, fromFile, this.globals, linkageOf);
  }

  /** The nearest definition of a macro visible from the file; `form` keeps only object-like or function-like ones. */
  macro(name: string, fromFile: string, form: MacroForm = 'any'): MacroFact | null {
    const map = form === 'any' ? this.macros : form === 'object' ? this.objectMacros : this.functionMacros;
    return this.lookup(`macro:${form}`, name, fromFile, map, () => 'none');
  }

  typedef(name: string, fromFile: string): (TypedefFact & { file: string }) | null {
    return this.lookup('typedef', name, fromFile, this.typedefs, () => 'none');
  }

  /** A struct by tag or typedef name (`struct foo`, `Foo`), following typedefs to it. */
  struct(name: string, fromFile: string): StructFact | null {
    let n = name.replace(/^struct\s*/, '');
    for (let i = 0; i < 8; i++) {
      const s = this.lookup('struct', n, fromFile, this.structs, () => 'none');
      if (s) return s;
      const next = this.typedef(n, fromFile);
      if (!next || next.pointerDepth) return null;
      n = next.target.replace(/^struct\s*/, '');
    }
    return null;
  }

  /** A typedef name followed to what it names, counting the pointers the typedefs add. */
  resolveTypedef(name: string, fromFile: string): { name: string; pointerDepth: number } {
    let n = name.replace(/^struct\s*/, '');
    let depth = 0;
    for (let i = 0; i < 8; i++) {
      const td = this.typedef(n, fromFile);
      if (!td || td.target === n) break;
      depth += td.pointerDepth;
      n = td.target.replace(/^struct\s*/, '');
    }
    return { name: n, pointerDepth: depth };
  }

  /** A slot array named by a spec: one local to the spec's function first, then a file-scope one. */
  slotArray(name: string, fromFile: string, scope: string | null): SlotArrayFact | null {
    const all = this.slotArrays.get(name);
    if (!all) return null;
    const local = scope ? all.find((a) => a.file === fromFile && a.scope === scope) : undefined;
    if (local) return local;
    return this.resolveAmong('slots', name, fromFile, all.filter((a) => a.scope === null), linkageOf);
  }

  memberTable(name: string, fromFile: string): MemberTableFact | null {
    return this.lookup('members', name, fromFile, this.memberTables, linkageOf);
  }

  getsetTable(name: string, fromFile: string): GetSetTableFact | null {
    return this.lookup('getset', name, fromFile, this.getsetTables, linkageOf);
  }

  /** The struct a member belongs to. */
  structOf(member: StructMember): StructFact | null {
    return this.structOfMember.get(member) ?? null;
  }

  /**
   * Which of `defs` (definitions of one name) a use in `fromFile` refers to, or null when none is visible or the
   * choice is a real ambiguity (said once in `uncertainties`).
   */
  resolveAmong<T extends { file: string; line?: number }>(
    kind: string, name: string, fromFile: string, defs: readonly T[], linkage: (d: T) => Linkage,
  ): T | null {
    if (!defs.length) return null;
    const own = defs.find((d) => d.file === fromFile);
    if (own) return own;
    // The nearest header the file includes.
    const closure = this.closures.get(fromFile);
    let best: T | null = null;
    let bestDistance = Infinity;
    if (closure) {
      for (const d of defs) {
        const distance = closure.get(d.file);
        if (distance !== undefined && distance < bestDistance) {
          best = d;
          bestDistance = distance;
        }
      }
    }
    if (best) return best;
    // Elsewhere in a translation unit the file is part of (a header's helper defined by the including file).
    const inUnit = new Set<string>();
    for (const d of defs) if (this.inSameUnit(fromFile, d.file)) inUnit.add(d.file);
    if (inUnit.size === 1) return defs.find((d) => inUnit.has(d.file))!;
    if (inUnit.size > 1) return this.ambiguous(kind, name, [...inUnit], `each translation unit including it has its own`, { file: fromFile, line: 1 });
    const external = defs.filter((d) => linkage(d) === 'external');
    const externalFiles = new Set(external.map((d) => d.file));
    if (externalFiles.size === 1) return external[0];
    if (externalFiles.size > 1) return this.ambiguous(kind, name, [...externalFiles], 'several of them define it with external linkage', external[0]);
    // An include the analysis could not follow (a header outside the inputs that includes this one, a computed
    // include) may still bring in a header's definition: one header defining the name leaves no choice to make.
    const inHeaders = defs.filter((d) => HEADER.test(d.file));
    if (inHeaders.length && inHeaders.every((d) => d.file === inHeaders[0].file)) return inHeaders[0];
    return null;
  }

  private lookup<T extends { file: string; line?: number }>(
    kind: string, name: string, fromFile: string, map: Map<string, T[]>, linkage: (d: T) => Linkage,
  ): T | null {
    const defs = map.get(name);
    if (!defs) return null;
    if (defs.length === 1 && defs[0].file === fromFile) return defs[0];
    const key = `${kind}\0${name}\0${fromFile}`;
    if (this.memo.has(key)) return this.memo.get(key) as T | null;
    const found = this.resolveAmong(kind, name, fromFile, defs, linkage);
    this.memo.set(key, found);
    return found;
  }

  private ambiguous(kind: string, name: string, files: readonly string[], why: string, at: { file: string; line?: number }): null {
    const key = `${kind}\0${name}`;
    if (!this.said.has(key)) {
      this.said.add(key);
      this.uncertainties.push({
        file: at.file, line: at.line ?? 1,
        message: `${name} is defined in ${files.join(', ')} and ${why}; which definition is used is unknown`,
      });
    }
    return null;
  }

  private inSameUnit(a: string, b: string): boolean {
    const key = `${a}\0${b}`;
    let shared = this.sharesUnit.get(key);
    if (shared === undefined) {
      const ra = this.rootsOf.get(a) ?? [];
      const rb = this.rootsOf.get(b) ?? [];
      const [small, large] = ra.length <= rb.length ? [ra, rb] : [rb, ra];
      const largeSet = new Set(large);
      shared = small.some((r) => largeSet.has(r));
      this.sharesUnit.set(key, shared);
    }
    return shared;
  }

  private resolveIncludes(): void {
    const byPath = new Map<string, string>();
    const byBase = new Map<string, string[]>();
    for (const f of this.files) {
      const p = normalisePath(f.file);
      byPath.set(p, f.file);
      push(byBase, posix.basename(p), f.file);
    }
    const included = new Set<string>();
    for (const f of this.files) {
      const out: string[] = [];
      for (const inc of f.includes) {
        for (const target of resolveInclude(f.file, inc, byPath, byBase)) {
          if (target !== f.file && !out.includes(target)) out.push(target);
          included.add(target);
        }
      }
      this.includesOf.set(f.file, out);
    }
    for (const f of this.files) this.closures.set(f.file, this.closureOf(f.file));
    // Each source file is a translation unit; so is a header no input includes (analysed on its own).
    for (const f of this.files) {
      if (HEADER.test(f.file) && included.has(f.file)) continue;
      for (const member of this.closures.get(f.file)!.keys()) push(this.rootsOf, member, f.file);
    }
  }

  private closureOf(file: string): Map<string, number> {
    const distance = new Map<string, number>([[file, 0]]);
    const queue = [file];
    for (let i = 0; i < queue.length; i++) {
      const d = distance.get(queue[i])!;
      for (const next of this.includesOf.get(queue[i]) ?? []) {
        if (distance.has(next)) continue;
        distance.set(next, d + 1);
        queue.push(next);
      }
    }
    return distance;
  }
}

/** The linkage of a file-scope definition that says whether it is `static`. */
export function linkageOf(d: { isStatic: boolean }): Linkage {
  return d.isStatic ? 'internal' : 'external';
}

function normalisePath(file: string): string {
  return posix.normalize(file.replace(/\\/g, '/'));
}

/**
 * The inputs an `#include` names: for `"…"` the file next to the includer first, then (as for `<…>`) any input
 * whose path ends with the included path, the one sharing the longest directory prefix with the includer.
 */
function resolveInclude(from: string, inc: IncludeFact, byPath: Map<string, string>, byBase: Map<string, string[]>): string[] {
  const wanted = normalisePath(inc.path);
  const fromPath = normalisePath(from);
  if (!inc.system) {
    const beside = byPath.get(posix.normalize(posix.join(posix.dirname(fromPath), wanted)));
    if (beside) return [beside];
  }
  const suffix = wanted.replace(/^(\.\.?\/)+/, '');
  const candidates = (byBase.get(posix.basename(suffix)) ?? []).filter((c) => {
    const p = normalisePath(c);
    return p === suffix || p.endsWith(`/${suffix}`);
  });
  if (candidates.length <= 1) return candidates;
  let bestShared = -1;
  let best: string[] = [];
  for (const c of candidates) {
    const shared = commonPrefixLength(posix.dirname(normalisePath(c)), posix.dirname(fromPath));
    if (shared > bestShared) {
      bestShared = shared;
      best = [c];
    } else if (shared === bestShared) best.push(c);
  }
  return best;
}

function commonPrefixLength(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  let n = 0;
  while (n < pa.length && n < pb.length && pa[n] === pb[n]) n++;
  return n;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
