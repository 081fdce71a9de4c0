import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { detokenize, readBrown } from '../../src/data/brown.js';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import { mulberry32 as rng } from '../../src/core/rng.js';
import {
  adaptorForward,
  adaptorLoss,
  buildAdaptor,
  buildHeads,
  heldOutDocuments,
  matMulNN,
  prefixNeighbours,
  principalAxes,
  recallAtK,
  symmetricEigen,
  trainAdaptor,
} from '../../src/train/text-adaptor/index.js';
import { headAccuracy } from '../../src/train/evaluate.js';

before(async () => {
  await initTf();
});

/** n x d unit rows whose energy decays along the coordinates (a few dominant directions). */
function unitRows(n: number, seed: number, d = 512): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = (r() - 0.5) * Math.exp(-j / (d / 12));
      x[i * d + j] = v;
      s += v * v;
    }
    for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(s);
  }
  return x;
}

test('Brown: 500 documents, 15 genres, ~15.7k paragraphs, detokenised', () => {
  const ps = readBrown();
  assert.equal(ps.length, 15667); // NLTK's brown.paras() count for the same files
  assert.equal(new Set(ps.map((p) => p.doc)).size, 500);
  assert.equal(new Set(ps.map((p) => p.genre)).size, 15);
  assert.equal(ps[0].doc, 'ca01');
  assert.equal(ps[0].genre, 'news');
  assert.match(ps[0].text, /^The Fulton County Grand Jury said Friday .* produced "no evidence" that any irregularities took place\.$/);
  assert.equal(detokenize(['He/pps', 'said/vbd', ',/,', '``/``', 'yes/rb', "''/''", './.']), 'He said, "yes".');
});

test('held-out split is by document, inside every genre', () => {
  const items = readBrown().map(({ doc, genre }) => ({ doc, genre }));
  const held = heldOutDocuments(items, 0.2, 1);
  assert.deepEqual(held, heldOutDocuments(items, 0.2, 1), 'seeded');
  const genres = new Map<string, { held: number; all: Set<string> }>();
  for (const { doc, genre } of items) {
    const g = genres.get(genre) ?? { held: 0, all: new Set() };
    g.all.add(doc);
    genres.set(genre, g);
  }
  for (const [genre, g] of genres) {
    const h = [...g.all].filter((d) => held.has(d)).length;
    assert.ok(h >= 1 && h < g.all.size, `${genre}: ${h} of ${g.all.size} documents held out`);
    assert.ok(Math.abs(h - 0.2 * g.all.size) <= 1, genre);
  }
});

test('symmetricEigen: A v = λ v with orthonormal v', () => {
  const n = 40;
  const r = rng(7);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r() - 0.5;
  const v = Float64Array.from(a);
  const values = symmetricEigen(v, n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * v[j * n + c];
      assert.ok(Math.abs(av - values[c] * v[i * n + c]) < 1e-10);
    }
    for (let c2 = 0; c2 < n; c2++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i * n + c] * v[i * n + c2];
      assert.ok(Math.abs(dot - (c === c2 ? 1 : 0)) < 1e-10);
    }
  }
});

test('principal axes come first: the PCA rotation beats plain truncation at short prefixes', () => {
  const [n, d] = [400, 64];
  const x = unitRows(n, 3, d);
  // Mix the coordinates by a random orthogonal matrix (eigenvectors of a random symmetric one),
  // so that the energy is no longer in the first dims.
  const r = rng(5);
  const sym = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) sym[i * d + j] = sym[j * d + i] = r() - 0.5;
  symmetricEigen(sym, d);
  const mix = (rows: Float32Array, m: ArrayLike<number>) => {
    const t = tf.tidy(() => tf.matMul(tf.tensor2d(rows, [n, d]), tf.tensor2d(Float32Array.from(m), [d, d])));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  };
  const mixed = mix(x, sym);
  const rotated = mix(mixed, principalAxes(mixed, n, d));
  const truth = prefixNeighbours(mixed, n, d, 10);
  // A rotation keeps every cosine: same neighbours at full length.
  assert.ok(recallAtK(prefixNeighbours(rotated, n, d, 10), truth, 10) > 0.99);
  const pca = recallAtK(prefixNeighbours(rotated, n, 4, 10), truth, 10);
  const plain = recallAtK(prefixNeighbours(mixed, n, 4, 10), truth, 10);
  assert.ok(pca > plain + 0.1, `pca ${pca} vs truncation ${plain}`);
});

