import { Worker } from 'node:worker_threads';
import { symmetricEigen } from '../core/eigen.js';
import { principalRotation, principalRotationFromEigen } from '../core/rotation.js';
import { moduleWorker } from '../module-worker.js';
import { measurePrefixes, type MeasureJob } from './measure.js';
import type { PrefixFigures } from './types.js';

/** Below this D the eigendecomposition takes milliseconds: a worker would cost more than it saves. */
const INLINE_DIM = 128;
/** Below this many multiply-adds (rows × queries × D) a report's measurement takes a few ms: done inline. */
export const INLINE_MEASURE_WORK = 20_000_000;

/** The one message a worker sends back; the worker is ended after it (or after its error). */
async function oneReply<T>(worker: Worker, what: string): Promise<T> {
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (c) => reject(new Error(`the ${what} worker exited with code ${c}`)));
    });
  } finally {
    await worker.terminate();
  }
}

/**
 * principalRotation with the D×D eigendecomposition in a worker thread, so searches keep flowing
 * meanwhile (it takes about 6.6 s at D = 768 on one core here); inline for small D. The worker
 * runs `symmetricEigen`'s own source (a pure function of typed arrays and Math), so it needs no
 * module resolution and runs the same from the compiled files or from source.
 */
export async function principalRotationOffThread(
  second: Float64Array,
  dim: number,
): Promise<{ rotation: Float32Array; eigenvalues: number[] }> {
  if (dim <= INLINE_DIM) return principalRotation(second, dim);
  const code = `const { parentPort, workerData } = require('node:worker_threads');
const symmetricEigen = ${symmetricEigen.toString()};
const a = workerData.second;
const values = symmetricEigen(a, workerData.dim);
parentPort.postMessage({ a, values }, [a.buffer, values.buffer]);`;
  const worker = new Worker(code, { eval: true, workerData: { second, dim } });
  const { a, values } = await oneReply<{ a: Float64Array; values: Float64Array }>(worker, 'eigendecomposition');
  return principalRotationFromEigen(a, values, dim);
}

/**
 * measurePrefixes in a worker thread (./measure-worker.ts): the exact searches of a report
 * (about 2 × rows × queries × D multiply-adds: seconds at 10k rows) would otherwise share the
 * event loop with live searches. `job.rows` is transferred, not copied: it is unusable here
 * afterwards. Inline when the work is below `inlineBelow`.
 */
export async function measurePrefixesOffThread(job: MeasureJob, inlineBelow = INLINE_MEASURE_WORK): Promise<PrefixFigures[]> {
  const { rows, n, dim, nesting, queries, seed } = job;
  if (n * queries * dim < inlineBelow) return measurePrefixes(rows, n, dim, nesting, queries, seed);
  const worker = moduleWorker(import.meta.url, 'measure-worker', { workerData: job, transferList: [rows.buffer as ArrayBuffer] });
  return oneReply<PrefixFigures[]>(worker, 'quality measurement');
}
