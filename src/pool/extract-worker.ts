// A worker thread that prepares (preprocesses, parses and extracts) files. Only the plain facts cross back; if
// tree-sitter's wasm dies on a file, this whole thread is thrown away and the pool starts a fresh one.

import { parentPort } from 'node:worker_threads';
import { prepareFile, type PrepareContext } from './prepare.js';
import type { WorkerMessage, JobResponse } from './pool.js';

const contexts = new Map<number, PrepareContext>();
/** Jobs come ahead of their turn (the pool sends the next before this one is answered): one at a time, in order. */
let previous: Promise<void> = Promise.resolve();

parentPort!.on('message', (message: WorkerMessage) => {
  if (message.kind === 'context') {
    contexts.set(message.contextId, message.context);
    return;
  }
  previous = previous.then(() => prepare(message));
});

async function prepare(message: Extract<WorkerMessage, { kind: 'job' }>): Promise<void> {
  let response: JobResponse;
  try {
    const context = contexts.get(message.contextId);
    if (!context) throw new Error(`no preparation context ${message.contextId}`);
    // As JSON text: serialising and reading it is about twice as fast as the structured clone of so many small
    // objects, and the main thread can write it to the cache as it is.
    response = { id: message.id, ok: true, preparedJson: JSON.stringify(await prepareFile(message.file, message.text, context)) };
  } catch (error) {
    response = { id: message.id, ok: false, reason: (error as Error)?.message ?? String(error), stack: (error as Error)?.stack };
  }
  parentPort!.postMessage(response);
}
