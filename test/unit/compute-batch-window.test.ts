import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWindowKernel } from '../../src/compute/gpu/batch-window.js';
import { createKernel } from '../../src/compute/create-kernel.js';
import type { Kernel, RerankMatrix, RowsQuery, TopK } from '../../src/compute/kernel.js';
import { JsKernel } from '../../src/compute/js-kernel.js';
import { OnnxKernel } from '../../src/compute/onnx-kernel.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { rng } from '../helpers.js';

/** A real kernel with its launches counted (and optionally failing), as the window sees it. */
class CountingKernel implements Kernel {
  readonly name: string;
  launches = { topK: 0, rerank: 0 };
  /** Queries per launch, in launch order. */
  sizes: number[] = [];
  constructor(
    private readonly inner: Kernel,
    opts: { fail?: (rows: Float32Array) => boolean } = {},
  ) {
    this.name = inner.name;
    this.fail = opts.fail ?? (() => false);
  }
  private readonly fail: (rows: Float32Array) => boolean;
  async topK(...a: Parameters<Kernel['topK']>): Promise<TopK[]> {
    this.launches.topK++;
    this.sizes.push(a[1]);
    if (this.fail(a[2])) throw new Error('device lost');
    return this.inner.topK(...a);
  }
  rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    this.launches.rerank++;
    this.sizes.push(items.length);
    if (this.fail(matrix.data)) throw new Error('device lost'); // synchronous, on purpose
    return this.inner.rerank(matrix, items, d);
  }
  total(): number {
    return this.launches.topK + this.launches.rerank;
  }
  /** The wrapped kernels are shared by the tests and closed in after(). */
  async close(): Promise<void> {
    this.closed = true;
  }
  closed = false;
}

const js = new JsKernel();
const onnxP = OnnxKernel.create({ threads: 1 });
after(async () => (await onnxP).close());

/** The rows as a resident matrix, what a rerank reads: a copy with room for exactly its n rows (n ≥ 16), so slot n is out of range. */
function residentOf(rows: Float32Array, stride: number): ResidentMatrix {
  const n = rows.length / stride;
  const m = new ResidentMatrix(stride, [], n);
  for (let i = 0; i < n; i++) m.add(i, rows.subarray(i * stride, (i + 1) * stride));
  return m;
}

/** The rerank of one query over rowIdx, as a list of one (the shape topKRows gives for B = 1). */
const rerank1 = (k: Kernel, m: RerankMatrix, query: Float32Array, rowIdx: Int32Array, d: number, rowScale: Float32Array, topk: number) =>
  k.rerank(m, [{ query, rowIdx, rowScale, k: topk }], d);

/** Unit queries at d, rows with rowScale = 1/||row[0:d]||. */
function data(seed: number, B: number, n: number, stride: number, d: number) {
  const r = rng(seed);
  const queries = new Float32Array(B * d);
  for (let b = 0; b < B; b++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += (queries[b * d + j] = r() - 0.5) ** 2;
    for (let j = 0; j < d; j++) queries[b * d + j] /= Math.sqrt(ss);
  }
  const rows = Float32Array.from({ length: n * stride }, () => r() - 0.5);
  const scale = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += rows[i * stride + j] ** 2;
    scale[i] = 1 / Math.sqrt(ss);
  }
  return { queries, rows, scale, r };
}

/** Same lengths, scores within 1e-5, and the same index at every rank unless the two scores tie to 1e-5. */
function assertSame(got: TopK[], want: TopK[], label: string): void {
  assert.equal(got.length, want.length, label);
  for (let b = 0; b < want.length; b++) {
    assert.equal(got[b].indices.length, want[b].indices.length, `${label} b=${b} length`);
    for (let j = 0; j < want[b].indices.length; j++) {
      const [gs, ws] = [got[b].scores[j], want[b].scores[j]];
      if (!(Math.abs(gs - ws) <= 1e-5)) assert.fail(`${label} b=${b} rank ${j}: score ${gs} vs ${ws}`);
      if (got[b].indices[j] !== want[b].indices[j] && !(Math.abs(gs - ws) <= 1e-5))
        assert.fail(`${label} b=${b} rank ${j}: index ${got[b].indices[j]} vs ${want[b].indices[j]}`);
    }
  }
}

