import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeInt8Row, HALF_TABLE, toHalf } from '../../src/core/quantize.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { rng } from '../helpers.js';

test('f16: a half rounds to within half an ulp (2^-11 relative) in the normal range; 0, ±65504 and subnormals are exact', () => {
  const r = rng(3);
  for (let i = 0; i < 20_000; i++) {
    const x = Math.fround((r() - 0.5) * 2 ** Math.floor(r() * 30 - 14));
    const back = HALF_TABLE[toHalf(x)];
    assert.ok(Math.abs(back - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `${x} → ${back}`);
  }
  assert.equal(HALF_TABLE[toHalf(0)], 0);
  assert.equal(HALF_TABLE[toHalf(65504)], 65504);
  assert.equal(HALF_TABLE[toHalf(1e30)], 65504, 'larger finite values clamp, never Infinity');
  assert.equal(HALF_TABLE[toHalf(-1e30)], -65504);
  assert.equal(HALF_TABLE[toHalf(2 ** -24)], 2 ** -24);
  assert.equal(HALF_TABLE[toHalf(1 + 2 ** -11)], 1, 'a tie rounds to even');
  assert.equal(HALF_TABLE[toHalf(1 + 3 * 2 ** -11)], 1 + 2 ** -9, 'a tie rounds to even (up)');
});

test('int8: every value is within half a step (scale / 2) of its code times the row scale; a zero row has scale 0', () => {
  const r = rng(5);
  const w = 96;
  const codes = new Int8Array(w);
  for (let t = 0; t < 200; t++) {
    const v = Float32Array.from({ length: w }, () => (r() - 0.5) * 10 ** (r() * 4 - 2));
    const s = encodeInt8Row(v, w, codes, 0);
    let max = 0;
    for (const x of v) max = Math.max(max, Math.abs(x));
    assert.ok(Math.abs(s - max / 127) <= 1e-6 * max);
    for (let j = 0; j < w; j++) assert.ok(Math.abs(codes[j] * s - v[j]) <= s / 2 + 1e-7 * max, `j=${j}`);
  }
  assert.equal(encodeInt8Row(new Float32Array(w), w, codes, 0), 0);
});

test('quantised matrices hold ÷2 (f16) and ÷4 (int8) of the float32 row bytes and survive removes and growth', () => {
  const r = rng(9);
  const w = 48;
  const rows = Array.from({ length: 300 }, () => Float32Array.from({ length: w }, () => r() - 0.5));
  const ms = (['f32', 'f16', 'int8'] as const).map((type) => new ResidentMatrix(w, [16, w], 16, { type }));
  for (const m of ms) {
    rows.forEach((v, i) => m.add(i + 1, v));
    for (let i = 1; i <= 300; i += 3) m.remove(i);
  }
  const [f32, f16, int8] = ms;
  assert.equal(f16.breakdown.rows * 2, f32.breakdown.rows);
  assert.equal(int8.breakdown.rows * 4, f32.breakdown.rows);
  assert.equal(int8.breakdown.norms, f32.breakdown.norms + int8.codeScale.byteLength);
  for (const m of ms) {
    assert.equal(m.size, 200);
    for (let seq = 1; seq <= 300; seq++) {
      const slot = m.slotOf(seq);
      if ((seq - 1) % 3 === 0) {
        assert.equal(slot, undefined);
        continue;
      }
      assert.ok(slot !== undefined);
      const got = m.row(slot);
      const want = rows[seq - 1];
      const tol = m.type === 'f32' ? 0 : m.type === 'f16' ? 2 ** -11 * 0.5 + 1e-7 : m.codeScale[slot] / 2 + 1e-7;
      for (let j = 0; j < w; j++) assert.ok(Math.abs(got[j] - want[j]) <= tol, `${m.type} seq ${seq} j ${j}`);
      // prefix norms stay those of the float32 vector
      let s = 0;
      for (let j = 0; j < 16; j++) s += want[j] * want[j];
      assert.ok(Math.abs(m.norm(slot, 16) - Math.sqrt(s)) < 1e-6);
    }
  }
});
