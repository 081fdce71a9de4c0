import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { autoKernel, createKernel } from '../../src/compute/create-kernel.js';
import type { Kernel, TopK } from '../../src/compute/kernel.js';
import { JsKernel } from '../../src/compute/js-kernel.js';
import { columnStrategy, OnnxKernel } from '../../src/compute/onnx-kernel.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { rng } from '../helpers.js';

const mulberry32 = rng;

interface Case {
  queries: Float32Array;
  B: number;
  rows: Float32Array;
  n: number;
  stride: number;
  d: number;
  rowScale: Float32Array;
}

/** Random unit queries at d; random rows with rowScale = 1/||row[0:d]||, and every 97th row zeroed. */
function randomCase(seed: number, B: number, n: number, stride: number, d: number): Case {
  const rnd = mulberry32(seed);
  const g = () => rnd() * 2 - 1;
  const queries = new Float32Array(B * d);
  for (let b = 0; b < B; b++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (queries[b * d + j] = g()) ** 2;
    for (let j = 0; j < d; j++) queries[b * d + j] /= Math.sqrt(ss);
  }
  const rows = new Float32Array(n * stride);
  const rowScale = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 97 === 96) continue; // zero row, scale 0
    let ss = 0;
    for (let j = 0; j < stride; j++) {
      rows[i * stride + j] = g();
      if (j < d) ss += rows[i * stride + j] ** 2;
    }
    rowScale[i] = 1 / Math.sqrt(ss);
  }
  return { queries, B, rows, n, stride, d, rowScale };
}

/** Float64 scores of every row for query b. */
function naiveScores(c: Case, b: number): Float64Array {
  const out = new Float64Array(c.n);
  for (let i = 0; i < c.n; i++) {
    let s = 0;
    for (let j = 0; j < c.d; j++) s += c.queries[b * c.d + j] * c.rows[i * c.stride + j];
    out[i] = s * c.rowScale[i];
  }
  return out;
}

/** Naive full sort: score descending, then index ascending. */
function naiveTopK(scores: Float64Array, k: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.min(k, scores.length));
}

/** Per query: naive scores, and the same sorted ascending (computed once per case). */
const naiveAll = (c: Case) =>
  Array.from({ length: c.B }, (_, b) => {
    const naive = naiveScores(c, b);
    return { naive, sorted: naive.slice().sort() };
  });

/** Scores as plain numbers with -0 folded into 0 (a negative dot times a zero scale). */
const plain = (xs: ArrayLike<number>) => Array.from(xs, (x) => x + 0);

const run = (kern: Kernel, c: Case, k: number) => kern.topK(c.queries, c.B, c.rows, c.n, c.stride, c.d, c.rowScale, k);

const js = new JsKernel();
const onnxP = createKernel({ backend: 'onnx' });
after(async () => (await onnxP).close());

/** Both results are valid top-k lists for the naive scores, and agree with each other. */
function assertAgree(c: Case, k: number, rj: TopK[], ro: TopK[], label: string, truth = naiveAll(c)): void {
  const kk = Math.min(k, c.n);
  assert.equal(rj.length, c.B, label);
  assert.equal(ro.length, c.B, label);
  for (let b = 0; b < c.B; b++) {
    const { naive, sorted } = truth[b];
    const cutoff = sorted[c.n - kk]; // k-th best true score
    for (const [name, r] of [
      ['js', rj[b]],
      ['onnx', ro[b]],
    ] as const) {
      assert.equal(r.indices.length, kk, `${label} ${name} length`);
      const seen = new Uint8Array(c.n);
      // Messages are built only on failure: these loops run millions of times.
      for (let j = 0; j < kk; j++) {
        const i = r.indices[j];
        let bad = '';
        if (seen[i]++) bad = 'repeated index';
        else if (!(Math.abs(naive[i] - r.scores[j]) <= 1e-5)) bad = `score ${r.scores[j]} is not its index's score ${naive[i]}`;
        else if (j > 0 && !(r.scores[j] <= r.scores[j - 1])) bad = 'not sorted';
        else if (!(r.scores[j] >= cutoff - 1e-5)) bad = 'not in the true top k';
        if (bad) assert.fail(`${label} ${name} b=${b} rank ${j}: ${bad}`);
      }
    }
    for (let j = 0; j < kk; j++) {
      const [ij, io, sj, so] = [rj[b].indices[j], ro[b].indices[j], rj[b].scores[j], ro[b].scores[j]];
      if (!(Math.abs(sj - so) <= 1e-5)) assert.fail(`${label} b=${b} rank ${j}: scores js=${sj} onnx=${so}`);
      if (ij !== io && !(Math.abs(naive[ij] - naive[io]) <= 1e-6))
        assert.fail(`${label} b=${b} rank ${j}: js ${ij} vs onnx ${io}, not a tie`);
    }
  }
}