const window = (inner: Kernel, windowUs = 5000, maxBatch = 64) => new BatchWindowKernel(inner, { windowUs, maxBatch });

test('concurrent exact scans over one matrix: one launch, results equal the unbatched ones', async () => {
  const onnx = await onnxP;
  for (const [stride, d] of [
    [64, 64],
    [96, 16],
    [80, 48],
  ]) {
    const n = 3000;
    const { queries, rows, scale } = data(stride + d, 12, n, stride, d);
    const counting = new CountingKernel(onnx);
    const w = window(counting);
    // Calls of 1, 2 and 3 queries with different k (one larger than n).
    const calls = [
      [0, 1, 10],
      [1, 2, 5],
      [3, 3, 100],
      [6, 1, 1],
      [7, 2, n + 7],
      [9, 3, 37],
    ] as const;
    const got = await Promise.all(calls.map(([o, B, k]) => w.topK(queries.subarray(o * d, (o + B) * d), B, rows, n, stride, d, scale, k)));
    assert.equal(counting.launches.topK, 1, `stride=${stride} d=${d}`);
    assert.deepEqual(counting.sizes, [12]);
    for (const [i, [o, B, k]] of calls.entries()) {
      const q = queries.subarray(o * d, (o + B) * d);
      assertSame(got[i], await onnx.topK(q, B, rows, n, stride, d, scale, k), `onnx stride=${stride} d=${d} call ${i}`);
      assertSame(got[i], await js.topK(q, B, rows, n, stride, d, scale, k), `js stride=${stride} d=${d} call ${i}`);
    }
    assert.deepEqual({ ...w.stats(), windowUs: 0 }, { windowUs: 0, maxBatch: 64, calls: 6, launches: 1, queries: 12, meanBatchSize: 12 });
    await w.close();
  }
});

test('integer data (exact arithmetic, many ties): batched equals unbatched exactly, lower index first', async () => {
  const onnx = await onnxP;
  const r = rng(5);
  const [n, stride, d, B] = [2000, 8, 6, 9];
  const int = () => Math.floor(r() * 5) - 2;
  const rows = Float32Array.from({ length: n * stride }, int);
  const scale = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : i % 2 ? 1 : 0.5));
  const queries = Float32Array.from({ length: B * d }, int);
  const rowIdx = Int32Array.from({ length: 700 }, () => Math.floor(r() * n));
  const m = residentOf(rows, stride);
  for (const inner of [js, onnx]) {
    const w = window(new CountingKernel(inner));
    const q = (b: number) => queries.subarray(b * d, (b + 1) * d);
    const scans = await Promise.all(Array.from({ length: B }, (_, b) => w.topK(q(b), 1, rows, n, stride, d, scale, 40)));
    const reranks = await Promise.all(
      Array.from({ length: B }, (_, b) => rerank1(w, m, q(b), rowIdx.subarray(0, 600 + b * 10), d, scale, 50)),
    );
    for (let b = 0; b < B; b++) {
      const [s] = await inner.topK(q(b), 1, rows, n, stride, d, scale, 40);
      assert.deepEqual(Array.from(scans[b][0].indices), Array.from(s.indices), `${inner.name} scan ${b}`);
      assert.deepEqual(
        Array.from(scans[b][0].scores, (x) => x + 0),
        Array.from(s.scores, (x) => x + 0),
      );
      const [t] = await inner.topKRows(q(b), 1, rows, stride, rowIdx.subarray(0, 600 + b * 10), d, scale, 50);
      assert.deepEqual(Array.from(reranks[b][0].indices), Array.from(t.indices), `${inner.name} rerank ${b}`);
      assert.deepEqual(
        Array.from(reranks[b][0].scores, (x) => x + 0),
        Array.from(t.scores, (x) => x + 0),
      );
    }
    await w.close();
  }
});

