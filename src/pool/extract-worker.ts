// A worker thread that parses and extracts files. Only the plain facts cross back; if tree-sitter's wasm dies on a
// file, this whole thread is thrown away and the pool starts a fresh one.

import { parentPort } from 'node:worker_threads';
import { extractFile } from './extract-job.js';
import type { JobRequest, JobResponse } from './pool.js';

parentPort!.on('message', async (job: JobRequest) => {
  let response: JobResponse;
  try {
    response = { id: job.id, ok: true, facts: await extractFile(job.file, job.text) };
  } catch (error) {
    response = { id: job.id, ok: false, reason: (error as Error)?.message ?? String(error), stack: (error as Error)?.stack };
  }
  parentPort!.postMessage(response);
});
