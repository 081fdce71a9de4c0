import { Worker } from 'node:worker_threads';
import { symmetricEigen } from '../core/eigen.js';
import { principalRotation, principalRotationFromEigen } from '../core/rotation.js';

/** Below this D the eigendecomposition takes milliseconds: a worker would cost more than it saves. */
const INLINE_DIM = 128;

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
  try {
    const { a, values } = await new Promise<{ a: Float64Array; values: Float64Array }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (c) => reject(new Error(`the eigendecomposition worker exited with code ${c}`)));
    });
    return principalRotationFromEigen(a, values, dim);
  } finally {
    await worker.terminate();
  }
}