test('concurrent reranks over different rows: one batched-gather launch, results equal the unbatched ones', async () => {
  const onnx = await onnxP;
  const N = 4000;
  // d*2 < stride gathers on the host ('dense'); otherwise ORT gathers ('gather').
  for (const [stride, d] of [
    [64, 64],
    [64, 48],
    [96, 16],
  ]) {
    const { queries, rows: matrix, r } = data(stride * 7 + d, 10, N, stride, d);
    const lists = Array.from({ length: 10 }, (_, i) => {
      // Unequal lengths; two shorter than their k: L=3 (a group of its own) and L=260, which
      // takes all its rows, negative scores included, while the padding after them is masked.
      const L = i === 3 ? 3 : i === 5 ? 260 : 300 + Math.floor(r() * 200);
      return {
        rowIdx: Int32Array.from({ length: L }, () => Math.floor(r() * N)),
        scale: Float32Array.from({ length: L }, () => 0.5 + r()),
        k: i === 5 ? 1000 : [10, 1, 50, 7][i % 4],
      };
    });
    const m = residentOf(matrix, stride);
    const counting = new CountingKernel(onnx);
    const w = window(counting);
    const q = (b: number) => queries.subarray(b * d, (b + 1) * d);
    const got = await Promise.all(lists.map((l, b) => rerank1(w, m, q(b), l.rowIdx, d, l.scale, l.k)));
    // L=3 has bit length 2, the others 9: two groups, two launches (one of a single call).
    assert.deepEqual(counting.launches, { topK: 0, rerank: 2 }, `stride=${stride} d=${d}`);
    assert.deepEqual(
      counting.sizes.sort((a, b) => a - b),
      [1, 9],
    );
    assert.equal(got[3][0].indices.length, 3);
    assert.equal(got[5][0].indices.length, 260);
    for (const [b, l] of lists.entries()) {
      assertSame(got[b], await onnx.topKRows(q(b), 1, matrix, stride, l.rowIdx, d, l.scale, l.k), `onnx stride=${stride} d=${d} b=${b}`);
      assertSame(got[b], await js.topKRows(q(b), 1, matrix, stride, l.rowIdx, d, l.scale, l.k), `js stride=${stride} d=${d} b=${b}`);
    }
    await w.close();
  }
});

test('maxBatch caps a launch; incompatible calls go to separate launches; no multi → one launch per rerank', async () => {
  const onnx = await onnxP;
  const [n, stride, d] = [500, 32, 32];
  const a = data(1, 10, n, stride, d);
  const b = data(2, 10, n, stride, d);
  const counting = new CountingKernel(onnx);
  const w = window(counting, 5000, 4);
  const q = (x: typeof a, i: number) => x.queries.subarray(i * d, (i + 1) * d);
  const tasks: Promise<TopK[]>[] = [];
  for (let i = 0; i < 10; i++) tasks.push(w.topK(q(a, i), 1, a.rows, n, stride, d, a.scale, 5)); // 4 + 4 + 2
  tasks.push(w.topK(q(b, 0), 1, b.rows, n, stride, d, b.scale, 5)); // other rows
  tasks.push(w.topK(q(a, 0).subarray(0, 16), 1, a.rows, n, stride, 16, a.scale, 5)); // other d (same scale buffer)
  tasks.push(w.topK(q(a, 1), 1, a.rows, n - 1, stride, d, a.scale, 5)); // other n
  const got = await Promise.all(tasks);
  assert.equal(counting.launches.topK, 6);
  assert.deepEqual(counting.sizes.slice(0, 2), [4, 4]); // full groups launch at once
  assert.deepEqual(counting.sizes.slice(2).sort(), [1, 1, 1, 2]);
  for (let i = 0; i < 10; i++) assertSame(got[i], await onnx.topK(q(a, i), 1, a.rows, n, stride, d, a.scale, 5), `call ${i}`);
  assertSame(got[10], await onnx.topK(q(b, 0), 1, b.rows, n, stride, d, b.scale, 5), 'other rows');
  assertSame(got[11], await js.topK(q(a, 0).subarray(0, 16), 1, a.rows, n, stride, 16, a.scale, 5), 'other d');
  assertSame(got[12], await js.topK(q(a, 1), 1, a.rows, n - 1, stride, d, a.scale, 5), 'other n');
  await w.close();

  // Over the JS kernel (whose rerank scores one query at a time): still one launch, same results.
  const plain = new CountingKernel(js);
  const w2 = window(plain);
  const idx = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % n);
  const am = residentOf(a.rows, stride);
  const reranks = await Promise.all([0, 1, 2].map((i) => rerank1(w2, am, q(a, i), idx, d, a.scale, 5)));
  assert.deepEqual(plain.launches, { topK: 0, rerank: 1 });
  assert.deepEqual(plain.sizes, [3]);
  for (let i = 0; i < 3; i++) assertSame(reranks[i], await js.topKRows(q(a, i), 1, a.rows, stride, idx, d, a.scale, 5), `rerank ${i}`);
  await w2.close();
});

