import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { rng } from '../helpers.js';

function vec(r: () => number, d: number): Float32Array {
  return Float32Array.from({ length: d }, () => r() - 0.5);
}

test('rows keep the first R values; norms are prefix norms', () => {
  const m = new ResidentMatrix(4, [2, 8], 2);
  m.add(7, new Float32Array([3, 4, 0, 12, 99, 99, 99, 99]));
  assert.equal(m.size, 1);
  assert.deepEqual(Array.from(m.data.subarray(0, 4)), [3, 4, 0, 12]);
  assert.equal(m.norm(0, 2), 5); // nesting dim: stored
  assert.equal(m.norm(0, 4), 13); // R: stored
  assert.equal(m.norm(0, 3), 5); // other dims: computed
  assert.deepEqual(m.normDims, [2, 4]);
});

test('remove keeps rows dense by moving the last row into the hole', () => {
  const r = rng(1);
  const m = new ResidentMatrix(8, [4, 8], 2);
  const vs = new Map<number, Float32Array>();
  for (let s = 1; s <= 50; s++) {
    const v = vec(r, 8);
    vs.set(s, v);
    m.add(s, v);
  }
  for (const s of [1, 17, 50, 33, 2]) {
    assert.equal(m.remove(s), true);
    vs.delete(s);
  }
  assert.equal(m.remove(17), false);
  assert.equal(m.size, vs.size);
  for (const [s, v] of vs) {
    const slot = m.slotOf(s)!;
    assert.equal(m.slotSeq[slot], s);
    assert.deepEqual(m.data.subarray(slot * 8, slot * 8 + 8), v);
    assert.ok(Math.abs(m.norm(slot, 4) - Math.hypot(...v.subarray(0, 4))) < 1e-5);
  }
});

test('gather and scaleAll give 1/||row[0:d]|| for stored and computed dims', () => {
  const r = rng(2);
  const m = new ResidentMatrix(16, [4, 8, 16]);
  const vs: Float32Array[] = [];
  for (let s = 0; s < 20; s++) {
    vs.push(vec(r, 32));
    m.add(s + 100, vs[s]);
  }
  for (const d of [4, 5, 16]) {
    const { rows, scale } = m.gather([3, 0, 19], d);
    assert.equal(rows.length, 3 * d);
    assert.deepEqual(rows.subarray(0, d), vs[3].subarray(0, d));
    assert.ok(Math.abs(scale[1] - 1 / Math.hypot(...vs[0].subarray(0, d))) < 1e-5);
    const all = m.scaleAll(d);
    assert.equal(all.length, 20);
    assert.ok(Math.abs(all[19] - 1 / Math.hypot(...vs[19].subarray(0, d))) < 1e-5);
  }
  assert.throws(() => m.gather([0], 17), RangeError);
});

test('scaleAll is recomputed after a change', () => {
  const m = new ResidentMatrix(2, [2]);
  m.add(1, new Float32Array([3, 4]));
  assert.equal(m.scaleAll(2)[0], Math.fround(1 / 5));
  m.add(1, new Float32Array([0, 2]));
  assert.equal(m.scaleAll(2)[0], 0.5);
  m.add(2, new Float32Array([0, 0]));
  assert.equal(m.scaleAll(2)[1], 0); // zero rows score 0, never NaN
});
