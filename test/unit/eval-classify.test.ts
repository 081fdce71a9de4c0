import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cascade, cascadeSweep, dimsForAccuracy, fixedDimAccuracy, type CascadePoint } from '../../src/eval/classify.js';
import type { DimProbs } from '../../src/core/classify-rule.js';
import { mulberry32 as rng } from '../../src/core/rng.js';

/**
 * Three heads (dims 4, 8, 16), three classes, four rows; labels [0, 1, 2, 1].
 *   row 0: saturated at the smallest head (exactly 1.0)   → stops at 4 unless the threshold is 1
 *   row 1: 0.5, then 0.7, then 0.92 for class 1           → stops where the threshold first falls below
 *   row 2: never above 0.4                                 → always the largest head (threshold ≥ 0.4)
 *   row 3: 0.8 (class 2), 0.85 (class 1), 1.0 (class 0)   → 0.8 at threshold 0.8 is not confident (strict)
 */
const C = 3;
const LABELS = [0, 1, 2, 1];
const table = (dims: number, rows: number[][]): DimProbs => ({ dims, probs: Float32Array.from(rows.flat()) });
const BY_DIM: DimProbs[] = [
  table(4, [
    [1, 0, 0],
    [0.5, 0.4, 0.1],
    [0.4, 0.3, 0.3],
    [0.1, 0.1, 0.8],
  ]),
  table(8, [
    [0.7, 0.2, 0.1],
    [0.2, 0.7, 0.1],
    [0.3, 0.4, 0.3],
    [0.1, 0.85, 0.05],
  ]),
  table(16, [
    [0.6, 0.2, 0.2],
    [0.05, 0.92, 0.03],
    [0.3, 0.3, 0.4],
    [1, 0, 0],
  ]),
];

test('cascade stops at the first head whose max probability is above the threshold', () => {
  const r = cascade(BY_DIM, C, 0.8);
  assert.deepEqual(Array.from(r.dimsUsed), [4, 16, 16, 8]);
  assert.deepEqual(Array.from(r.predictions), [0, 1, 2, 1]);
  assert.deepEqual(Array.from(r.confidence), [1, 0.92, 0.4, 0.85].map(Math.fround));

  const r6 = cascade(BY_DIM, C, 0.6);
  assert.deepEqual(Array.from(r6.dimsUsed), [4, 8, 16, 4]);
  assert.deepEqual(Array.from(r6.predictions), [0, 1, 2, 2]);
});

test("cascade: a row never confident ends at the largest head, with that head's answer", () => {
  const r = cascade(BY_DIM, C, 0.95);
  assert.deepEqual(Array.from(r.dimsUsed), [4, 16, 16, 16]);
  assert.deepEqual(Array.from(r.predictions), [0, 1, 2, 0]);
  assert.equal(r.confidence[2], Math.fround(0.4));
});

test('cascade: threshold 0 always answers with the smallest head, threshold 1 always with the largest', () => {
  const r0 = cascade(BY_DIM, C, 0);
  assert.deepEqual(Array.from(r0.dimsUsed), [4, 4, 4, 4]);
  assert.deepEqual(Array.from(r0.predictions), [0, 0, 0, 2]);
  // Row 0 has probability exactly 1 at the smallest head, and still goes on to the largest.
  const r1 = cascade(BY_DIM, C, 1);
  assert.deepEqual(Array.from(r1.dimsUsed), [16, 16, 16, 16]);
  assert.deepEqual(Array.from(r1.predictions), [0, 1, 2, 0]);
  // A single head is both the smallest and the largest.
  assert.deepEqual(Array.from(cascade([BY_DIM[1]], C, 0.99).dimsUsed), [8, 8, 8, 8]);
});

test('cascadeSweep: accuracy and mean dims per threshold, as computed by hand', () => {
  const points = cascadeSweep(BY_DIM, C, LABELS, [0, 0.6, 0.8, 0.9, 1]);
  assert.deepEqual(points, [
    { threshold: 0, accuracy: 1 / 4, meanDims: 4 }, //          preds 0 0 0 2
    { threshold: 0.6, accuracy: 3 / 4, meanDims: (4 + 8 + 16 + 4) / 4 }, // 0 1 2 2
    { threshold: 0.8, accuracy: 1, meanDims: (4 + 16 + 16 + 8) / 4 }, //    0 1 2 1
    { threshold: 0.9, accuracy: 3 / 4, meanDims: (4 + 16 + 16 + 16) / 4 }, // 0 1 2 0
    { threshold: 1, accuracy: 3 / 4, meanDims: 16 },
  ]);
});