test('a failing launch rejects only its callers; a bad call rejects alone', async () => {
  const onnx = await onnxP;
  const [n, stride, d] = [300, 16, 16];
  const good = data(3, 4, n, stride, d);
  const poison = data(4, 4, n, stride, d);
  const [goodM, poisonM] = [residentOf(good.rows, stride), residentOf(poison.rows, stride)];
  const counting = new CountingKernel(onnx, { fail: (rows) => rows === poison.rows || rows === poisonM.data });
  const w = window(counting);
  const q = (x: typeof good, i: number) => x.queries.subarray(i * d, (i + 1) * d);
  const idx = Int32Array.from({ length: 50 }, (_, i) => i * 3);
  const results = await Promise.allSettled([
    w.topK(q(good, 0), 1, good.rows, n, stride, d, good.scale, 3),
    w.topK(q(poison, 0), 1, poison.rows, n, stride, d, poison.scale, 3),
    w.topK(q(poison, 1), 1, poison.rows, n, stride, d, poison.scale, 3),
    w.topK(q(good, 1), 1, good.rows, n, stride, d, good.scale, 0), // k = 0: RangeError, alone
    w.topK(q(good, 2), 1, good.rows, n, stride, d, good.scale, 3),
    rerank1(w, poisonM, q(poison, 2), idx, d, poison.scale, 3), // the rerank launch throws synchronously
    rerank1(w, poisonM, q(poison, 3), idx, d, poison.scale, 3),
    rerank1(w, goodM, q(good, 3), Int32Array.of(0, n), d, good.scale, 3), // row n is out of range
  ]);
  assert.deepEqual(
    results.map((x) => x.status),
    ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'rejected', 'rejected', 'rejected'],
  );
  const reason = (i: number) => (results[i] as PromiseRejectedResult).reason;
  for (const i of [1, 2, 5, 6]) assert.match(reason(i).message, /device lost/);
  assert.ok(reason(3) instanceof RangeError);
  assert.ok(reason(7) instanceof RangeError);
  assert.equal(counting.launches.topK, 2); // the good pair, the poison pair
  assert.equal(counting.launches.rerank, 1);
  assertSame(
    (results[4] as PromiseFulfilledResult<TopK[]>).value,
    await onnx.topK(q(good, 2), 1, good.rows, n, stride, d, good.scale, 3),
    'survivor',
  );
  // The window keeps serving after a failure.
  assertSame(
    await w.topK(q(good, 0), 1, good.rows, n, stride, d, good.scale, 3),
    await onnx.topK(q(good, 0), 1, good.rows, n, stride, d, good.scale, 3),
    'after',
  );
  await w.close();
});

