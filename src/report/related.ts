// The places a finding is about besides the one it points at: the type's spec or PyTypeObject, the functions in its
// GC slots, the instance struct and the member's declaration. Read from the model, for SARIF's related locations.

import type { Queries } from '../model/queries.js';
import type { RelatedLocation, ReportLocation } from '../rules/rule.js';

const SLOTS = ['tp_traverse', 'tp_clear', 'tp_dealloc'] as const;

export function relatedLocations(queries: Queries, at: ReportLocation): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  const add = (loc: { file: string; line: number; column: number }, message: string) => {
    if (loc.file === at.file && loc.line === at.line) return;
    if (out.some((r) => r.file === loc.file && r.line === loc.line)) return;
    out.push({ file: loc.file, line: loc.line, column: loc.column, message });
  };
  const t = at.type;
  if (t) {
    const label = t.name ?? t.cName;
    add(t, t.kind === 'heap' ? `PyType_Spec ${t.cName} of ${label}` : `PyTypeObject ${t.cName} (${label})`);
    for (const slot of SLOTS) {
      const fn = t.slots.get(slot)?.function;
      if (!fn) continue;
      const def = queries.findFunction(fn, t.file);
      if (def) add(def, `${slot} of ${label}: ${fn}`);
    }
    if (t.struct) {
      const member = at.member ? t.struct.members.find((m) => m.name === at.member) : undefined;
      if (member) add({ file: t.struct.file, line: member.line, column: member.column }, `member ${member.name} of ${t.struct.names[0] ?? t.structName ?? 'the instance struct'}`);
      else add(t.struct, `instance struct ${t.struct.names[0] ?? t.structName ?? ''} of ${label}`.replace('  ', ' '));
    }
  }
  if (at.function && !SLOTS.some((s) => t?.slots.get(s)?.function === at.function)) {
    const def = queries.findFunction(at.function, at.file);
    if (def) add(def, `function ${at.function}`);
  }
  return out;
}
