import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/usage.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import type { ModelManifest } from '../../src/encoders/encoder.js';
import { loadImageEncoder } from '../../src/encoders/image-encoder.js';
import { FASHION_CLASSES, loadSplit } from '../../src/data/fashion-mnist.js';
import { trainMrl, type TrainOptions } from '../../src/train/trainer.js';
import { headLogits, headTensors } from '../../src/encoders/heads.js';
import { saveTrainedModel } from '../../src/train/save-model.js';
import { readManifest } from '../../src/encoders/model-files.js';
import { runTrain } from '../../src/train/cli-train.js';
import { tinyTrainArgs } from '../helpers.js';

const SAMPLE = fileURLToPath(new URL('../fixtures/fashion-sample', import.meta.url));

before(async () => {
  await initTf();
});

function options(objective: TrainOptions['objective'], over: Partial<TrainOptions> = {}): TrainOptions {
  const dim = 32;
  return {
    objective,
    spec: { inputShape: [28, 28], hidden: [48], dim },
    nesting: objective === 'fixed' ? [dim] : [8, 16, 32],
    epochs: 1,
    batchSize: 64,
    learningRate: 1e-3,
    seed: 7,
    progress: false,
    maxSteps: 4,
    ...over,
  };
}

function manifestFor(o: TrainOptions, examples: number): ModelManifest {
  return {
    name: 'tiny',
    loader: 'image-mlp',
    input: { kind: 'image', shape: [28, 28] },
    dim: o.spec.dim,
    nesting: o.nesting,
    objective: o.objective,
    training: { data: 'sample', examples, epochs: o.epochs, seconds: 0, seed: o.seed },
    metrics: {},
    classes: [...FASHION_CLASSES],
    createdAt: new Date(0).toISOString(),
  };
}

function rows(flat: Float32Array | Int32Array | Uint8Array, width: number): number[][] {
  return Array.from({ length: flat.length / width }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width)));
}

for (const objective of ['mrl', 'mrl-e', 'fixed'] as const) {
  test(`${objective}: a few steps on the sample, saved and reloaded, give identical embeddings and head outputs`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mrl-train-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const data = loadSplit(SAMPLE, 'train');
    const o = options(objective);
    const trained = await trainMrl(data, o);
    assert.equal(trained.steps, 4);
    const x = tf.tensor3d(Float32Array.from(data.images.subarray(0, 20 * 784)), [20, 28, 28]);
    const before = tf.tidy(() => trained.encoder.forward(x).dataSync());
    const beforeProbs = o.nesting.map((m) =>
      tf.tidy(() => tf.softmax(headLogits(trained.heads, tf.tensor2d(before, [20, o.spec.dim]), m)).dataSync()),
    );
    await saveTrainedModel(trained, dir, manifestFor(o, data.count));
    trained.dispose();
    x.dispose();
    for (const f of ['model.json', 'weights.bin', 'heads.json', 'heads.bin', 'manifest.json']) assert.ok(existsSync(join(dir, f)), f);
    const headsFile = JSON.parse(readFileSync(join(dir, 'heads.json'), 'utf8'));
    assert.equal(headsFile.weightsManifest[0].weights.length, objective === 'mrl' ? 6 : 2);

    const enc = await loadImageEncoder(dir);
    const images = rows(data.images.subarray(0, 20 * 784), 784).map((px) => rows(Uint8Array.from(px), 28));
    const after = await enc.embed(images);
    assert.equal(after.length, 20);
    // bit for bit: the trainer's forward and the saved tfjs-layers model run the same ops
    assert.deepEqual(
      after.map((v) => Array.from(v)),
      rows(before, o.spec.dim),
    );
    assert.deepEqual(enc.headDims, o.nesting);
    o.nesting.forEach((m, i) => {
      const probs = enc.classify(after, m);
      assert.deepEqual(
        probs.map((p) => Array.from(p)),
        rows(beforeProbs[i], 10),
      );
      probs.forEach((p) => assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-5));
    });
    enc.dispose();
  });
}

test('the same seed gives the same weights (and another seed does not)', async () => {
  const data = loadSplit(SAMPLE, 'train', 256);
  const weights = async (seed: number) => {
    const m = await trainMrl(data, options('mrl', { seed, maxSteps: 3 }));
    const all = [...m.encoder.variables, ...headTensors(m.heads)].map((v) => Array.from(v.dataSync()));
    m.dispose();
    return all;
  };
  const a = await weights(11);
  assert.deepEqual(await weights(11), a);
  assert.notDeepEqual(await weights(12), a);
});

test('runTrain (mrl train) trains, saves, evaluates and records figures in the manifest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const before = tf.memory().numTensors;
  const code = await runTrain(tinyTrainArgs(SAMPLE, dir, 100, 300, '--seed', '3', '--name', 'tiny', '--quiet'));
  assert.equal(code, 0);
  assert.equal(tf.memory().numTensors, before, 'runTrain releases every tensor it made');
  const m = readManifest(dir);
  assert.equal(m.name, 'tiny');
  assert.equal(m.loader, 'image-mlp');
  assert.deepEqual(m.input, { kind: 'image', shape: [28, 28] });
  assert.deepEqual(m.nesting, [8, 16, 32]);
  assert.equal(m.objective, 'mrl');
  assert.equal(m.training.examples, 300);
  assert.equal(m.training.seed, 3);
  assert.deepEqual(m.classes, [...FASHION_CLASSES]);
  for (const metric of ['knn1', 'map10', 'linear']) {
    assert.deepEqual(Object.keys(m.metrics[metric]).sort(), ['16', '32', '8'], metric);
    for (const v of Object.values(m.metrics[metric])) assert.ok(v > 0.1 && v <= 1, `${metric} ${v}`);
  }
});

// Bad arguments are a UsageError, which `mrl` prints with the usage and exits 2 on (test/integration/cli.test.ts).
test('runTrain refuses bad arguments with a UsageError, exits 1 when the data is missing', async () => {
  assert.equal(await runTrain(['--data', '/nonexistent', '--out', join(tmpdir(), 'mrl-never-written')]), 1);
  assert.ok(!existsSync(join(tmpdir(), 'mrl-never-written')));
  await assert.rejects(runTrain(['--out', '/tmp/x']), UsageError);
  await assert.rejects(runTrain(['--data', SAMPLE, '--out', '/tmp/x', '--efficient', '--fixed', '8']), UsageError);
  await assert.rejects(runTrain(['--data', SAMPLE, '--out', '/tmp/x', '--epochs', 'two']), UsageError);
  await assert.rejects(runTrain(['--data', SAMPLE, '--out', '/tmp/x', '--bogus']), UsageError);
  await assert.rejects(runTrain(['--data', SAMPLE, '--out', '/tmp/x', '--fixed', '8', '--dim', '16']), UsageError);
  await assert.rejects(runTrain(['--data', SAMPLE, '--out', '/tmp/x', '--fixed', '0']), UsageError);
});
