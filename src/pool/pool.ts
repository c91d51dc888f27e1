// A pool of worker threads, sized to the machine, that parse and extract files in parallel. Each file runs with a
// time budget and in a thread of its own memory: a file that exhausts the parser, aborts it or takes too long is
// reported as not analysed, its thread is replaced, and the other files go on. Results keep the input order, so
// the output is the same whatever the number of workers.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Extractor } from './extractor.js';
import { prepareFileDetached, type PrepareContext, type PreparedFile } from './prepare.js';
import { ParseDeadlineError } from '../parse/parser.js';
import { COMPILED_SOURCES } from '../paths.js';
import { join } from 'node:path';

/** The worker's own module, also when this code runs bundled into one file (dist/capi-gc.mjs). */
const WORKER_SCRIPT = join(COMPILED_SOURCES, 'pool', 'extract-worker.js');

export interface JobRequest {
  kind: 'job';
  id: number;
  file: string;
  /** The file as read, prepared with the context `contextId` names. */
  text: string;
  contextId: number;
}

/** Sent once to each worker before the first job that names it. */
export interface ContextMessage {
  kind: 'context';
  contextId: number;
  context: PrepareContext;
}

export type WorkerMessage = JobRequest | ContextMessage;

export type JobResponse =
  | { id: number; ok: true; preparedJson: string }
  | { id: number; ok: false; reason: string; stack?: string };

export type PrepareOutcome =
  /** `json`: the prepared file as JSON text, when it crossed from a worker (what the cache writes). */
  | { ok: true; prepared: PreparedFile; json?: string }
  | { ok: false; reason: string; detail?: string };

export interface PoolOptions {
  /** Number of worker threads (default: the machine's cores). */
  jobs?: number;
  /** Seconds one file may take before it is given up (default: 30, plus 2 per MB). */
  fileTimeoutSeconds?: number;
  /** JS heap of each worker, in MB. */
  workerHeapMb?: number;
  /**
   * This thread prepares files too, the smallest first, while the workers take the largest: on a machine with
   * two cores, one worker and this thread keep both busy without a third thread competing for them.
   */
  mainLane?: boolean;
}

/** The largest text this thread prepares beside the workers (larger ones need a worker's isolation). */
const MAIN_LANE_MAX_CHARS = 256 * 1024;

/** JS heap of one worker; tree-sitter's wasm memory is separate and capped at 2 GB by its build. */
const WORKER_HEAP_MB = 1024;

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

interface Slot {
  worker: Worker;
  /**
   * The jobs sent and not yet answered, in the order sent: the worker prepares them one after the other, so the
   * first is the one it is on. Each starts its timer when it becomes the first.
   */
  jobs: { id: number; start: () => void }[];
  /** Preparation contexts this worker has been sent. */
  contexts: Set<number>;
}

/**
 * Jobs a worker is sent ahead of its answers: the next file is there when it posts the facts of the last, even
 * while this thread is busy with a file of its own and cannot hand it one (a worker beside this thread's lane was
 * idle 0.5 s of 4.3 in a check of CPython's tree).
 */
const JOBS_AHEAD = 2;

