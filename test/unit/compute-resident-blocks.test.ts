import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWindowKernel } from '../../src/compute/gpu/batch-window.js';
import { JsKernel } from '../../src/compute/js-kernel.js';
import type { Kernel, RerankMatrix, TopK } from '../../src/compute/kernel.js';
import { OnnxKernel } from '../../src/compute/onnx-kernel.js';
import { ResidentKernel } from '../../src/compute/gpu/resident-kernel.js';
import type { ResidentOptions } from '../../src/compute/gpu/resident-options.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { runStages } from '../../src/search/run-stages.js';
import { StageContext } from '../../src/search/stage-context.js';
import { DataContext } from '../../src/data-context.js';
import { defer, mrlLikeVectors, rng, tempDir } from '../helpers.js';

// The device-resident path, forced onto onnxruntime's CPU execution provider: the same graphs,
// sessions and bookkeeping as with a GPU provider, checked against the kernels without it.

const js = new JsKernel();
const onnxP = OnnxKernel.create({ threads: 1 });
after(async () => (await onnxP).close());

const W = 24; // resident width
const SEG = 64; // rows per segment (blocks of 16 rows)

/** A resident kernel over its own ONNX kernel on the CPU provider, closed when the test ends. */
async function residentKernel(t: Parameters<typeof defer>[0], opts: Partial<ResidentOptions> = {}): Promise<ResidentKernel> {
  const k = new ResidentKernel(await OnnxKernel.create({ threads: 1 }), {
    executionProviders: ['cpu'],
    segmentRows: SEG,
    settleMs: 60_000,
    ...opts,
  });
  defer(t, () => k.close());
  return k;
}

function randomVec(r: () => number, d = W): Float32Array {
  return Float32Array.from({ length: d }, () => r() - 0.5);
}

/** A matrix of n rows (seqs 1000..), blocks of 16 rows. */
function matrix(n: number, seed: number): { m: ResidentMatrix; r: () => number } {
  const r = rng(seed);
  const m = new ResidentMatrix(W, [8, 16, W], 16, { blockRows: 16 });
  for (let i = 0; i < n; i++) m.add(1000 + i, randomVec(r));
  return { m, r };
}

/** A shortlist of distinct slots in random order. */
function shortlist(r: () => number, size: number, n: number): Int32Array {
  const all = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return Int32Array.from(all.slice(0, n));
}

/** The rerank of one query over `slots`. */
async function rerank1(
  k: Kernel,
  m: RerankMatrix,
  query: Float32Array,
  slots: Int32Array,
  d: number,
  scale: Float32Array,
  topk: number,
): Promise<TopK> {
  const [top] = await k.rerank(m, [{ query, rowIdx: slots, rowScale: scale, k: topk }], d);
  return top;
}

/** Same lengths, scores within 1e-5, the same index at every rank unless the two scores tie to 1e-5. */
function assertSame(got: TopK, want: TopK, label: string): void {
  assert.equal(got.indices.length, want.indices.length, `${label}: length`);
  for (let j = 0; j < want.indices.length; j++) {
    const [gs, ws] = [got.scores[j], want.scores[j]];
    if (!(Math.abs(gs - ws) <= 1e-5)) assert.fail(`${label} rank ${j}: score ${gs} vs ${ws}`);
    if (got.indices[j] !== want.indices[j] && !(Math.abs(gs - ws) <= 1e-5))
      assert.fail(`${label} rank ${j}: index ${got.indices[j]} vs ${want.indices[j]}`);
  }
}

/** The rerank of `slots` at prefix d: resident path, plain ONNX and JS; asserts they agree, returns the first. */
async function rerankAgrees(
  k: Kernel,
  m: ResidentMatrix,
  q: Float32Array,
  slots: Int32Array,
  d: number,
  topk: number,
  label: string,
): Promise<TopK> {
  const query = normalizedPrefix(q, d);
  const scale = m.scales(slots, d);
  const got = await rerank1(k, m, query, slots, d, scale, topk);
  const [onnx] = await (await onnxP).topKRows(query, 1, m.data, m.width, slots, d, scale, topk);
  const [ref] = await js.topKRows(query, 1, m.data, m.width, slots, d, scale, topk);
  assertSame(got, onnx, `${label} vs onnx`);
  assertSame(got, ref, `${label} vs js`);
  return got;
}