test('the training forward pass (matMulNN) computes what the saved layers model computes', () => {
  const model = buildAdaptor({ hidden: 64, seed: 1 });
  tf.tidy(() => {
    // Give the branch weight so that it matters.
    const branch = model.getLayer('branch');
    branch.setWeights(branch.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.1, 'float32', 10 + i)));
    const u = tf.tensor2d(unitRows(8, 4), [8, 512]);
    const a = (model.predict(u) as tf.Tensor).dataSync();
    const b = adaptorForward(model, u).dataSync();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
    // matMulNN's gradient equals tf.matMul's.
    const p = tf.randomNormal<tf.Rank.R2>([6, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal<tf.Rank.R2>([5, 3], 0, 1, 'float32', 2);
    const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf
        .matMul(x as tf.Tensor2D, y as tf.Tensor2D)
        .square()
        .sum(),
    )([p, w]);
    const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      matMulNN(x as tf.Tensor2D, y as tf.Tensor2D)
        .square()
        .sum(),
    )([p, w]);
    for (let k = 0; k < 2; k++) {
      const [d1, d2] = [g1[k].dataSync(), g2[k].dataSync()];
      for (let i = 0; i < d1.length; i++) assert.ok(Math.abs(d1[i] - d2[i]) < 1e-4);
    }
  });
  model.dispose();
});

test('a few training steps lower the MRL loss and leave no tensors behind', async () => {
  const n = 256;
  const x = unitRows(n, 9);
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const model = buildAdaptor({ hidden: 32, seed: 2 });
  const heads = buildHeads([8, 64, 512], 3, 2);
  const opts = { nesting: [8, 64, 512], tau: 0.05, mseWeight: 1, clsWeight: 0.1 };
  const lossNow = () =>
    tf.tidy(
      () =>
        adaptorLoss(
          model,
          heads,
          tf.tensor2d(x, [n, 512]),
          tf.oneHot(tf.tensor1d(y, 'int32'), 3).toFloat() as tf.Tensor2D,
          opts,
        ).dataSync()[0],
    );
  const before = lossNow();
  const tensors = tf.memory().numTensors;
  const { losses } = await trainAdaptor(model, heads, x, y, 3, {
    ...opts,
    epochs: 8,
    batch: 128,
    learningRate: 1e-3,
    headLearningRate: 1e-2,
    seed: 2,
  });
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(losses.length, 8);
  assert.ok(lossNow() < before, `${lossNow()} < ${before}`);
  tf.dispose([...heads.kernels, ...heads.biases]);
  model.dispose();
});

test('headAccuracy reads the adaptor heads built by buildHeads: head m scores z[:, :m] with its own kernel', () => {
  const n = 40;
  const classes = 3;
  const nesting = [8, 512];
  const heads = buildHeads(nesting, classes, 4);
  const r = rng(11);
  const z = Float32Array.from({ length: n * 512 }, () => r() - 0.5);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * classes));
  const expected: Record<string, number> = {};
  nesting.forEach((m, i) => {
    const w = heads.kernels[i].dataSync();
    let correct = 0;
    for (let row = 0; row < n; row++) {
      const logits = Array.from({ length: classes }, (_, c) => {
        let s = 0;
        for (let j = 0; j < m; j++) s += z[row * 512 + j] * w[j * classes + c];
        return s;
      });
      if (logits.indexOf(Math.max(...logits)) === y[row]) correct++;
    }
    expected[m] = correct / n;
  });
  assert.deepEqual(headAccuracy(heads, z, y, 512), expected);
  assert.notEqual(expected[8], expected[512]); // the two heads differ, so a head reading the wrong kernel fails
  tf.dispose([...heads.kernels, ...heads.biases]);
});
