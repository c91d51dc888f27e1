import { defineRuntimeRule } from './rule.js';

export const runtimeLeak = defineRuntimeRule({
  id: 'runtime-leak',
  summary: 'A cycle through an instance, a fresh module object or a module namespace was never collected, or each subinterpreter leaves memory behind (run time only).',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    cycleNotCollected: 'a cycle through {{type}}.{{via}} is never collected: the collector cannot see or cannot break it',
    freshModuleWithInstance: 'a fresh {{module}} module holding an instance of {{type}} is never collected',
    freshModule: 'a fresh {{module}} module is never collected after it is dropped',
    typesOutliveModule: 'after a fresh {{module}} module is collected, its type(s) {{types}} stay alive',
    unreachableAtExit: '{{count}} instance(s) of {{type}} were still alive at exit after gc.collect() ran to a fixed point ({{rounds}} round(s)), and nothing reachable from a module or a frame holds them (held by: {{chain}}): a cycle the collector cannot see or cannot break',
    moduleNotFreed: 'module namespace of {{module}} was never freed during Py_Finalize: its witness ({{witness}}) saw Py_Finalize clear the namespace of the module still alive, and the module object was never freed, not even by the last collection ({{count}} process(es)); something the collector cannot see or cannot break holds the module (a type or object in its state that m_traverse does not visit, a leaked instance of one of its types)',
    subinterpreterGrowth: 'loading {{module}} in a fresh subinterpreter and destroying it leaves memory behind every time (the refleak-buildbot symptom): sys.getallocatedblocks() grew by {{blocks}} over {{rounds}} rounds, against {{control}} for a round without the module, before and after (median {{median}} blocks more per round{{refs}}); the module, its state or its types are never freed when an interpreter ends',
    typesOutliveModuleWithInstance: 'after a fresh {{module}} module is collected, its type(s) {{types}} stay alive (with an instance stored on the module)',
  },
  fixTitle: 'Make every reference visible to the collector (tp_traverse, m_traverse) and breakable (tp_clear, m_clear)',
});
