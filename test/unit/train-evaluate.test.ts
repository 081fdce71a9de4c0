import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '../../src/encoders/tf-backend.js';
import { queryFigures } from '../../src/core/retrieval-metrics.js';
import { normalizedPrefixRows } from '../../src/core/prefix.js';
import { knnFigures } from '../../src/train/evaluate.js';

before(async () => {
  await initTf();
});

test("queryFigures: the paper's mAP@k divides by k, the variant by the number of hits", () => {
  // hits at ranks 1 and 3 of k=4: P@1 = 1, P@3 = 2/3
  const f = queryFigures([7, 1, 7, 2], 7);
  assert.ok(Math.abs(f.ap - (1 + 2 / 3) / 4) < 1e-12);
  assert.ok(Math.abs(f.apHits - (1 + 2 / 3) / 2) < 1e-12);
  assert.equal(f.precision, 0.5);
  assert.equal(f.top1, 1);
  const none = queryFigures([1, 2], 7);
  assert.deepEqual(none, { ap: 0, apHits: 0, precision: 0, top1: 0 });
});

test('normalizedPrefixRows truncates first, then normalises', () => {
  const rows = normalizedPrefixRows(new Float32Array([3, 4, 12, 0, 0, 0]), 2, 3, 2);
  assert.deepEqual(Array.from(rows), [Math.fround(0.6), Math.fround(0.8), 0, 0]);
});

test('knnFigures ranks by cosine at the prefix: truncate, THEN normalise', async () => {
  // Query [1, 0, 0] at d=2. Row A's prefix [1, 0] is parallel to it, but A's third value is huge:
  // normalising the full vector first would shrink A's prefix to [0.01, 0] and let row B win.
  const db = new Float32Array([
    1,
    0,
    100, // A, label 1
    1,
    0.5,
    0, // B, label 0
  ]);
  const queries = new Float32Array([1, 0, 0]);
  const f = await knnFigures({ db, dbLabels: [1, 0], queries, queryLabels: [1], dim: 3 }, [2, 3], 1);
  assert.equal(f.knn1[2], 1, 'A is the 1-NN at d=2');
  assert.equal(f.map1[2], 1);
  assert.equal(f.knn1[3], 0, 'at d=3 the huge third value makes B the 1-NN');
  // Norms must not matter: B scaled by 1000 still loses at d=2.
  const scaled = new Float32Array([1, 0, 100, 1000, 500, 0]);
  const g = await knnFigures({ db: scaled, dbLabels: [1, 0], queries, queryLabels: [1], dim: 3 }, [2], 1);
  assert.equal(g.knn1[2], 1);
});
