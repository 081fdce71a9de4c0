import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ONNX_FILE } from '../../src/encoders/onnx/build-models.js';
import { OnnxRunner } from '../../src/encoders/onnx/runner.js';
import { sharedModelsWithOnnx } from '../onnx-models.js';

/**
 * Ending the onnxruntime worker while it created or released a session aborted the whole
 * process (`terminate called after throwing an instance of 'Napi::Error'`: within 30 rounds of
 * this, three times out of three), and a release under a run failed it ("Session already
 * disposed"). close() now lets the worker answer and release first; a release waits for the
 * session's runs. Before, the runs here were also rejected ('onnxruntime worker closed').
 */
test('close() while sessions load, run and release answers every call and never aborts the process', async () => {
  const file = join(sharedModelsWithOnnx(), 'fashion-mrl', ONNX_FILE);
  const pixels = () => ({ pixels: { type: 'float32' as const, data: new Float32Array(16 * 28 * 28).fill(0.5), dims: [16, 28, 28] } });
  for (let round = 0; round < 10; round++) {
    const runner = new OnnxRunner();
    await runner.load('a', file, 1);
    const runs = Array.from({ length: 3 }, () => runner.run('a', pixels(), 'embedding'));
    const loading = runner.load('b', file, 1);
    const releasing = runner.release('a');
    if (round % 2) await new Promise((r) => setImmediate(r));
    await runner.close();
    for (const r of await Promise.all(runs)) assert.equal(r.dims[0], 16, `round ${round}`);
    await loading;
    await releasing;
  }
});
