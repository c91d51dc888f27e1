import { defineRuntimeRule } from './rule.js';

export const runtimeLeak = defineRuntimeRule({
  id: 'runtime-leak',
  summary: 'A cycle through an instance, or a fresh module object, was never collected (run time only).',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    cycleNotCollected: 'a cycle through {{type}}.{{via}} is never collected: the collector cannot see or cannot break it',
    freshModuleWithInstance: 'a fresh {{module}} module holding an instance of {{type}} is never collected',
    freshModule: 'a fresh {{module}} module is never collected after it is dropped',
    typesOutliveModule: 'after a fresh {{module}} module is collected, its type(s) {{types}} stay alive',
    unreachableAtExit: '{{count}} instance(s) of {{type}} were still alive at exit after gc.collect() ran to a fixed point ({{rounds}} round(s)), and nothing reachable from a module or a frame holds them (held by: {{chain}}): a cycle the collector cannot see or cannot break',
    typesOutliveModuleWithInstance: 'after a fresh {{module}} module is collected, its type(s) {{types}} stay alive (with an instance stored on the module)',
  },
  fixTitle: 'Make every reference visible to the collector (tp_traverse, m_traverse) and breakable (tp_clear, m_clear)',
});
