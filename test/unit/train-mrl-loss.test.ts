import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '../../src/encoders/tf-backend.js';
import { createHeads, headLogits, headTensors } from '../../src/encoders/heads.js';
import { mrlLoss } from '../../src/train/mrl-loss.js';
import { denseLinear, denseRelu } from '../../src/encoders/dense-op.js';
import { mulberry32 } from '../../src/core/rng.js';

before(async () => {
  await initTf();
});

/** softmax cross-entropy of one row, in doubles. */
function ce(logits: number[], label: number): number {
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
  return lse - logits[label];
}

function matVec(z: number[], w: number[][], b: number[], m: number): number[] {
  return b.map((bias, c) => bias + z.slice(0, m).reduce((s, x, i) => s + x * w[i][c], 0));
}

function assign(t: tf.Tensor, values: number[][] | number[]): void {
  (t as tf.Variable).assign(tf.tensor(values, t.shape));
}

test('the MRL loss equals a hand computation: Σ_m c_m · mean CE(W_m z[0:m] + b_m, y)', () => {
  const heads = createHeads('mrl', [2, 4], 3, mulberry32(1));
  const w2 = [
    [0.5, -1, 0.25],
    [1.5, 0.5, -0.5],
  ];
  const b2 = [0.1, 0, -0.2];
  const w4 = [
    [1, 0, -1],
    [0, 1, 0.5],
    [-0.5, 0.25, 1],
    [2, -1, 0],
  ];
  const b4 = [0, 0.3, -0.1];
  assign(heads.kernels[0], w2);
  assign(heads.biases[0], b2);
  assign(heads.kernels[1], w4);
  assign(heads.biases[1], b4);
  const z = [
    [1, 2, -1, 0.5],
    [-0.5, 0.25, 2, -1],
  ];
  const y = [2, 0];
  const c = [0.7, 1.3];
  const hand = [2, 4].map((m, i) => {
    const [w, b] = i === 0 ? [w2, b2] : [w4, b4];
    return (c[i] * z.reduce((s, row, r) => s + ce(matVec(row, w, b, m), y[r]), 0)) / z.length;
  });
  const expected = hand[0] + hand[1];
  const got = tf.tidy(() => mrlLoss(heads, tf.tensor2d(z), tf.oneHot(y, 3).toFloat() as tf.Tensor2D, c).loss.dataSync()[0]);
  assert.ok(Math.abs(got - expected) < 1e-5, `loss ${got} vs hand ${expected}`);
  // default c_m = 1
  const got1 = tf.tidy(() => mrlLoss(heads, tf.tensor2d(z), tf.oneHot(y, 3).toFloat() as tf.Tensor2D).loss.dataSync()[0]);
  assert.ok(Math.abs(got1 - (hand[0] / c[0] + hand[1] / c[1])) < 1e-5);
  assert.throws(() => mrlLoss(heads, tf.tensor2d(z), tf.oneHot(y, 3).toFloat() as tf.Tensor2D, [1]), /2 nesting dims/);
  tf.dispose(headTensors(heads));
});

test('MRL-E has exactly one head weight matrix; head m reads its first m rows only', () => {
  const heads = createHeads('mrl-e', [2, 4], 3, mulberry32(2));
  assert.equal(heads.kernels.length, 1);
  assert.equal(heads.biases.length, 1);
  assert.deepEqual(heads.kernels[0].shape, [4, 3]);
  assert.ok(heads.kernels[0] instanceof tf.Variable);
  const mrl = createHeads('mrl', [2, 4], 3, mulberry32(2));
  assert.equal(mrl.kernels.length, 2, 'plain MRL has one head per dim');

  const w = [
    [1, 0, -1],
    [0, 1, 0.5],
    [-0.5, 0.25, 1],
    [2, -1, 0],
  ];
  const b = [0.1, 0.2, 0.3];
  assign(heads.kernels[0], w);
  assign(heads.biases[0], b);
  const z = tf.tensor2d([[1, 2, -1, 0.5]]);
  const at = (m: number) => Array.from(tf.tidy(() => headLogits(heads, z, m).dataSync()));
  const l2 = at(2);
  const l4 = at(4);
  matVec([1, 2, -1, 0.5], w, b, 2).forEach((v, i) => assert.ok(Math.abs(l2[i] - v) < 1e-6));
  matVec([1, 2, -1, 0.5], w, b, 4).forEach((v, i) => assert.ok(Math.abs(l4[i] - v) < 1e-6));
  // Change row m+1 (index 2): head 2 is untouched, head 4 moves.
  assign(heads.kernels[0], [w[0], w[1], [9, 9, 9], w[3]]);
  assert.deepEqual(at(2), l2);
  assert.notDeepEqual(at(4), l4);
  // A training step moves the one shared matrix (gradients from both heads land in it).
  const before = heads.kernels[0].dataSync().slice();
  const opt = tf.train.sgd(0.1);
  opt.minimize(() => mrlLoss(heads, z, tf.oneHot([1], 3).toFloat() as tf.Tensor2D).loss, false, headTensors(heads) as tf.Variable[]);
  const after = heads.kernels[0].dataSync();
  assert.notDeepEqual(Array.from(after.slice(0, 3)), Array.from(before.slice(0, 3)), 'row 0 trained');
  opt.dispose();
  tf.dispose([z, ...headTensors(heads), ...headTensors(mrl)]);
});

test("the dense op's hand-written gradient equals TF.js's own", () => {
  const r = mulberry32(3);
  const rnd = (shape: [number, number]) =>
    tf.tensor2d(
      Array.from({ length: shape[0] * shape[1] }, () => r() * 2 - 1),
      shape,
    );
  const x = rnd([5, 4]);
  const w = rnd([4, 3]);
  const b = tf.tensor1d([0.1, -0.2, 0.3]);
  const up = rnd([5, 3]);
  for (const [op, act] of [
    [denseRelu, tf.relu],
    [denseLinear, (t: tf.Tensor) => t],
  ] as const) {
    const mine = tf.grads((a, bw, bb) => tf.sum(tf.mul(op(a as tf.Tensor2D, bw as tf.Tensor2D, bb as tf.Tensor1D), up)))([x, w, b]);
    const ref = tf.grads((a, bw, bb) => tf.sum(tf.mul(act(tf.add(tf.matMul(a as tf.Tensor2D, bw as tf.Tensor2D), bb)), up)))([x, w, b]);
    mine.forEach((g, i) => {
      const d = tf.max(tf.abs(tf.sub(g, ref[i]))).dataSync()[0];
      assert.ok(d < 1e-5, `gradient ${i} differs by ${d}`);
    });
    tf.dispose([...mine, ...ref]);
  }
  tf.dispose([x, w, b, up]);
});