test('ONNX and JS kernels agree on seeded random data', async () => {
  const onnx = await onnxP;
  // d < stride goes through both ONNX strategies (Slice of the rows; zero-padded queries).
  assert.equal(columnStrategy(7, 5, 48), 'sliced');
  assert.equal(columnStrategy(7, 24, 40), 'padded');
  let seed = 1;
  for (const B of [1, 7, 64]) {
    for (const n of [1, 5, 1000, 20000]) {
      for (const [d, stride] of [
        [5, 48],
        [24, 40],
        [32, 32],
      ]) {
        const c = randomCase(seed++, B, n, stride, d);
        const truth = naiveAll(c);
        // k > n is clamped; at n=20000 it would only repeat k=n, the slowest case.
        for (const k of n > 1000 ? [1, 10, n] : [1, 10, n, n + 3]) {
          const label = `B=${B} n=${n} d=${d} stride=${stride} k=${k}`;
          assertAgree(c, k, await run(js, c, k), await run(onnx, c, k), label, truth);
        }
      }
    }
  }
});

/** Integer-valued data: exact arithmetic in both kernels, so many exact ties. */
function tiedCase(seed: number, B: number, n: number, stride: number, d: number): Case {
  const rnd = mulberry32(seed);
  const int = () => Math.floor(rnd() * 5) - 2;
  const queries = Float32Array.from({ length: B * d }, int);
  const rows = Float32Array.from({ length: n * stride }, int);
  const rowScale = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : i % 2 ? 1 : 0.5));
  return { queries, B, rows, n, stride, d, rowScale };
}

test('ties: both kernels equal a naive full sort exactly, lower index first', async () => {
  const onnx = await onnxP;
  for (const [B, n, stride, d, k] of [
    [3, 2000, 8, 5, 50],
    [2, 500, 6, 6, 500],
    [1, 3000, 4, 2, 1],
    [5, 64, 3, 3, 70],
    [2, 1000, 16, 2, 30],
  ]) {
    const c = tiedCase(B * n + d, B, n, stride, d);
    const [rj, ro] = [await run(js, c, k), await run(onnx, c, k)];
    for (let b = 0; b < B; b++) {
      const naive = naiveScores(c, b);
      const want = naiveTopK(naive, k);
      assert.deepEqual(Array.from(rj[b].indices), want, `js B=${B} n=${n} b=${b}`);
      assert.deepEqual(Array.from(ro[b].indices), want, `onnx B=${B} n=${n} b=${b}`);
      assert.deepEqual(plain(rj[b].scores), plain(want.map((i) => naive[i])));
      assert.deepEqual(plain(ro[b].scores), plain(want.map((i) => naive[i])));
    }
  }
});

test('JS kernel top-k equals a naive full sort on random data', async () => {
  for (const [B, n, k] of [
    [1, 1, 1],
    [4, 300, 7],
    [2, 5000, 1000],
    [3, 257, 300],
  ]) {
    const c = randomCase(n + k, B, n, 20, 17);
    const r = await run(js, c, k);
    for (let b = 0; b < B; b++) {
      const naive = naiveScores(c, b);
      const want = naiveTopK(naive, k);
      assert.deepEqual(Array.from(r[b].indices), want, `B=${B} n=${n} k=${k} b=${b}`);
      want.forEach((i, j) => assert.ok(Math.abs(r[b].scores[j] - naive[i]) <= 1e-6));
    }
  }
});