const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout' || x === 'Immediate').length;

test('sub-ms and ms windows both close by themselves; close() serves pending calls, clears the timer, rejects later calls', async () => {
  const [n, stride, d] = [100, 8, 8];
  const { queries, rows, scale } = data(6, 2, n, stride, d);
  const want = await js.topK(queries, 1, rows, n, stride, d, scale, 4);
  for (const windowUs of [300, 2000]) {
    const w = window(js, windowUs);
    assertSame(await w.topK(queries, 1, rows, n, stride, d, scale, 4), want, `window ${windowUs} µs`);
    await w.close();
  }
  const before = timers();
  const counting = new CountingKernel(js);
  const w = window(counting, 60_000_000); // a minute: only close() can serve these in time
  const pending = [w.topK(queries, 1, rows, n, stride, d, scale, 4), w.topK(queries.subarray(d), 1, rows, n, stride, d, scale, 4)];
  assert.equal(timers(), before + 1);
  assert.equal(counting.total(), 0);
  await w.close();
  assert.equal(timers(), before);
  assert.equal(counting.total(), 1);
  assert.ok(counting.closed);
  assertSame((await Promise.all(pending))[0], want, 'served at close');
  await assert.rejects(w.topK(queries, 1, rows, n, stride, d, scale, 4), /closed/);
  await w.close(); // twice is fine
});

test('createKernel wraps the kernel when a window is configured; config reads MRL_BATCH_WINDOW_US and MRL_BATCH_MAX', async () => {
  const plain = await createKernel({ backend: 'onnx', threads: 1 });
  assert.equal(plain.batch, undefined);
  await plain.close();
  const batched = await createKernel({ backend: 'onnx', threads: 1, batchWindowUs: 200, batchMax: 8 });
  assert.equal(batched.name, 'onnx-cpu');
  const { queries, rows, scale } = data(7, 3, 1000, 32, 32);
  await Promise.all([0, 1, 2].map((b) => batched.topK(queries.subarray(b * 32, (b + 1) * 32), 1, rows, 1000, 32, 32, scale, 5)));
  assert.deepEqual(batched.batch?.stats(), { windowUs: 200, maxBatch: 8, calls: 3, launches: 1, queries: 3, meanBatchSize: 3 });
  await batched.close();

  // Over 'auto', concurrent reranks reach ONNX's batched graph (or JS for tiny work) through autoKernel.
  const auto = await createKernel({ backend: 'auto', threads: 1, batchWindowUs: 500 });
  const idx = Int32Array.from({ length: 400 }, (_, i) => (i * 13) % 1000);
  const q = (b: number) => queries.subarray(b * 32, (b + 1) * 32);
  const m = residentOf(rows, 32);
  for (const list of [(b: number) => idx.subarray(0, 400 - b), (b: number) => idx.subarray(b, b + 3)]) {
    const got = await Promise.all([0, 1, 2].map((b) => rerank1(auto, m, q(b), list(b), 32, scale, 10)));
    for (let b = 0; b < 3; b++) assertSame(got[b], await js.topKRows(q(b), 1, rows, 32, list(b), 32, scale, 10), `auto b=${b}`);
  }
  assert.equal(auto.batch?.stats().launches, 2);
  await auto.close();

  assert.deepEqual(loadConfig({}).batch, { windowUs: 0, max: 64 });
  assert.deepEqual(loadConfig({ MRL_KERNEL: 'gpu' }).batch, { windowUs: 200, max: 64 });
  assert.deepEqual(loadConfig({ MRL_KERNEL: 'gpu', MRL_BATCH_WINDOW_US: '0', MRL_BATCH_MAX: '16' }).batch, { windowUs: 0, max: 16 });
  assert.throws(() => loadConfig({ MRL_BATCH_WINDOW_US: '-1' }), ConfigError);
  assert.throws(() => loadConfig({ MRL_BATCH_MAX: '0' }), ConfigError);
});
