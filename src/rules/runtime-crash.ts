import { defineRuntimeRule } from './rule.js';

export const runtimeCrash = defineRuntimeRule({
  id: 'runtime-crash',
  summary: 'The interpreter crashed or hung while verify made, collected or freed instances of a type, or a watched program crashed (run time only).',
  defaultSeverity: 'error',
  appliesTo: { from: null, until: null },
  messages: {
    importFails: 'importing {{module}} fails: {{error}}',
    typeCrash: '{{crash}} for {{type}}',
    watchedCrash: '{{process}} crashed with {{signal}} {{phase}}{{types}}; Python stack (most recent call first): {{stack}}',
    subinterpreterCrash: 'loading {{module}} in a fresh subinterpreter and destroying it {{how}}: a helper process (the same interpreter, the program\'s sys.path) ran the subinterpreter rounds at exit, so the program itself was not affected; Python stack of the helper (most recent call first): {{stack}}',
    freshModuleCrash: 'loading a fresh {{module}} module: {{crash}}',
  },
  fixTitle: 'Re-run the step that crashed under a debug build or python -X dev to find the slot at fault; `capi-gc check` on the sources usually names it',
});
