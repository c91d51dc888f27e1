import { defineRule } from './rule.js';
import { displayName } from '../model/gc.js';
import { describeCrash } from '../runtime/verify.js';

export const deallocNotUntracked = defineRule({
  id: 'dealloc-not-untracked',
  summary: 'tp_dealloc of a GC type clears or frees before PyObject_GC_UnTrack: a collection can traverse a half-destroyed object.',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    neverUntracks: '{{function}}() of GC type {{type}} never calls PyObject_GC_UnTrack: a collection triggered while members are released can traverse the half-destroyed object and crash',
    untracksLate: '{{function}}() of GC type {{type}} calls {{first}} before PyObject_GC_UnTrack: a collection triggered while members are released can traverse the half-destroyed object and crash',
  },
  fixTitle: 'Call PyObject_GC_UnTrack(self) first in tp_dealloc, before any member is cleared or the object freed',
  check(q, report) {
    for (const t of q.model.types) {
      const slot = t.slots.get('tp_dealloc');
      if (!slot?.function || q.isGc(t).answer !== 'yes') continue;
      const fn = q.findFunction(slot.function, slot.file);
      if (!fn) continue;
      const facts = q.deallocFacts(fn, t.slots.get('tp_clear')?.function ?? null);
      if (facts.delegatesToBase || facts.unknownCall || !facts.firstUnsafe) continue;
      if (facts.untrackAt !== null && facts.untrackAt < facts.firstUnsafe.order) continue;
      const at = { file: fn.file, line: fn.line, column: fn.column, type: t, function: fn.name };
      if (facts.untrackAt === null) report('neverUntracks', { function: fn.name, type: displayName(t) }, at);
      else report('untracksLate', { function: fn.name, type: displayName(t), first: facts.firstUnsafe.what }, at);
    }
  },
  runtimeVerdict(f, { type: t, python, typeNotFound }) {
    if (!t) return typeNotFound;
    if (t.crash?.step === 'collect_in_dealloc') return { verdict: 'confirmed at run time', evidence: `${describeCrash(t.crash)} on ${python}` };
    if (t.collectInDealloc === true) return { verdict: 'not observed', evidence: `a collection inside tp_dealloc did not crash on ${python}` };
    return { verdict: 'not testable', evidence: t.crash ? describeCrash(t.crash) : 'no member of a tracked instance could hold an object whose __del__ collects' };
  },
});
