import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { tf } from '../../src/encoders/tf-backend.js';
import type { ImageEncoder } from '../../src/encoders/image-encoder.js';
import { headProbabilities } from '../../src/encoders/classify-cascade.js';
import { cascade } from '../../src/eval/classify.js';
import { FASHION_CLASSES, loadSplit } from '../../src/data/fashion-mnist.js';
import { buildTestApp } from '../helpers.js';

const SAMPLE = fileURLToPath(new URL('../fixtures/fashion-sample', import.meta.url));
const HEADS = [8, 16, 32, 64, 128, 256, 512];
const N = 40;

const sample = loadSplit(SAMPLE, 't10k', N);
const images = Array.from({ length: N }, (_, i) =>
  Array.from({ length: 28 }, (_, r) => Array.from(sample.images.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28))),
);

interface Result {
  label: string;
  classIndex: number;
  confidence: number;
  dims: number;
  dimsTried: number[];
}

type App = Awaited<ReturnType<typeof buildTestApp>>['app'];
async function classify(app: App, payload: object): Promise<{ model: string; threshold: number; results: Result[] }> {
  const r = await app.inject({ method: 'POST', url: '/classify', payload });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

test('POST /classify answers with the first confident head, agreeing with classifyAtDim at every head tried', async (t) => {
  const { app, ctx } = await buildTestApp(t);
  const threshold = 0.9;
  const reply = await classify(app, { model: 'fashion-mrl', inputs: images, threshold });
  assert.equal(reply.model, 'fashion-mrl');
  assert.equal(reply.threshold, threshold);
  assert.equal(reply.results.length, N);

  const enc = (await ctx.encoders.get('fashion-mrl')) as ImageEncoder;
  const z = await ctx.encoders.embed('fashion-mrl', images);
  const probs = new Map(HEADS.map((d) => [d, enc.classify(z, d)]));
  const top = (p: Float32Array) => ({ index: p.indexOf(Math.max(...p)), value: Math.max(...p) });
  reply.results.forEach((r, i) => {
    assert.deepEqual(r.dimsTried, HEADS.slice(0, HEADS.indexOf(r.dims) + 1), `image ${i}`);
    for (const d of r.dimsTried.slice(0, -1)) assert.ok(top(probs.get(d)![i]).value <= threshold, `image ${i}: head ${d} was confident`);
    const at = top(probs.get(r.dims)![i]);
    assert.equal(r.classIndex, at.index, `image ${i}`);
    assert.ok(Math.abs(r.confidence - at.value) < 1e-5, `image ${i}: ${r.confidence} vs ${at.value}`);
    assert.ok(r.dims === 512 || r.confidence > threshold, `image ${i} stopped at ${r.dims} with ${r.confidence}`);
    assert.equal(r.label, FASHION_CLASSES[r.classIndex]);
  });
  // The route runs each head only on the inputs still unsure; the pure cascade on full tables agrees.
  const full = cascade(headProbabilities(enc, z, HEADS), FASHION_CLASSES.length, threshold);
  assert.deepEqual(
    reply.results.map((r) => r.dims),
    Array.from(full.dimsUsed),
  );
  assert.deepEqual(
    reply.results.map((r) => r.classIndex),
    Array.from(full.predictions),
  );
  // Not only consistent but right: the shipped model is ~89% accurate on Fashion-MNIST.
  const correct = reply.results.filter((r, i) => r.classIndex === sample.labels[i]).length;
  assert.ok(correct / N >= 0.8, `${correct}/${N} correct`);
  assert.ok(new Set(reply.results.map((r) => r.dims)).size > 1, 'some images need a larger head than others');
});

test('POST /classify: dims used never decrease with the threshold; 0 uses the smallest head, 1 the largest', async (t) => {
  const { app } = await buildTestApp(t);
  let prev: Result[] | undefined;
  for (const threshold of [0, 0.5, 0.8, 0.9, 0.99, 1]) {
    const { results } = await classify(app, { model: 'fashion-mrl', inputs: images, threshold });
    if (threshold === 0) assert.ok(results.every((r) => r.dims === 8 && r.dimsTried.length === 1));
    if (threshold === 1) assert.ok(results.every((r) => r.dims === 512 && r.dimsTried.length === HEADS.length));
    if (prev) results.forEach((r, i) => assert.ok(r.dims >= prev![i].dims, `image ${i}: ${prev![i].dims} then ${r.dims} at ${threshold}`));
    prev = results;
  }
  const dflt = await classify(app, { model: 'fashion-mrl', inputs: images.slice(0, 4) });
  assert.equal(dflt.threshold, 0.9);
});

test('POST /classify: `dims` cascades over a subset of the heads, smallest first; PNG input gives the same answer', async (t) => {
  const { app } = await buildTestApp(t);
  const { results } = await classify(app, { model: 'fashion-mrl', inputs: images, threshold: 0.95, dims: [512, 32] });
  for (const r of results) {
    assert.ok(r.dims === 32 || r.dims === 512);
    assert.deepEqual(r.dimsTried, r.dims === 32 ? [32] : [32, 512]);
  }
  assert.ok(results.some((r) => r.dims === 512) && results.some((r) => r.dims === 32));
  const only = await classify(app, { model: 'fashion-mrl', inputs: images, threshold: 0, dims: [64] });
  assert.ok(only.results.every((r) => r.dims === 64));

  const png = new PNG({ width: 28, height: 28 });
  images[0].flat().forEach((v, i) => png.data.set([v, v, v, 255], 4 * i));
  const b64 = PNG.sync.write(png).toString('base64');
  const [fromPng, fromArray] = (await classify(app, { model: 'fashion-mrl', inputs: [b64, images[0]] })).results;
  assert.deepEqual(fromPng, fromArray);
});

test('POST /classify refuses bad requests with codes', async (t) => {
  const { app } = await buildTestApp(t, { MRL_MAX_EMBED_BATCH: '4' });
  const img = images[0];
  const cases: [object, string][] = [
    [{ model: 'nope', inputs: [img] }, 'UNKNOWN_ENCODER'],
    [{ model: 'text-mrl', inputs: ['a sentence'] }, 'NO_CLASSIFIER'],
    [{ model: 'fashion-mrl', inputs: [img], threshold: 1.5 }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], threshold: -0.1 }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], threshold: '0.5' }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], dims: [24] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], dims: [8, 8] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], dims: [] }, 'VALIDATION'],
    [
      {
        model: 'fashion-mrl',
        inputs: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      },
      'VALIDATION',
    ],
    [{ model: 'fashion-mrl', inputs: [img.map((r) => r.map(() => 300))] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: ['not base64 png'] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img, img, img, img, img] }, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: [img], extra: 1 }, 'VALIDATION'],
  ];
  for (const [payload, code] of cases) {
    const r = await app.inject({ method: 'POST', url: '/classify', payload });
    assert.equal(r.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)}: ${r.body}`);
    assert.equal(r.json().error.code, code, `${JSON.stringify(payload).slice(0, 80)}: ${r.body}`);
  }
});

test('POST /classify releases its tensors: tf.memory().numTensors is flat over repeated requests', async (t) => {
  const { app } = await buildTestApp(t);
  await classify(app, { model: 'fashion-mrl', inputs: images.slice(0, 4) });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 30; i++) {
    await classify(app, { model: 'fashion-mrl', inputs: images.slice(i % 10, (i % 10) + 4), threshold: (i % 11) / 10 });
  }
  assert.equal(
    (await app.inject({ method: 'POST', url: '/classify', payload: { model: 'fashion-mrl', inputs: [[[1]]] } })).statusCode,
    400,
  );
  assert.equal(tf.memory().numTensors, before);
});