export class ExtractPool implements Extractor {
  private readonly slots: Slot[] = [];
  private readonly size: number;
  private readonly timeoutSeconds: number | undefined;
  private readonly heapMb: number;
  private nextId = 0;
  private nextContextId = 0;
  private readonly mainLane: boolean;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.jobs ?? defaultJobs());
    this.mainLane = options.mainLane ?? false;
    this.timeoutSeconds = options.fileTimeoutSeconds;
    this.heapMb = options.workerHeapMb ?? WORKER_HEAP_MB;
  }

  /** Prepares every input (text as read) with `context`; outcome i belongs to input i. */
  async prepareAll(
    context: PrepareContext, inputs: readonly { file: string; text: string }[], each?: (index: number, outcome: PrepareOutcome) => void,
  ): Promise<PrepareOutcome[]> {
    const contextId = this.nextContextId++;
    return this.runAll(inputs, { contextId, context }, (i, outcome) => {
      each?.(i, outcome);
      // The text was for `each` (the cache writes it); kept, it would hold the facts' memory twice.
      if (outcome.ok) delete outcome.json;
    });
  }

  private async runAll(
    inputs: readonly { file: string; text: string }[], context: { contextId: number; context: PrepareContext },
    each: (index: number, outcome: PrepareOutcome) => void,
  ): Promise<PrepareOutcome[]> {
    const outcomes: PrepareOutcome[] = new Array(inputs.length);
    // Largest first: a big file started last would leave the other workers idle while it finishes. This thread
    // takes from the other end: each of its files is short, so it keeps the workers waiting for their next file
    // only briefly.
    const order = inputs.map((_, i) => i).sort((a, b) => inputs[b].text.length - inputs[a].text.length || a - b);
    let front = 0;
    let back = order.length - 1;
    const lanes = Math.min(this.size * JOBS_AHEAD, inputs.length);
    const lane = async () => {
      while (front <= back) {
        const i = order[front++];
        outcomes[i] = await this.run(inputs[i].file, inputs[i].text, context);
        each(i, outcomes[i]);
      }
    };
    const mainLane = async () => {
      while (front <= back && inputs[order[back]].text.length <= MAIN_LANE_MAX_CHARS) {
        const i = order[back--];
        const seconds = this.budgetSeconds(inputs[i].text, context.context);
        try {
          outcomes[i] = { ok: true, ...(await prepareFileDetached(inputs[i].file, inputs[i].text, context.context, performance.now() + seconds * 1000)) };
        } catch (error) {
          const message = (error as Error)?.message ?? String(error);
          outcomes[i] = error instanceof ParseDeadlineError
            ? { ok: false, reason: tooLong(seconds) }
            : { ok: false, reason: plainReason(message), detail: (error as Error)?.stack ?? message };
          each(i, outcomes[i]);
          // This thread's parser may be broken: the workers take the rest.
          if (isWasmFailure(message)) return;
          continue;
        }
        each(i, outcomes[i]);
        // Lets the workers' results in, and their next files out, between two of this thread's files.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all([...Array.from({ length: lanes }, lane), ...(this.mainLane ? [mainLane()] : [])]);
    return outcomes;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  /** The worker with the fewest unanswered jobs, a new one while there are fewer than `size` and none is idle. */
  private acquire(): Slot {
    let least: Slot | null = null;
    for (const s of this.slots) if (!least || s.jobs.length < least.jobs.length) least = s;
    if (least && (least.jobs.length === 0 || this.slots.length >= this.size)) return least;
    const slot: Slot = { worker: spawn(this.heapMb), jobs: [], contexts: new Set() };
    this.slots.push(slot);
    return slot;
  }

  /** The time one file may take: `--file-timeout`, else 30 s and 2 s per MB for each version it may be parsed for. */
  private budgetSeconds(text: string, context: PrepareContext): number {
    const perMb = 2 * Math.max(1, context.versions.length);
    return this.timeoutSeconds ?? 30 + perMb * (text.length / (1024 * 1024));
  }

  private discard(slot: Slot): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    void slot.worker.terminate();
  }

  private run(
    file: string, text: string, context: { contextId: number; context: PrepareContext },
  ): Promise<PrepareOutcome> {
    type Outcome = PrepareOutcome;
    const slot = this.acquire();
    const id = this.nextId++;
    const seconds = this.budgetSeconds(text, context.context);
    if (!slot.contexts.has(context.contextId)) {
      slot.worker.postMessage({ kind: 'context', contextId: context.contextId, context: context.context } satisfies ContextMessage);
      slot.contexts.add(context.contextId);
    }
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let started = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const job = {
        id,
        start: () => {
          started = true;
          timer = setTimeout(() => finish({ ok: false, reason: tooLong(seconds) }, false), seconds * 1000);
        },
      };
      const finish = (outcome: Outcome, healthy: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        slot.worker.off('exit', onExit);
        const at = slot.jobs.indexOf(job);
        if (at >= 0) slot.jobs.splice(at, 1);
        if (!healthy) this.discard(slot);
        else if (at === 0) slot.jobs[0]?.start();
        resolve(outcome);
      };
      // The worker stopped (for another file: a crash, a timeout) before it began this one: it goes elsewhere.
      const stopped = (outcome: Outcome) => {
        if (started || settled || this.closed) return finish(outcome, false);
        settled = true;
        slot.worker.off('message', onMessage);
        slot.worker.off('error', onError);
        slot.worker.off('exit', onExit);
        slot.jobs.splice(slot.jobs.indexOf(job), 1);
        resolve(this.run(file, text, context));
      };
      const onMessage = (r: JobResponse) => {
        if (r.id !== id) return;
        if (r.ok) finish({ ok: true, prepared: JSON.parse(r.preparedJson) as PreparedFile, json: r.preparedJson }, true);
        // An exception from wasm leaves the parser in an unknown state: start a fresh thread.
        else finish({ ok: false, reason: plainReason(r.reason), detail: r.stack ?? r.reason }, !isWasmFailure(r.reason));
      };
      const onError = (error: Error) => stopped({ ok: false, reason: plainReason(error.message), detail: error.stack });
      const onExit = (code: number) => stopped({ ok: false, reason: `the parser stopped unexpectedly (exit code ${code})` });
      slot.worker.on('message', onMessage);
      slot.worker.on('error', onError);
      slot.worker.on('exit', onExit);
      slot.jobs.push(job);
      slot.worker.postMessage({ kind: 'job', id, file, text, contextId: context.contextId } satisfies JobRequest);
      if (slot.jobs.length === 1) job.start();
    });
  }
}

function spawn(heapMb: number): Worker {
  const worker = new Worker(WORKER_SCRIPT, {
    // A small young generation: a worker's garbage is short-lived (the tree's copy, the facts it just posted), and
    // each MB of semi-space is resident memory on every worker (8 MB instead of 16: 27 MB less at the peak of a
    // check of CPython's tree, the same CPU).
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(8, heapMb / 8)) },
    stdout: true,
    stderr: true,
  });
  // Emscripten prints its own diagnostics on abort; the user gets one plain line instead.
  worker.stdout.resume();
  worker.stderr.resume();
  worker.unref();
  return worker;
}

function tooLong(seconds: number): string {
  return `parsing took longer than ${seconds < 1 ? seconds : Math.round(seconds)} s and was stopped`;
}

function isWasmFailure(message: string): boolean {
  return /Aborted|RuntimeError|memory access out of bounds|unreachable|out of memory|Cannot enlarge memory/i.test(message);
}

/** The user-facing reason, without the parser's internals. */
export function plainReason(message: string): string {
  if (/Cannot enlarge memory|out of memory|Aborted\(OOM\)|ERR_WORKER_OUT_OF_MEMORY|heap out of memory/i.test(message)) {
    return 'the parser ran out of memory on this file';
  }
  if (/Aborted|RuntimeError|unreachable|memory access out of bounds/i.test(message)) return 'the parser failed on this file';
  if (/Maximum call stack/i.test(message)) return 'the file nests too deep to analyse';
  return `analysis failed: ${message.split('\n')[0].slice(0, 200)}`;
}
