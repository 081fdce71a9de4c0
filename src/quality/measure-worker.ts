import { parentPort, workerData } from 'node:worker_threads';
import { measurePrefixes, type MeasureJob } from './measure.js';

/** The quality report's measurement in a worker thread (started by off-thread.ts): one job, one reply. */
const { rows, n, dim, nesting, queries, seed } = workerData as MeasureJob;
parentPort!.postMessage(await measurePrefixes(rows, n, dim, nesting, queries, seed));
