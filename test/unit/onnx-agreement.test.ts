import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncoderRegistry } from '../../src/encoders/registry.js';
import { initTf } from '../../src/encoders/tf-backend.js';
import { defer } from '../helpers.js';
import { brownSentences, cosine, fashionImages, sharedModelsWithOnnx, topKNeighbours } from '../onnx-models.js';

/**
 * The ONNX encoders give the TF.js encoders' answers: every embedding at cosine ≥ 0.9999 and
 * the same 10 nearest neighbours for ≥ 99.5% of queries, on 50 Brown sentences and 50
 * Fashion-MNIST test images (scripts/onnx-agreement.ts measures 1,000 sentences and the 10k set).
 */
for (const [model, inputs] of [
  ['text-mrl', brownSentences(50)],
  ['fashion-mrl', fashionImages(50)],
] as const) {
  test(`${model}: onnxruntime embeddings agree with TF.js`, async (t) => {
    await initTf();
    const dir = sharedModelsWithOnnx();
    const onnx = new EncoderRegistry(dir, { backend: 'onnx', cacheSize: 0 });
    const tfjs = new EncoderRegistry(dir, { backend: 'tfjs', cacheSize: 0 });
    defer(t, () => onnx.dispose());
    defer(t, () => tfjs.dispose());
    const a = await onnx.embed(model, [...inputs]);
    const b = await tfjs.embed(model, [...inputs]);
    assert.equal(onnx.backendOf(model).backend, 'onnxruntime');
    assert.equal(tfjs.backendOf(model).backend, 'tfjs');
    assert.equal(a.length, inputs.length);
    const cos = a.map((v, i) => cosine(v, b[i]));
    const worst = Math.min(...cos);
    assert.ok(worst >= 0.9999, `${model}: lowest cosine ${worst}`);
    const na = topKNeighbours(a, 10);
    const nb = topKNeighbours(b, 10);
    const same = na.filter((x, i) => [...x].sort().join() === [...nb[i]].sort().join()).length / na.length;
    assert.ok(same >= 0.995, `${model}: same top-10 for ${same}`);
  });
}