test('a zero row (rowScale 0) scores 0', async () => {
  const rows = Float32Array.of(0, 0, 0, 9, /**/ 1, 0, 0, 9, /**/ -1, 0, 0, 9);
  const rowScale = Float32Array.of(0, 1, 1);
  for (const kern of [js, await onnxP]) {
    const [r] = await kern.topK(Float32Array.of(1, 0, 0), 1, rows, 3, 4, 3, rowScale, 5);
    assert.deepEqual(Array.from(r.indices), [1, 0, 2], kern.name);
    assert.deepEqual(Array.from(r.scores), [1, 0, -1], kern.name);
  }
});

test('rows and queries may be longer than needed; n = 0 gives empty lists', async () => {
  const c = randomCase(7, 2, 100, 16, 16);
  for (const kern of [js, await onnxP]) {
    const padded = new Float32Array(c.rows.length + 50);
    padded.set(c.rows);
    const r = await kern.topK(c.queries, 2, padded, 100, 16, 16, c.rowScale, 5);
    assert.deepEqual(r, await run(kern, c, 5));
    const empty = await kern.topK(c.queries, 2, c.rows, 0, 16, 16, c.rowScale, 5);
    assert.deepEqual(
      empty.map((e) => e.indices.length),
      [0, 0],
    );
  }
});

test('bad shapes throw RangeError', async () => {
  const c = randomCase(3, 1, 10, 8, 8);
  for (const kern of [js, await onnxP]) {
    await assert.rejects(kern.topK(c.queries, 1, c.rows, 10, 8, 9, c.rowScale, 1), RangeError);
    await assert.rejects(kern.topK(c.queries, 1, c.rows, 11, 8, 8, c.rowScale, 1), RangeError);
    await assert.rejects(kern.topK(c.queries, 1, c.rows, 10, 8, 8, c.rowScale, 0), RangeError);
    await assert.rejects(kern.topK(c.queries, 2, c.rows, 10, 8, 8, c.rowScale, 1), RangeError);
  }
});

test('createKernel: js, auto (routes tiny work to JS, big to ONNX), fallback when ORT fails', async () => {
  assert.equal((await createKernel({ backend: 'js' })).name, 'js');
  const auto = await createKernel({ backend: 'auto', threads: 1 });
  assert.equal(auto.name, 'onnx-cpu');
  assert.equal(auto.fallbackReason, undefined);
  for (const n of [3, 5000]) {
    const c = randomCase(n, 2, n, 32, 32);
    assertAgree(c, 10, await run(js, c, 10), await run(auto, c, 10), `auto n=${n}`);
  }
  await auto.close();
  // Routing, observed through a stand-in for the ONNX kernel.
  let onnxCalls = 0;
  const routed = await autoKernel(
    async () => ({
      name: 'onnx-cpu',
      topK: (...args: Parameters<Kernel['topK']>) => (onnxCalls++, js.topK(...args)),
      rerank: (...args: Parameters<Kernel['rerank']>) => (onnxCalls++, js.rerank(...args)),
      close: async () => {},
    }),
    1000,
  );
  const small = randomCase(9, 2, 10, 50, 50); // 1000 MACs: JS
  await run(routed, small, 3);
  assert.equal(onnxCalls, 0);
  await run(routed, randomCase(9, 2, 11, 50, 50), 3); // 1100 MACs: ONNX
  assert.equal(onnxCalls, 1);
  // A rerank is routed by the multiply-adds of all its queries together.
  const m = new ResidentMatrix(50, [], 16);
  for (let i = 0; i < 16; i++) m.add(i, small.rows.subarray((i % 10) * 50, (i % 10) * 50 + 50));
  const item = (n: number) => ({
    query: small.queries.subarray(0, 50),
    rowIdx: Int32Array.from({ length: n }, (_, i) => i),
    rowScale: new Float32Array(n).fill(1),
    k: 3,
  });
  await routed.rerank(m, [item(12), item(8)], 50); // 1000 MACs: JS
  assert.equal(onnxCalls, 1);
  await routed.rerank(m, [item(12), item(9)], 50); // 1050 MACs: ONNX
  assert.equal(onnxCalls, 2);
  const fb = await autoKernel(async () => {
    throw new Error('cannot load binding');
  });
  assert.equal(fb.name, 'js');
  assert.match(fb.fallbackReason ?? '', /cannot load binding/);
});

