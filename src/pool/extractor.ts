// Chooses where files are parsed: small runs (an editor buffer, a one-file check) in this thread, which costs no
// start-up; anything larger in the worker pool, where a file that breaks the parser cannot take the run with it,
// with this thread taking the smallest files beside the workers (each file's parse within its time budget; after a
// parser failure here the workers take the rest).

import { ExtractPool, defaultJobs, plainReason, type PrepareOutcome } from './pool.js';
import { prepareFileDetached, type PrepareContext } from './prepare.js';
import { allowOptimisedParsers, preferQuickStart } from '../parse/parser.js';

export interface ExtractorOptions {
  /** Worker threads; 0 parses in this thread. Default: in this thread for small runs, else one per core but one, beside this thread. */
  jobs?: number;
  fileTimeoutSeconds?: number;
}

const IN_PROCESS_TOTAL_BYTES = 1024 * 1024;
const IN_PROCESS_FILE_BYTES = 256 * 1024;

export interface Extractor {
  /**
   * Every version's facts of texts as read. `each` sees every outcome as it arrives, with its JSON text when it
   * crossed from a worker; the outcomes returned keep no JSON text (it would double the facts' memory).
   */
  prepareAll(
    context: PrepareContext, inputs: readonly { file: string; text: string }[], each?: (index: number, outcome: PrepareOutcome) => void,
  ): Promise<PrepareOutcome[]>;
  close(): Promise<void>;
}

export function createExtractor(options: ExtractorOptions, sizes: readonly number[]): Extractor {
  const total = sizes.reduce((a, b) => a + b, 0);
  const small = total <= IN_PROCESS_TOTAL_BYTES && sizes.every((s) => s <= IN_PROCESS_FILE_BYTES);
  if (options.jobs === 0 || (options.jobs === undefined && small)) {
    if (small) preferQuickStart();
    return new InProcessExtractor(options);
  }
  // Unless told how many workers: one fewer than the cores, this thread being a lane of its own.
  if (options.jobs === undefined) return new ExtractPool({ ...options, jobs: Math.max(1, defaultJobs() - 1), mainLane: true });
  return new ExtractPool(options);
}

class InProcessExtractor implements Extractor {
  /** After the wasm parser of this thread failed, the rest goes to fresh worker threads. */
  private fallback: ExtractPool | null = null;

  constructor(private readonly options: ExtractorOptions) {}

  async prepareAll(
    context: PrepareContext, inputs: readonly { file: string; text: string }[], each?: (index: number, outcome: PrepareOutcome) => void,
  ): Promise<PrepareOutcome[]> {
    const out: PrepareOutcome[] = [];
    // As the pool does: `each` sees the JSON text; kept, it would hold the facts' memory twice.
    const settle = (outcome: PrepareOutcome) => {
      each?.(out.length, outcome);
      if (outcome.ok) delete outcome.json;
      out.push(outcome);
    };
    for (let i = 0; i < inputs.length; i++) {
      if (this.fallback) {
        const first = i;
        out.push(...(await this.fallback.prepareAll(context, inputs.slice(first), (n, outcome) => each?.(first + n, outcome))));
        break;
      }
      try {
        settle({ ok: true, ...(await prepareFileDetached(inputs[i].file, inputs[i].text, context)) });
      } catch (error) {
        const message = (error as Error)?.message ?? String(error);
        settle({ ok: false, reason: plainReason(message), detail: (error as Error)?.stack ?? message });
        if (/Aborted|RuntimeError|unreachable|memory/i.test(message)) {
          allowOptimisedParsers();
          this.fallback = new ExtractPool({ ...this.options, jobs: 1 });
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fallback?.close();
  }
}