test('fixedDimAccuracy: each head alone', () => {
  assert.deepEqual(fixedDimAccuracy(BY_DIM, C, LABELS), [
    { dims: 4, accuracy: 1 / 4 }, // preds 0 0 0 2
    { dims: 8, accuracy: 3 / 4 }, //       0 1 1 1
    { dims: 16, accuracy: 3 / 4 }, //      0 1 2 0
  ]);
});

test('dimsForAccuracy: the cheapest point that reaches the target, or null', () => {
  const points = cascadeSweep(BY_DIM, C, LABELS, [0, 0.6, 0.8, 0.9, 1]);
  assert.deepEqual(dimsForAccuracy(points, 0.75), { threshold: 0.6, accuracy: 0.75, meanDims: 8 });
  assert.deepEqual(dimsForAccuracy(points, 0.76), { threshold: 0.8, accuracy: 1, meanDims: 11 });
  assert.deepEqual(dimsForAccuracy(points, 0.25), { threshold: 0, accuracy: 0.25, meanDims: 4 });
  assert.equal(dimsForAccuracy(points, 1.01), null);
  assert.equal(dimsForAccuracy([], 0), null);
  const tie: CascadePoint[] = [
    { threshold: 0.5, accuracy: 0.8, meanDims: 10 },
    { threshold: 0.6, accuracy: 0.9, meanDims: 10 },
    { threshold: 0.7, accuracy: 0.95, meanDims: 12 },
  ];
  assert.equal(dimsForAccuracy(tie, 0.8)?.threshold, 0.6, 'equal mean dims: the more accurate point');
});

test('on random tables, the dims used never decrease as the threshold rises, and the sweep matches cascade', () => {
  const r = rng(7);
  const n = 200;
  const numClasses = 5;
  const byDim: DimProbs[] = [8, 16, 32, 64].map((dims) => {
    const probs = new Float32Array(n * numClasses);
    for (let i = 0; i < n; i++) {
      const e = Array.from({ length: numClasses }, () => Math.exp(6 * r()));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((x, c) => (probs[i * numClasses + c] = x / s));
    }
    return { dims, probs };
  });
  const labels = Array.from({ length: n }, () => Math.floor(r() * numClasses));
  const thresholds = [0, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9, 1];
  const sweep = cascadeSweep(byDim, numClasses, labels, thresholds);
  let prev: Int32Array = new Int32Array(n);
  thresholds.forEach((t, j) => {
    const c = cascade(byDim, numClasses, t);
    c.dimsUsed.forEach((d, i) => assert.ok(d >= prev[i], `row ${i}: ${prev[i]} then ${d} at threshold ${t}`));
    prev = c.dimsUsed;
    const correct = c.predictions.filter((p, i) => p === labels[i]).length;
    assert.equal(sweep[j].accuracy, correct / n);
    assert.ok(Math.abs(sweep[j].meanDims - c.dimsUsed.reduce((a, b) => a + b, 0) / n) < 1e-9);
  });
  assert.ok(sweep[0].meanDims === 8 && sweep[thresholds.length - 1].meanDims === 64);
  assert.ok(new Set(sweep.map((p) => p.meanDims)).size > 3, 'the thresholds in between use a mix of heads');
});

test('bad tables, labels and thresholds are refused with VALIDATION', () => {
  const code = { code: 'VALIDATION' };
  for (const t of [-0.1, 1.1, Number.NaN]) assert.throws(() => cascade(BY_DIM, C, t), code, `threshold ${t}`);
  assert.throws(() => cascadeSweep(BY_DIM, C, LABELS, [0.5, 2]), code);
  assert.throws(() => cascade([], C, 0.5), code);
  assert.throws(() => cascade([BY_DIM[1], BY_DIM[0]], C, 0.5), code, 'dims not ascending');
  assert.throws(() => cascade([BY_DIM[0], BY_DIM[0]], C, 0.5), code, 'dims repeated');
  assert.throws(() => cascade([BY_DIM[0], { dims: 8, probs: BY_DIM[1].probs.subarray(3) }], C, 0.5), code, 'row counts differ');
  assert.throws(() => cascade(BY_DIM, 5, 0.5), code, 'not a multiple of numClasses');
  assert.throws(() => cascade([table(4, [[0.5, 0.5, 0.5]])], C, 0.5), code, 'row does not sum to 1');
  assert.throws(() => cascade([table(4, [[1.5, -0.5, 0]])], C, 0.5), code, 'not probabilities');
  assert.throws(() => fixedDimAccuracy(BY_DIM, C, [0, 1, 2]), code, 'too few labels');
  assert.throws(() => cascadeSweep(BY_DIM, C, [0, 1, 3, 1], [0.5]), code, 'label out of range');
  assert.throws(() => dimsForAccuracy([], Number.NaN), code);
});
