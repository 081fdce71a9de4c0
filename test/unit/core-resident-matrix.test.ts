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

/** Every block's stamp, in order. */
function stamps(m: ResidentMatrix): number[] {
  return Array.from({ length: Math.ceil(m.size / m.blockRows) + 1 }, (_, b) => m.blockVersion(b));
}

/** Indices of the blocks whose stamp differs between two readings. */
function changed(before: number[], after: number[]): number[] {
  return after.flatMap((v, b) => (v !== (before[b] ?? 0) ? [b] : []));
}

test('block stamps: an add stamps the block of the slot written, with the new version', () => {
  const r = rng(3);
  const m = new ResidentMatrix(4, [4], 2, { blockRows: 4 });
  assert.equal(m.blockRows, 4);
  for (let s = 0; s < 10; s++) {
    const before = stamps(m);
    m.add(s, vec(r, 4));
    assert.deepEqual(changed(before, stamps(m)), [Math.floor(s / 4)], `add ${s}`); // slot s = size before the add
    assert.equal(m.blockVersion(Math.floor(s / 4)), m.version);
  }
  // Replacing a row in place stamps its block only (slot 5: block 1), whatever grew meanwhile.
  const before = stamps(m);
  const v0 = m.version;
  m.add(5, vec(r, 4));
  assert.equal(m.version, v0 + 1); // the global version keeps counting every change
  assert.deepEqual(changed(before, stamps(m)), [1]);
  assert.equal(m.rangeVersion(0, 4), m.blockVersion(0));
  assert.equal(m.rangeVersion(0, 10), m.version);
  assert.equal(m.rangeVersion(2, 3), Math.max(m.blockVersion(0), m.blockVersion(1)));
  assert.equal(m.rangeVersion(0, 0), 0);
});

test('block stamps: a remove stamps the freed slot and the moved last row, nothing else', () => {
  const r = rng(4);
  const m = new ResidentMatrix(4, [4], 16, { blockRows: 4 });
  for (let s = 0; s < 14; s++) m.add(s, vec(r, 4)); // blocks 0..3, the last one holding slots 12, 13
  let before = stamps(m);
  m.remove(1); // slot 1 (block 0) takes the last row, slot 13 (block 3)
  assert.deepEqual(changed(before, stamps(m)), [0, 3]);
  assert.equal(m.blockVersion(0), m.version);
  assert.equal(m.blockVersion(3), m.version);
  before = stamps(m);
  m.remove(12); // slot 12 is the last: no move, one block
  assert.deepEqual(changed(before, stamps(m)), [3]);
  before = stamps(m);
  m.remove(6); // slot 6 (block 1) takes slot 11 (block 2)
  assert.deepEqual(changed(before, stamps(m)), [1, 2]);
  before = stamps(m);
  assert.equal(m.remove(6), false);
  assert.deepEqual(changed(before, stamps(m)), []);
});

test('block stamps survive growth, and a bad blockRows is refused', () => {
  const r = rng(5);
  const m = new ResidentMatrix(4, [4], 16, { blockRows: 8 });
  for (let s = 0; s < 8; s++) m.add(s, vec(r, 4));
  const b0 = m.blockVersion(0);
  for (let s = 8; s < 200; s++) m.add(s, vec(r, 4)); // grows several times
  assert.equal(m.blockVersion(0), b0);
  assert.equal(m.blockVersion(24), m.version);
  assert.equal(new ResidentMatrix(4, [4]).blockRows, ResidentMatrix.BLOCK_ROWS);
  assert.throws(() => new ResidentMatrix(4, [4], 16, { blockRows: 0 }), RangeError);
  assert.throws(() => new ResidentMatrix(4, [4], 16, { blockRows: 2.5 }), RangeError);
});
