import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsKernel } from '../../src/compute/js-kernel.js';
import type { QuantizedMatrix, RerankMatrix, RowsQuery } from '../../src/compute/kernel.js';
import { nativeRerankAvailable, nativeRerankQuantizedSync, nativeRerankSync, withNativeRerank } from '../../src/compute/native-kernel.js';
import { HALF_TABLE, encodeHalfRow, encodeInt8Row } from '../../src/core/quantize.js';

/** Seeded uniform numbers in [-0.5, 0.5). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const N = 600;
const W = 100;

/** N × W rows on a SharedArrayBuffer (as a pool's matrix), rows 7 and 8 equal (a tie), row 9 zero, some values tiny (f16 subnormals). */
function rows(seed: number): Float32Array {
  const r = rng(seed);
  const data = new Float32Array(new SharedArrayBuffer(N * W * 4));
  for (let i = 0; i < data.length; i++) data[i] = i % 37 === 0 ? r() * 1e-6 : r();
  data.copyWithin(8 * W, 7 * W, 8 * W);
  data.fill(0, 9 * W, 10 * W);
  return data;
}

function items(seed: number, d: number, shortlist: number, k: number): RowsQuery[] {
  const r = rng(seed);
  return Array.from({ length: 20 }, (_, i) => {
    const rowIdx = new Int32Array(shortlist).map(() => Math.floor((r() + 0.5) * N));
    if (i === 0) rowIdx.set([7, 8, 9, 7], 0); // the tie (and a row twice) and the zero row
    const rowScale = new Float32Array(shortlist).map((_, j) => (rowIdx[j] === 9 ? 0 : 0.5 + (r() + 0.5)));
    if (i === 0) rowScale.fill(1, 0, 2).fill(1, 3, 4); // candidates 0, 1 and 3 (rows 7, 8, 7: equal) tie: the earlier first
    const query = new Float32Array(W).map(() => r());
    return { query, rowIdx, rowScale, k };
  });
}

const sameLists = (a: { indices: Int32Array; scores: Float32Array }[], b: typeof a, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(Array.from(a[i].indices), Array.from(b[i].indices), `list ${i}: the same candidates in the same order`);
    for (let j = 0; j < a[i].scores.length; j++) assert.ok(Math.abs(a[i].scores[j] - b[i].scores[j]) <= tol, `list ${i}[${j}]`);
  }
};

test(
  'the native rerank kernels return what the JS kernel returns: f32, int8 and f16 rows, shared memory, ties, a zero scale',
  { skip: !nativeRerankAvailable },
  async () => {
    const js = new JsKernel();
    const data = rows(1);
    const m: RerankMatrix = { data, width: W, size: N, version: 1, blockRows: 64, rangeVersion: () => 1 };
    const codes = new Int8Array(N * W);
    const codeScale = new Float32Array(N);
    const half = new Uint16Array(N * W);
    for (let i = 0; i < N; i++) {
      const row = data.subarray(i * W, (i + 1) * W);
      codeScale[i] = encodeInt8Row(row, W, codes, i * W);
      encodeHalfRow(row, W, half, i * W);
    }
    const int8: QuantizedMatrix = { type: 'int8', width: W, size: N, half: new Uint16Array(0), codes, codeScale };
    const f16: QuantizedMatrix = { type: 'f16', width: W, size: N, half, codes: new Int8Array(0), codeScale: new Float32Array(0) };
    for (const [d, shortlist, k] of [
      [W, 50, 10],
      [37, 200, 25],
      [8, 5, 10], // k above the shortlist
      [1, 30, 3],
    ]) {
      const its = items(d * 7 + shortlist, d, shortlist, k);
      sameLists(nativeRerankSync(m, its, d), await js.rerank(m, its, d), 0);
      sameLists(nativeRerankQuantizedSync(int8, its, d), js.rerankQuantizedSync(int8, its, d), 0);
      sameLists(nativeRerankQuantizedSync(f16, its, d), js.rerankQuantizedSync(f16, its, d), 0);
    }
    // f16 decoding is exact: each decoded value is HALF_TABLE's
    const one: RowsQuery = {
      query: new Float32Array(W).fill(0).fill(1, 0, 1),
      rowIdx: Int32Array.from({ length: N }, (_, i) => i),
      rowScale: new Float32Array(N).fill(1),
      k: N,
    };
    const got = nativeRerankQuantizedSync(f16, [one], 1)[0];
    for (let j = 0; j < got.indices.length; j++)
      assert.ok(got.scores[j] === HALF_TABLE[half[got.indices[j] * W]], `slot ${got.indices[j]}`); // (±0 alike)
    // the wrapped kernel serves reranks natively and keeps its own name and topK
    const wrapped = withNativeRerank(js);
    assert.equal(wrapped.name, 'js');
    sameLists(await wrapped.rerank(m, items(5, W, 40, 10), W), await js.rerank(m, items(5, W, 40, 10), W), 0);
  },
);

test(
  'the native rerank kernels refuse a slot outside the matrix and bad dims, as the JS kernel does',
  { skip: !nativeRerankAvailable },
  () => {
    const data = rows(2);
    const m: RerankMatrix = { data, width: W, size: N, version: 1, blockRows: 64, rangeVersion: () => 1 };
    const bad = (rowIdx: number[]) => [
      { query: new Float32Array(W), rowIdx: Int32Array.from(rowIdx), rowScale: new Float32Array(rowIdx.length).fill(1), k: 3 },
    ];
    assert.throws(() => nativeRerankSync(m, bad([1, N]), W), RangeError);
    assert.throws(() => nativeRerankSync(m, bad([-1]), W), RangeError);
    assert.throws(() => nativeRerankSync(m, bad([1]), W + 1), RangeError);
    const codes = new Int8Array(N * W);
    const int8: QuantizedMatrix = { type: 'int8', width: W, size: N, half: new Uint16Array(0), codes, codeScale: new Float32Array(N) };
    assert.throws(() => nativeRerankQuantizedSync(int8, bad([N + 3]), W), RangeError);
  },
);
