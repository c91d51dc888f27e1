import { defineRuntimeRule } from './rule.js';

export const runtimeCrash = defineRuntimeRule({
  id: 'runtime-crash',
  summary: 'The interpreter crashed or hung while verify made, collected or freed instances of a type (run time only).',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    importFails: 'importing {{module}} fails: {{error}}',
    typeCrash: '{{crash}} for {{type}}',
    freshModuleCrash: 'loading a fresh {{module}} module: {{crash}}',
  },
  fixTitle: 'Re-run the step that crashed under a debug build or python -X dev to find the slot at fault; `capi-gc check` on the sources usually names it',
});
