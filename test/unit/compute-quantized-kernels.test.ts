import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsKernel } from '../../src/compute/js-kernel.js';
import type { Kernel, RowsQuery, TopK } from '../../src/compute/kernel.js';
import { OnnxKernel } from '../../src/compute/onnx-kernel.js';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { defer, rng } from '../helpers.js';

const W = 96;
const N = 400;

function matrices(seed: number) {
  const r = rng(seed);
  const vectors = Array.from({ length: N }, () => Float32Array.from({ length: W }, (_, j) => (r() - 0.5) / Math.sqrt(1 + j / 8)));
  const ms = Object.fromEntries(
    (['f32', 'f16', 'int8'] as const).map((type) => {
      const m = new ResidentMatrix(W, [16, 32, W], N, { type });
      vectors.forEach((v, i) => m.add(i + 1, v));
      return [type, m];
    }),
  ) as Record<'f32' | 'f16' | 'int8', ResidentMatrix>;
  return { vectors, ms, r };
}

/** Scores by candidate position (k = n returns every candidate). */
function byPosition(top: TopK, n: number): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  top.indices.forEach((i, j) => (out[i] = top.scores[j]));
  return out;
}

function query(r: () => number, m: ResidentMatrix, d: number, n: number): RowsQuery {
  const q = normalizedPrefix(
    Float32Array.from({ length: W }, () => r() - 0.5),
    d,
  );
  const rowIdx = Int32Array.from({ length: n }, () => Math.floor(r() * N));
  return { query: q, rowIdx, rowScale: m.scales(rowIdx, d), k: n };
}

test('JS kernel: quantised scores agree with float32 within the stated bounds (f16: 2^-11; int8: (s/2)·||q||₁/||row[0:d]|| per row)', async () => {
  const { ms, r } = matrices(11);
  const js = new JsKernel();
  for (const d of [16, 40, W]) {
    for (let t = 0; t < 20; t++) {
      const it = query(r, ms.f32, d, 60);
      const exact = byPosition((await js.rerank(ms.f32, [it], d))[0], 60);
      const half = byPosition((await js.rerankQuantized(ms.f16 as never, [it], d))[0], 60);
      const int8 = byPosition((await js.rerankQuantized(ms.int8 as never, [it], d))[0], 60);
      let q1 = 0;
      for (let j = 0; j < d; j++) q1 += Math.abs(it.query[j]);
      for (let i = 0; i < 60; i++) {
        assert.ok(Math.abs(half[i] - exact[i]) <= 2 ** -11 + 1e-6, `f16 d=${d}: ${half[i]} vs ${exact[i]}`);
        const bound = (ms.int8.codeScale[it.rowIdx[i]] / 2) * q1 * it.rowScale[i] + 1e-6;
        assert.ok(Math.abs(int8[i] - exact[i]) <= bound, `int8 d=${d}: ${int8[i]} vs ${exact[i]} (bound ${bound})`);
      }
    }
  }
});

test('JS kernel: a quantised rerank ranks as topK over its decoded rows, and refuses slots outside the matrix', async () => {
  const { ms, r } = matrices(12);
  const js = new JsKernel();
  for (const type of ['f16', 'int8'] as const) {
    const m = ms[type];
    const it = { ...query(r, m, 32, 50), k: 7 };
    const [top] = await js.rerankQuantized(m as never, [it], 32);
    const { rows } = m.gather(it.rowIdx, 32);
    const [ref] = js.topKSync(it.query, 1, rows, 50, 32, 32, it.rowScale, 7);
    assert.deepEqual(Array.from(top.indices), Array.from(ref.indices), type);
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(top.scores[j] - ref.scores[j]) < 1e-6);
    await assert.rejects(
      js.rerankQuantized(m as never, [{ ...it, rowIdx: Int32Array.of(N), rowScale: Float32Array.of(1) }], 32),
      RangeError,
    );
    await assert.rejects(js.rerankQuantized(m as never, [it], W + 1), RangeError);
  }
});

test("ONNX kernel: quantised reranks equal the JS kernel's (same codes) up to float rounding", async (t) => {
  const onnx: Kernel = await OnnxKernel.create({ threads: 1 });
  defer(t, () => onnx.close());
  const { ms, r } = matrices(13);
  const js = new JsKernel();
  for (const type of ['f16', 'int8'] as const) {
    for (const d of [16, W]) {
      const items = [query(r, ms[type], d, 100), { ...query(r, ms[type], d, 30), k: 10 }];
      const a = await onnx.rerankQuantized!(ms[type] as never, items, d);
      const b = await js.rerankQuantized(ms[type] as never, items, d);
      items.forEach((it, i) => {
        const sa = byPosition(a[i], it.rowIdx.length);
        const sb = byPosition(b[i], it.rowIdx.length);
        assert.equal(a[i].indices.length, Math.min(it.k, it.rowIdx.length));
        for (let j = 0; j < sa.length; j++) if (!Number.isNaN(sb[j])) assert.ok(Math.abs(sa[j] - sb[j]) < 1e-5, `${type} d=${d}`);
        assert.ok(Math.abs(a[i].scores[0] - b[i].scores[0]) < 1e-5);
      });
    }
  }
});