/** Polls until cond() holds (builds run on the kernel's own timer), failing after 10 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(10);
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test('reranks over sealed segments, the tail and a stale segment equal the ONNX and JS kernels', async (t) => {
  const k = await residentKernel(t);
  const { m, r } = matrix(300, 1); // segments 0..3 full (256 rows), a tail of 44
  assert.equal(await k.segments.buildAll(m), 4);
  assert.deepEqual(
    { ...k.segments.stats(), lastError: null },
    { segments: 4, bytes: 4 * SEG * W * 4, pending: 0, sessions: 4, builds: 4, runs: 0, failures: 0, lastError: null },
  );
  // Segment 1 changes after it was baked: slot 70 now holds the query itself, the best row at any prefix.
  const q = randomVec(r);
  m.add(m.slotSeq[70], q);
  for (const d of [8, 13, W]) {
    for (const [n, topk] of [
      [300, 10],
      [120, 500],
      [40, 1],
      [1, 3],
    ]) {
      const slots = n === 1 ? Int32Array.of(70) : shortlist(r, 300, n);
      if (n === 300) slots.set([70], 0);
      const got = await rerankAgrees(k, m, q, slots, d, topk, `d=${d} n=${n} k=${topk}`);
      if (n === 300) assert.equal(slots[got.indices[0]], 70, 'the stale segment was not used: the rewritten row ranks first');
    }
  }
  const s = k.segments.stats();
  assert.ok(s.runs > 0, 'sealed segments ran');
  assert.equal(s.segments, 3, 'the stale segment is not counted as current');
  assert.equal(s.pending, 1, 'the stale segment is wanted for a rebuild');
});

test('integer rows (exact arithmetic, many ties): the merged order equals a single kernel call exactly', async (t) => {
  const k = await residentKernel(t);
  const r = rng(2);
  const m = new ResidentMatrix(W, [W], 16, { blockRows: 16 });
  const int = () => Math.floor(r() * 3) - 1;
  for (let i = 0; i < 200; i++) m.add(i, Float32Array.from({ length: W }, int));
  await k.segments.buildAll(m);
  const q = Float32Array.from({ length: W }, int);
  const slots = shortlist(r, 200, 180);
  const ones = new Float32Array(slots.length).fill(1);
  for (const d of [5, W]) {
    const got = await rerank1(k, m, q.subarray(0, d), slots, d, ones, 60);
    const [want] = await (await onnxP).topKRows(q.subarray(0, d), 1, m.data, W, slots, d, ones, 60);
    const [ref] = await js.topKRows(q.subarray(0, d), 1, m.data, W, slots, d, ones, 60);
    assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `d=${d}`);
    assert.deepEqual(Array.from(got.indices), Array.from(ref.indices), `d=${d}`);
    assert.deepEqual(
      Array.from(got.scores, (x) => x + 0),
      Array.from(ref.scores, (x) => x + 0),
    );
  }
  assert.ok(k.segments.stats().runs >= 2);
});

test('deletes that move rows: stale segments are not used, results stay right, and they are rebuilt', async (t) => {
  const k = await residentKernel(t, { settleMs: 0 });
  const { m, r } = matrix(260, 3); // segments 0..3 full, tail of 4
  await k.segments.buildAll(m);
  const q = randomVec(r);
  // The last row becomes the query, then a delete in segment 0 moves it into slot 5.
  m.add(m.slotSeq[259], q);
  m.remove(m.slotSeq[5]);
  assert.equal(m.slotOf(1259), 5);
  const before = k.segments.stats().builds;
  const slots = shortlist(r, m.size, 200);
  if (!slots.includes(5)) slots[0] = 5;
  const got = await rerankAgrees(k, m, q, slots, W, 10, 'after the move');
  assert.equal(slots[got.indices[0]], 5, 'segment 0 was stale and not used: the moved row ranks first');
  // Segment 3 (slots 192..255) is still full and current; the rebuild of segment 0 follows on the timer.
  await until(() => k.segments.stats().builds > before && k.segments.stats().pending === 0, 'the rebuild');
  const seg0 = k.segments.acquire(m, 0);
  assert.ok(seg0, 'segment 0 rebuilt and current');
  k.segments.release(seg0);
  const runs = k.segments.stats().runs;
  const all = Int32Array.from({ length: m.size }, (_, i) => i);
  const top = await rerankAgrees(k, m, q, all, W, 5, 'after the rebuild');
  assert.equal(top.indices[0], 5, 'the moved row, scored from the rebuilt segment');
  assert.equal(k.segments.stats().runs, runs + 4, 'one run per full segment');
  // Shrinking below segment 3's end: it is no longer full, so no longer used, and released.
  for (let i = 0; i < 10; i++) m.remove(m.slotSeq[m.size - 1]);
  assert.equal(k.segments.acquire(m, 3), null);
  await rerankAgrees(
    k,
    m,
    q,
    Int32Array.from({ length: m.size }, (_, i) => i),
    16,
    20,
    'after shrinking',
  );
  await until(() => k.segments.stats().segments === 3, 'segment 3 released');
});

test('concurrent reranks through the batching window: one launch, one run per segment, same results', async (t) => {
  const k = await residentKernel(t);
  const w = new BatchWindowKernel(k, { windowUs: 5000, maxBatch: 64 });
  const { m, r } = matrix(200, 4); // segments 0..2, tail of 8
  await k.segments.buildAll(m);
  const d = 16;
  // Shortlists of 130..180 rows: one padding bucket, so one group.
  const calls = Array.from({ length: 6 }, (_, i) => ({
    q: randomVec(r),
    slots: shortlist(r, 200, 130 + 10 * i),
    k: [1, 5, 10, 50, 200, 7][i],
  }));
  const got = await Promise.all(calls.map((c) => rerank1(w, m, normalizedPrefix(c.q, d), c.slots, d, m.scales(c.slots, d), c.k)));
  assert.equal(w.stats().launches, 1);
  assert.equal(k.segments.stats().runs, 3, 'the six queries shared one run per segment');
  for (const [i, c] of calls.entries()) {
    const query = normalizedPrefix(c.q, d);
    const [want] = await js.topKRows(query, 1, m.data, W, c.slots, d, m.scales(c.slots, d), c.k);
    assertSame(got[i], want, `call ${i}`);
  }
  // One rerank call carrying all six queries: the same, in one run per segment as well.
  const runs = k.segments.stats().runs;
  const together = await k.rerank(
    m,
    calls.map((c) => ({ query: normalizedPrefix(c.q, d), rowIdx: c.slots, rowScale: m.scales(c.slots, d), k: c.k })),
    d,
  );
  assert.equal(k.segments.stats().runs, runs + 3);
  together.forEach((t, i) => assertSame(t, got[i], `together ${i}`));
  await w.close();
});

test('a segment run that fails is retired and its rows scored on the host', async (t) => {
  const k = await residentKernel(t);
  const { m, r } = matrix(128, 5);
  await k.segments.buildAll(m);
  const seg = k.segments.acquire(m, 1)!;
  await seg.session.release(); // the device copy is gone under the kernel's feet
  k.segments.release(seg);
  const q = randomVec(r);
  await rerankAgrees(
    k,
    m,
    q,
    Int32Array.from({ length: 128 }, (_, i) => i),
    W,
    10,
    'with a broken segment',
  );
  const s = k.segments.stats();
  assert.equal(s.failures, 1);
  assert.ok(s.lastError);
  assert.equal(s.segments, 1);
});

test('idle matrices lose their sessions; close() releases every session and leaves no timer', async (t) => {
  const k = await residentKernel(t, { idleMs: 50 });
  const { m, r } = matrix(256, 6);
  await k.segments.buildAll(m);
  await rerankAgrees(k, m, randomVec(r), shortlist(r, 256, 100), W, 10, 'warm');
  assert.equal(k.segments.stats().sessions, 4);
  assert.ok(k.segments.scheduled, 'a sweep is scheduled while sessions exist');
  await until(() => k.segments.stats().sessions === 0, 'the idle matrix to be evicted');
  assert.equal(k.segments.stats().segments, 0);

  const k2 = await residentKernel(t, { settleMs: 0 });
  const { m: m2, r: r2 } = matrix(200, 7);
  await k2.segments.buildAll(m2);
  m2.add(m2.slotSeq[3], randomVec(r2)); // stale: a rebuild gets wanted by the next rerank
  const pending = rerank1(
    k2,
    m2,
    normalizedPrefix(randomVec(r2), W),
    Int32Array.from({ length: 200 }, (_, i) => i),
    W,
    m2.scales(
      Array.from({ length: 200 }, (_, i) => i),
      W,
    ),
    10,
  );
  assert.ok(k2.segments.scheduled);
  await k2.close(); // waits for the rerank in flight and the build the timer may have started
  await pending;
  assert.equal(k2.segments.stats().sessions, 0);
  assert.equal(k2.segments.stats().segments, 0);
  assert.equal(k2.segments.scheduled, false);
  await assert.rejects(rerank1(k2, m2, new Float32Array(W), Int32Array.of(0), W, Float32Array.of(1), 1), /closed/);
  await k2.close(); // twice is fine
});

test('a write while a segment is being copied (a slice per event-loop turn) discards the copy', async (t) => {
  const k = await residentKernel(t, { segmentRows: 2048 });
  const r = rng(10);
  const m = new ResidentMatrix(1024, [1024], 2048); // one segment of 8 MiB: copied in two slices
  for (let i = 0; i < 2048; i++) m.add(i, randomVec(r, 1024));
  const building = k.segments.buildAll(m);
  setImmediate(() => m.add(2000, randomVec(r, 1024))); // runs between the two slices
  assert.equal(await building, 0);
  assert.deepEqual([k.segments.stats().builds, k.segments.stats().sessions], [0, 0], 'a torn copy never reaches ORT');
  assert.equal(await k.segments.buildAll(m), 1);
  await rerankAgrees(k, m, randomVec(r, 1024), shortlist(r, 2048, 300), 1024, 10, 'after the retry');
  assert.equal(k.segments.stats().runs, 1);
});

test('maxBytes caps the rows held in sessions', async (t) => {
  const k = await residentKernel(t, { maxBytes: 2 * SEG * W * 4 });
  const { m, r } = matrix(300, 9);
  assert.equal(await k.segments.buildAll(m), 2);
  assert.equal(k.segments.stats().bytes, 2 * SEG * W * 4);
  await rerankAgrees(
    k,
    m,
    randomVec(r),
    Int32Array.from({ length: 300 }, (_, i) => i),
    W,
    10,
    'two segments on the device, the rest on the host',
  );
  assert.equal(k.segments.stats().runs, 2);
});

test('bad arguments reject with RangeError before anything runs', async (t) => {
  const k = await residentKernel(t);
  const { m } = matrix(100, 8);
  await assert.rejects(rerank1(k, m, new Float32Array(W), Int32Array.of(m.data.length), W, Float32Array.of(1), 1), RangeError);
  await assert.rejects(rerank1(k, m, new Float32Array(W), Int32Array.of(0), W + 1, Float32Array.of(1), 1), RangeError);
  await assert.rejects(rerank1(k, m, new Float32Array(W), Int32Array.of(0, 1), W, Float32Array.of(1), 1), RangeError);
  await assert.rejects(rerank1(k, m, new Float32Array(W), Int32Array.of(0), W, Float32Array.of(1), 0), RangeError);
});

test('engine: searches with resident segments equal searches without, through ingest, delete and re-upsert', async (t) => {
  /** Counts reranks, and runs `during` once right after a rerank has taken its segments and launched. */
  class Hooked extends ResidentKernel {
    calls = 0;
    during: (() => void) | null = null;
    override rerank(...a: Parameters<ResidentKernel['rerank']>) {
      this.calls++;
      const p = super.rerank(...a);
      const hook = this.during;
      this.during = null;
      hook?.();
      return p;
    }
  }
  const kernel = new Hooked(await OnnxKernel.create({ threads: 1 }), { executionProviders: ['cpu'], segmentRows: 1024, settleMs: 0 });
  defer(t, () => kernel.close());
  const data = await DataContext.open({ dataDir: tempDir(t), kernel });
  defer(t, () => data.close());
  const engine = data.engine;
  const DIM = 32;
  engine.createCollection({ name: 'docs', dim: DIM, indexDim: 8, rerankDim: DIM, residentDim: DIM });
  const { vectors } = mrlLikeVectors(4200, DIM, 11);
  const item = (i: number, v = vectors[i]) => ({ id: `v${i}`, vector: v });
  for (let i = 0; i < 3000; i += 1000)
    await engine.upsert(
      'docs',
      Array.from({ length: 1000 }, (_, j) => item(i + j)),
    );
  const rt = engine.runtime('docs');
  const m = rt.matrix;
  assert.equal(m.blockRows, 1024);
  const plain = await onnxP;
  const optionSets = [
    { shortlist: 2500, rerank: DIM, k: 20 },
    {
      funnel: [
        { dims: 8, keep: 2000 },
        { dims: 16, keep: 400 },
        { dims: DIM, keep: 10 },
      ],
    },
  ];
  /** engine.search (the resident kernel) against the same stages run by the plain ONNX and JS kernels. */
  const compare = async (label: string) => {
    for (const qi of [0, 7, 1234, 2999]) {
      for (const opts of optionSets) {
        const got = await engine.search('docs', { vector: vectors[qi] }, opts);
        const stages = engine.plan(rt, opts).stages;
        for (const ref of [plain, js]) {
          const want = await runStages(
            new StageContext({ source: rt, vectors: engine.items, kernel: ref }, Float32Array.from(vectors[qi])),
            stages,
          );
          const ids = engine.items.getBySeqs(want.seqs);
          const tag = `${label} q=${qi} ${JSON.stringify(opts).slice(0, 20)} ${ref.name}`;
          assert.equal(got.results.length, want.seqs.length, tag);
          assert.deepEqual(
            got.results.map((r) => r.id),
            want.seqs.slice(0, got.results.length).map((s) => ids.get(s)!.id),
            tag,
          );
          got.results.forEach((r, j) => assert.ok(Math.abs(r.score - want.scores[j]) < 1e-5, tag));
        }
      }
    }
  };
  assert.equal(await kernel.segments.buildAll(m), 2); // 3000 rows: two full segments and a tail
  let runs = kernel.segments.stats().runs;
  await compare('after ingest');
  assert.ok(kernel.segments.stats().runs > runs, 'reranks ran on the segments');

  // Deletes move tail rows into both segments: both go stale and are not used until rebuilt.
  await engine.deleteItems(
    'docs',
    Array.from({ length: 150 }, (_, i) => `v${i * 13}`),
  );
  assert.equal(kernel.segments.stats().segments, 0);
  await compare('after delete');
  await until(() => kernel.segments.stats().segments === 2, 'the rebuilds after the deletes');
  runs = kernel.segments.stats().runs;
  await compare('after the rebuild');
  assert.ok(kernel.segments.stats().runs > runs);

  // Re-upsert: new vectors for existing ids (remove + append) and new ids, enough to fill a third segment.
  await engine.upsert(
    'docs',
    Array.from({ length: 200 }, (_, i) => item(100 + i * 7, vectors[3000 + i])),
  );
  await engine.upsert(
    'docs',
    Array.from({ length: 1000 }, (_, i) => item(3200 + i)),
  );
  assert.ok(m.size >= 3 * 1024);
  await compare('after re-upsert');
  await until(() => kernel.segments.stats().segments === 3 && kernel.segments.stats().pending === 0, 'three current segments');
  await compare('after the second rebuild');

  // A delete that moves rows while a rerank runs on the segments: the search sees the matrix
  // version change, retries, and answers from the new state.
  kernel.calls = 0;
  kernel.during = () => void engine.deleteItems('docs', ['v7', 'v8', 'v9', 'v10']);
  const runsBefore = kernel.segments.stats().runs;
  const r = await engine.search('docs', { vector: vectors[7] }, optionSets[0]);
  assert.equal(kernel.during, null, 'the delete ran during the rerank');
  assert.ok(kernel.segments.stats().runs > runsBefore, 'the interrupted rerank had used the segments');
  assert.equal(kernel.calls, 2, 'one retry');
  assert.ok(!r.results.some((x) => ['v7', 'v8', 'v9', 'v10'].includes(x.id)), 'no deleted item comes back');
  const want = await runStages(
    new StageContext({ source: rt, vectors: engine.items, kernel: js }, Float32Array.from(vectors[7])),
    engine.plan(rt, optionSets[0]).stages,
  );
  const ids = engine.items.getBySeqs(want.seqs);
  assert.deepEqual(
    r.results.map((x) => x.id),
    want.seqs.slice(0, r.results.length).map((s) => ids.get(s)!.id),
  );
  await compare('after a write during a search');
});
