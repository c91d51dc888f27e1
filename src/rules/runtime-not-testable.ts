import { defineRuntimeRule } from './rule.js';

export const runtimeNotTestable = defineRuntimeRule({
  id: 'runtime-not-testable',
  summary: 'verify could not test a type at run time: its factory raised, or no instance could be made (run time only).',
  defaultSeverity: 'note',
  appliesTo: { from: null, until: null },
  messages: {
    factoryRaised: 'the factory for {{type}} raised {{error}}, so {{type}} is not testable at run time; traceback:\n{{traceback}}',
    noInstance: 'no instance of {{type}} could be made ({{error}}), so {{type}} is not testable at run time; give a factory (--factory {{type}}=EXPR)',
  },
  fixTitle: 'Give a factory that makes an instance: --factory TYPE=EXPR, or [tool.capi-gc.verify] factories',
});
