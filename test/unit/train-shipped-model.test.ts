import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import { loadImageEncoder } from '../../src/encoders/image-encoder.js';
import { FASHION_CLASSES, loadSplit } from '../../src/data/fashion-mnist.js';
import { knnFigures } from '../../src/train/evaluate.js';

const MODEL = fileURLToPath(new URL('../../models/fashion-mrl', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../fixtures/fashion-sample', import.meta.url));

test('the shipped fashion-mrl model loads, matches its manifest, and classifies the sample', async () => {
  await initTf();
  // What is committed: model.onnx(.json) are built from these files by npm run build:onnx.
  const bytes = readdirSync(MODEL)
    .filter((f) => !f.startsWith('model.onnx'))
    .reduce((s, f) => s + statSync(join(MODEL, f)).size, 0);
  assert.ok(bytes < 4 * 2 ** 20, `model directory is ${bytes} bytes`);
  const start = tf.memory().numTensors;
  const enc = await loadImageEncoder(MODEL);
  const m = enc.manifest;
  assert.equal(m.name, 'fashion-mrl');
  assert.equal(m.loader, 'image-mlp');
  assert.equal(m.objective, 'mrl');
  assert.equal(m.dim, 512);
  assert.deepEqual(m.nesting, [8, 16, 32, 64, 128, 256, 512]);
  assert.deepEqual(m.classes, [...FASHION_CLASSES]);
  assert.equal(m.training.examples, 60000);
  assert.deepEqual(enc.headDims, m.nesting);
  for (const metric of ['knn1', 'linear', 'map10']) assert.deepEqual(Object.keys(m.metrics[metric]).map(Number), m.nesting, metric);

  const test = loadSplit(SAMPLE, 't10k');
  const train = loadSplit(SAMPLE, 'train');
  const asImages = (s: typeof test) =>
    Array.from({ length: s.count }, (_, i) =>
      Array.from({ length: 28 }, (_, r) => Array.from(s.images.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28))),
    );
  const zTest = await enc.embed(asImages(test));
  const zTrain = await enc.embed(asImages(train));
  for (const dim of [8, 512]) {
    const probs = enc.classify(zTest, dim);
    const correct = probs.filter((p, i) => p.indexOf(Math.max(...p)) === test.labels[i]).length;
    assert.ok(correct / test.count > 0.8, `head accuracy at ${dim}: ${correct / test.count}`);
  }
  const flat = (zs: Float32Array[]) => {
    const out = new Float32Array(zs.length * 512);
    zs.forEach((z, i) => out.set(z, i * 512));
    return out;
  };
  const knn = await knnFigures(
    { db: flat(zTrain), dbLabels: train.labels, queries: flat(zTest), queryLabels: test.labels, dim: 512 },
    [8, 512],
  );
  assert.ok(knn.knn1[8] > 0.7 && knn.knn1[512] > 0.75, JSON.stringify(knn.knn1));
  enc.dispose();
  assert.equal(tf.memory().numTensors, start);
});