test('topKRows and rerank over selected rows equal topK over the same rows gathered, on both kernels', async () => {
  const onnx = await OnnxKernel.create({ threads: 1 });
  const r = mulberry32(99);
  const N = 3000;
  for (const [stride, d, n, B] of [
    [64, 64, 500, 1],
    [64, 48, 700, 3],
    [96, 16, 200, 2],
    [32, 32, 1, 1],
  ]) {
    const matrix = Float32Array.from({ length: N * stride }, () => r() - 0.5);
    const rowIdx = Int32Array.from({ length: n }, () => Math.floor(r() * N));
    const scale = Float32Array.from({ length: n }, () => 0.5 + r());
    scale[0] = 0;
    const queries = Float32Array.from({ length: B * d }, () => r() - 0.5);
    const gathered = new Float32Array(n * d);
    rowIdx.forEach((row, i) => gathered.set(matrix.subarray(row * stride, row * stride + d), i * d));
    const want = await js.topK(queries, B, gathered, n, d, d, scale, 10);
    const resident = new ResidentMatrix(stride, [], N);
    for (let i = 0; i < N; i++) resident.add(i, matrix.subarray(i * stride, (i + 1) * stride));
    const items = Array.from({ length: B }, (_, b) => ({ query: queries.subarray(b * d, (b + 1) * d), rowIdx, rowScale: scale, k: 10 }));
    for (const kernel of [js, onnx]) {
      for (const [how, got] of [
        ['topKRows', await kernel.topKRows(queries, B, matrix, stride, rowIdx, d, scale, 10)],
        ['rerank', await kernel.rerank(resident, items, d)],
      ] as const) {
        assert.equal(got.length, B);
        for (let b = 0; b < B; b++) {
          assert.equal(got[b].indices.length, Math.min(10, n));
          for (let j = 0; j < got[b].scores.length; j++)
            assert.ok(Math.abs(got[b].scores[j] - want[b].scores[j]) < 1e-5, `${kernel.name} ${how} stride=${stride} d=${d}`);
          assert.deepEqual(new Set(got[b].indices), new Set(want[b].indices));
        }
      }
    }
  }
  await assert.rejects(
    onnx.topKRows(new Float32Array(8), 1, new Float32Array(80), 8, Int32Array.of(10), 8, Float32Array.of(1), 1),
    RangeError,
  );
  const m16 = new ResidentMatrix(8, [], 16); // slots 0..15
  await assert.rejects(
    onnx.rerank(m16, [{ query: new Float32Array(8), rowIdx: Int32Array.of(16), rowScale: Float32Array.of(1), k: 1 }], 8),
    RangeError,
  );
  await onnx.close();
});

test("createKernel('gpu') uses a GPU provider where one starts, else falls back to the CPU kernel and says why", async () => {
  const { cudaProviderLibrary } = await import('../../src/compute/gpu/gpu-kernel.js');
  const { existsSync } = await import('node:fs');
  const kernel = await createKernel({ backend: 'gpu', threads: 1 });
  const noGpuHere = cudaProviderLibrary() === null && !existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1');
  if (noGpuHere) {
    assert.equal(kernel.name, 'onnx-cpu');
    assert.match(kernel.fallbackReason ?? '', /cuda: .*; webgpu: /);
  } else {
    assert.ok(['onnx-cuda', 'onnx-webgpu', 'onnx-cpu'].includes(kernel.name));
  }
  // Whichever it is, it computes the same top-k as the reference.
  const c = randomCase(5, 3, 400, 64, 64);
  assertAgree(c, 10, await run(js, c, 10), await run(kernel, c, 10), `gpu backend ${kernel.name}`);
  await kernel.close();
});
