import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { measurePrefixes, type MeasureJob } from './measure.js';

/**
 * The quality report's measurement in a worker thread (started by off-thread.ts): one job, one
 * reply. Background work: the thread lowers its own priority (on Linux a thread has a nice value
 * of its own), so searches and ingest on the other threads take the cores first.
 */
lowerPriority();

function lowerPriority(): void {
  try {
    setPriority(19);
  } catch {
    // not allowed here (some platforms): the report runs at the normal priority
  }
}

const { rows, n, dim, nesting, queries, seed } = workerData as MeasureJob;
parentPort!.postMessage(await measurePrefixes(rows, n, dim, nesting, queries, seed));
