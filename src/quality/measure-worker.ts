import { parentPort, workerData } from 'node:worker_threads';
import { niceThisThread } from '../module-worker.js';
import { measurePrefixes, type MeasureJob } from './measure.js';

/**
 * The quality report's measurement in a worker thread (started by off-thread.ts): one job, one
 * reply. Background work: the thread lowers its own priority to nice 19, so searches and ingest
 * on the other threads take the cores first.
 */
niceThisThread(19);

const { rows, n, dim, nesting, queries, seed } = workerData as MeasureJob;
parentPort!.postMessage(await measurePrefixes(rows, n, dim, nesting, queries, seed));
