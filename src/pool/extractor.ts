// Chooses where files are parsed: small runs (an editor buffer, a one-file check) in this thread, which costs no
// start-up; anything larger in the worker pool, where a file that breaks the parser cannot take the run with it.

import { extractFile } from './extract-job.js';
import { ExtractPool, plainReason, type ExtractOutcome } from './pool.js';

export interface ExtractorOptions {
  /** Worker threads; 0 parses in this thread. Default: in this thread for small runs, else one per core. */
  jobs?: number;
  fileTimeoutSeconds?: number;
}

const IN_PROCESS_TOTAL_BYTES = 1024 * 1024;
const IN_PROCESS_FILE_BYTES = 256 * 1024;

export interface Extractor {
  extractAll(inputs: readonly { file: string; text: string }[]): Promise<ExtractOutcome[]>;
  close(): Promise<void>;
}

export function createExtractor(options: ExtractorOptions, sizes: readonly number[]): Extractor {
  const total = sizes.reduce((a, b) => a + b, 0);
  const small = total <= IN_PROCESS_TOTAL_BYTES && sizes.every((s) => s <= IN_PROCESS_FILE_BYTES);
  if (options.jobs === 0 || (options.jobs === undefined && small)) return new InProcessExtractor(options);
  return new ExtractPool(options);
}

class InProcessExtractor implements Extractor {
  /** After the wasm parser of this thread failed, the rest goes to fresh worker threads. */
  private fallback: ExtractPool | null = null;

  constructor(private readonly options: ExtractorOptions) {}

  async extractAll(inputs: readonly { file: string; text: string }[]): Promise<ExtractOutcome[]> {
    const out: ExtractOutcome[] = [];
    for (let i = 0; i < inputs.length; i++) {
      if (this.fallback) {
        out.push(...(await this.fallback.extractAll(inputs.slice(i))));
        break;
      }
      try {
        out.push({ ok: true, facts: await extractFile(inputs[i].file, inputs[i].text) });
      } catch (error) {
        const message = (error as Error)?.message ?? String(error);
        out.push({ ok: false, reason: plainReason(message), detail: (error as Error)?.stack ?? message });
        if (/Aborted|RuntimeError|unreachable|memory/i.test(message)) this.fallback = new ExtractPool({ ...this.options, jobs: 1 });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fallback?.close();
  }
}
