import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createKernel } from '../../src/compute/create-kernel.js';
import { prefixCosine } from '../../src/core/prefix.js';
import { DataContext } from '../../src/data-context.js';
import { MrlError } from '../../src/errors.js';
import type { SearchOptions } from '../../src/search/options.js';
import type { Query } from '../../src/search/query.js';
import { defer, mrlLikeVectors, tempDir } from '../helpers.js';

const DIM = 48;
const N = 2000;
const FRUIT = ['apple', 'banana', 'cherry', 'damson'];

/** A data dir with `threads` search workers (0: searches in this thread), closed when the test ends. */
async function open(t: TestContext, dataDir: string, threads: number): Promise<DataContext> {
  const kernel = await createKernel({ backend: 'js' });
  defer(t, () => kernel.close());
  const data = await DataContext.open({ dataDir, kernel, searchThreads: threads });
  defer(t, () => data.close());
  return data;
}

const item = (v: number[], i: number, labels: string[]) => ({
  id: `v${i}`,
  vector: v,
  label: labels[i],
  payload: { n: i },
  text: `${FRUIT[i % 4]} ${FRUIT[(i >> 2) % 4]}`,
});

async function ingest(data: DataContext, vectors: number[][], labels: string[]): Promise<void> {
  data.engine.createCollection({ name: 'docs', dim: DIM, indexDim: 12, rerankDim: 32, residentDim: 32, nesting: [12, 24, 32, 48] });
  for (let i = 0; i < vectors.length; i += 500)
    await data.engine.upsert(
      'docs',
      vectors.slice(i, i + 500).map((v, j) => item(v, i + j, labels)),
    );
}

/** Every hit's score is the cosine of the query and the hit's vector at `d` dims. */
function scoresExact(hits: { id: string; score: number }[], q: number[], vectors: Map<string, number[]>, d: number): void {
  for (const h of hits) assert.ok(Math.abs(h.score - prefixCosine(q, vectors.get(h.id)!, d)) < 1e-4, `${h.id}: ${h.score}`);
}

test('the pool returns what the in-thread path returns on the same data, for every search form', async (t) => {
  const dir = tempDir(t);
  const { vectors, labels } = mrlLikeVectors(N, DIM, 3);
  const writer = await open(t, dir, 0);
  await ingest(writer, vectors, labels);
  await writer.close(); // snapshots: both engines below start from the same index
  const forms: [Query, SearchOptions][] = [
    [{ vector: vectors[1] }, { k: 10 }],
    [{ id: 'v7' }, { k: 5 }],
    [
      { vector: vectors[2] },
      {
        funnel: [
          { dims: 12, keep: 200 },
          { dims: 24, keep: 50 },
          { dims: 48, keep: 10 },
        ],
      },
    ],
    [{ vector: vectors[3] }, { exact: true, rerank: 48, k: 8 }],
    [{ vector: vectors[4] }, { k: 10, filter: { 'payload.n': { $lt: 300 } } }],
    [{ vector: vectors[5] }, { k: 10, filter: { label: labels[5] }, filterExactBelow: 0 }],
    [{ vector: vectors[6] }, { k: 10, text: 'banana' }],
    [{}, { k: 10, text: 'cherry' }],
  ];
  const inThread = await open(t, dir, 0);
  const want = [];
  for (const [q, o] of forms) want.push((await inThread.engine.search('docs', q, o)).results);
  await inThread.close();
  const pooled = await open(t, dir, 2);
  assert.ok(pooled.engine.pool);
  for (let i = 0; i < forms.length; i++) {
    const got = (await pooled.engine.search('docs', forms[i][0], forms[i][1])).results;
    assert.deepEqual(got, want[i], `form ${i}: ${JSON.stringify(forms[i][1])}`);
  }
});

test("workers search the main thread's graph: rows are found once each while batches put them in, deleted ones never, and a retune moves the workers to the new graph", async (t) => {
  const { vectors, labels } = mrlLikeVectors(3000, DIM, 8);
  const pooled = await open(t, tempDir(t), 2);
  const alone = await open(t, tempDir(t), 0);
  const gone = new Set<string>();
  for (const data of [pooled, alone])
    data.engine.createCollection({ name: 'docs', dim: DIM, indexDim: 12, rerankDim: 32, residentDim: 32, nesting: [12, 24, 32, 48] });
  const e = pooled.engine;
  const check = async (j: number) => {
    const r = await e.search('docs', { vector: vectors[j] }, { k: 10 });
    const ids = r.results.map((h) => h.id);
    assert.equal(ids[0], `v${j}`, `v${j} finds itself`);
    assert.equal(new Set(ids).size, ids.length, 'each row once (in the graph and still pending in a worker)');
    for (const id of ids) assert.ok(!gone.has(id), `${id} was deleted`);
  };
  for (let i = 0; i < 3000; i += 300) {
    for (const data of [pooled, alone]) {
      await data.engine.upsert(
        'docs',
        vectors.slice(i, i + 300).map((v, j) => item(v, i + j, labels)),
      );
      // Acknowledged, its rows now going into the graph batch by batch: one deleted meanwhile.
      await data.engine.deleteItems('docs', [`v${i + 7}`]);
    }
    gone.add(`v${i + 7}`);
    for (const j of [i, i + 150, i + 299]) await check(j);
  }
  for (const data of [pooled, alone]) await data.engine.drain();
  const same = async (what: string) => {
    for (let q = 0; q < 3000; q += 97) {
      const opts = { k: 10 };
      const got = (await e.search('docs', { vector: vectors[q] }, opts)).results.map((h) => h.id);
      const want = (await alone.engine.search('docs', { vector: vectors[q] }, opts)).results.map((h) => h.id);
      assert.deepEqual(got, want, `${what}: query ${q}`);
    }
  };
  await same('drained'); // the same rows inserted in the same order: the same graph
  for (const data of [pooled, alone]) await data.engine.retune('docs', 24, { shortlist: 100 });
  await same('after a retune to a 24-d graph');
  for (const j of [5, 1234, 2999]) await check(j);
});

test('through the pool, a write and a delete are visible to the next search, and coded errors come back as thrown', async (t) => {
  const data = await open(t, tempDir(t), 2);
  const { vectors, labels } = mrlLikeVectors(600, DIM, 5);
  await ingest(data, vectors, labels);
  const e = data.engine;
  const fresh = Array.from({ length: DIM }, (_, j) => (j % 2 ? 1 : -1) * (1 + j / DIM));
  // A label filter before the write: the workers' in-memory filter columns exist and must follow it.
  for (let i = 0; i < 4; i++) await e.search('docs', { vector: fresh }, { k: 3, filter: { label: labels[0] } });
  await e.upsert('docs', [{ id: 'fresh', vector: fresh, label: 'brand-new', payload: { n: -1 } }]);
  for (let i = 0; i < 4; i++) {
    const byLabel = await e.search('docs', { vector: fresh }, { k: 3, filter: { label: 'brand-new' } });
    assert.deepEqual(
      byLabel.results.map((h) => h.id),
      ['fresh'],
      `label filter ${i} after the write`,
    );
  }
  for (let i = 0; i < 4; i++) {
    const r = await e.search('docs', { vector: fresh }, { k: 3 });
    assert.equal(r.results[0].id, 'fresh', `search ${i} after the write`);
  }
  const filtered = await e.search('docs', { vector: fresh }, { k: 3, filter: { 'payload.n': { $lt: 0 } } });
  assert.deepEqual(
    filtered.results.map((h) => h.id),
    ['fresh'],
  );
  e.patchItem('docs', 'fresh', { payload: { n: 5 }, label: 'patched' });
  assert.deepEqual((await e.search('docs', { vector: fresh }, { k: 1 })).results[0].payload, { n: 5 });
  for (const [label, want] of [
    ['patched', ['fresh']],
    ['brand-new', []],
  ] as const) {
    const r = await e.search('docs', { vector: fresh }, { k: 3, filter: { label } });
    assert.deepEqual(
      r.results.map((h) => h.id),
      want,
      `label ${label} after the patch`,
    );
  }
  await e.deleteItems('docs', ['fresh', 'v0']);
  for (let i = 0; i < 4; i++) {
    const ids = (await e.search('docs', { vector: fresh }, { k: 20 })).results.map((h) => h.id);
    assert.ok(!ids.includes('fresh'), `search ${i} after the delete`);
    const ids0 = (await e.search('docs', { vector: vectors[0] }, { k: 20, exact: true })).results.map((h) => h.id);
    assert.ok(!ids0.includes('v0'));
  }
  await assert.rejects(e.search('docs', { vector: [1, 2] }), (err: MrlError) => err instanceof MrlError && err.code === 'DIM_MISMATCH');
  await assert.rejects(e.search('docs', { id: 'nope' }), (err: MrlError) => err instanceof MrlError && err.code === 'ITEM_NOT_FOUND');
  e.createCollection({ name: 'later', dim: 4 });
  await e.upsert('later', [{ id: 'a', vector: [1, 0, 0, 0] }]);
  assert.equal((await e.search('later', { vector: [1, 0, 0, 0] }, { k: 1 })).results[0].id, 'a');
  await e.dropCollection('later');
  await assert.rejects(e.search('later', { vector: [1, 0, 0, 0] }), (err: MrlError) => err.code === 'COLLECTION_NOT_FOUND');
});

test('a killed worker is replaced and its searches in flight fail with SEARCH_UNAVAILABLE (503); close joins every worker', async (t) => {
  const data = await open(t, tempDir(t), 2);
  const { vectors, labels } = mrlLikeVectors(600, DIM, 9);
  await ingest(data, vectors, labels);
  const pool = data.engine.pool!;
  await data.engine.search('docs', { vector: vectors[0] }); // both workers up
  await data.engine.search('docs', { vector: vectors[1] });
  const gone = pool.crashWorker(0); // it exits at this message: the searches posted to it after never run
  const flying = Array.from({ length: 10 }, (_, i) => data.engine.search('docs', { vector: vectors[i] }, { k: 5 }));
  await gone;
  const settled = await Promise.allSettled(flying);
  const failed = settled.filter((s) => s.status === 'rejected');
  assert.ok(failed.length >= 1 && failed.length < 10, `${failed.length} of 10 failed`);
  for (const f of failed) {
    const err = f.reason as MrlError;
    assert.equal(err.code, 'SEARCH_UNAVAILABLE');
    assert.equal(err.status, 503);
  }
  assert.equal(pool.replaced, 1);
  assert.equal(pool.running, 2);
  for (let i = 0; i < 6; i++) {
    const r = await data.engine.search('docs', { vector: vectors[i] }, { k: 1, exact: true });
    assert.equal(r.results[0].id, `v${i}`); // the replacement serves the collection too
  }
  await data.close();
  assert.equal(pool.running, 0);
  await pool.close(); // twice is harmless
  await assert.rejects(pool.search('docs', { vector: vectors[0] }, {}, false), (err: MrlError) => err.code === 'SEARCH_UNAVAILABLE');
});

test('searches while the shared matrix grows under many ingests never return a wrong score', async (t) => {
  const data = await open(t, tempDir(t), 2);
  const e = data.engine;
  e.createCollection({ name: 'docs', dim: DIM, indexDim: 12, rerankDim: 32, residentDim: 32 });
  const { vectors } = mrlLikeVectors(6000, DIM, 13);
  const byId = new Map(vectors.map((v, i) => [`v${i}`, v]));
  let searches = 0;
  for (let i = 0; i < vectors.length; i += 300) {
    // New rows, and older ones written again (a replaced row leaves its slot: the last row moves into it).
    const deleting = i >= 600 ? [`v${i - 600}`, `v${i - 599}`] : [];
    const again = i >= 600 ? Array.from({ length: 200 }, (_, j) => 2 + ((i + j * 13) % (i - 600))) : [];
    const batch = [...vectors.slice(i, i + 300).map((_, j) => i + j), ...again]
      .filter((n) => (n >= i || byId.has(`v${n}`)) && !deleting.includes(`v${n}`))
      .map((n) => ({ id: `v${n}`, vector: vectors[n] }));
    const qs = Array.from({ length: 8 }, (_, j) => vectors[(i * 7 + j * 131) % Math.max(300, i)]);
    const runs = qs.map((q, j) =>
      e.search('docs', { vector: q }, j % 2 ? { k: 10, exact: true, rerank: 32 } : { k: 10 }).then((r) => {
        scoresExact(r.results, q, byId, 32);
        searches++;
      }),
    );
    await Promise.all([e.upsert('docs', batch), e.deleteItems('docs', deleting), ...runs]);
    for (const id of deleting) byId.delete(id);
  }
  assert.ok(searches >= 100);
  const q = vectors[4321];
  const got = await e.search('docs', { vector: q }, { k: 10, exact: true, rerank: 32 });
  const want = [...byId]
    .map(([id, v]) => ({ id, s: prefixCosine(q, v, 32) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, 10);
  assert.deepEqual(
    got.results.map((h) => h.id),
    want.map((w) => w.id),
  );
  scoresExact(got.results, q, byId, 32);
});

test('the server with MRL_SEARCH_THREADS=2: HTTP ingest, search and delete go through the pool; close joins it', async (t) => {
  const { buildTestApp } = await import('../helpers.js');
  const { app, ctx } = await buildTestApp(t, { MRL_SEARCH_THREADS: '2' });
  const pool = ctx.data.pool!;
  assert.equal(pool.running, 2);
  assert.equal(ctx.engine.pool, pool, 'the engine searches through it');
  const { vectors } = mrlLikeVectors(600, DIM, 9);
  const created = await app.inject({ method: 'POST', url: '/collections', payload: { name: 'web', dim: DIM, indexDim: 12 } });
  assert.equal(created.statusCode, 201, created.body);
  const ndjson = vectors.map((v, i) => JSON.stringify({ id: `w${i}`, vector: v })).join('\n');
  const ing = await app.inject({
    method: 'POST',
    url: '/ingest?collection=web',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: ndjson,
  });
  assert.equal(ing.statusCode, 200, ing.body);
  type Hits = { results: { id: string; score: number }[] };
  const search = async (v: number[]) =>
    (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'web', vector: v, k: 5 } })).json<Hits>();
  const exact = async (v: number[]) =>
    (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'web', vector: v, k: 5, exact: true } })).json<Hits>();
  // Acknowledged rows are found at once, through a worker, with the in-thread exact answer.
  for (const q of [3, 300, 599]) {
    const r = await search(vectors[q]);
    assert.equal(r.results[0].id, `w${q}`);
    assert.deepEqual(
      r.results.map((h) => h.id),
      (await exact(vectors[q])).results.map((h) => h.id),
    );
  }
  // Bytes by structure: row caches and filter columns are each worker's own; the graph is the main thread's, searched by handle.
  const filtered = await app.inject({
    method: 'POST',
    url: '/search',
    payload: { collection: 'web', vector: vectors[0], k: 5, filter: { label: null } },
  });
  assert.equal(filtered.statusCode, 200, filtered.body);
  type Bytes = { indexBytes: number; metadataCacheBytes: number; filterColumnsBytes: number };
  const shown = (await app.inject('/collections/web')).json<{ memory: Bytes & { workers: { count: number; each: (Bytes | null)[] } } }>();
  assert.equal(shown.memory.workers.count, 2);
  assert.equal(shown.memory.workers.each.length, 2);
  for (const w of shown.memory.workers.each) assert.ok(w && w.indexBytes === 0 && w.metadataCacheBytes >= 0, JSON.stringify(w));
  assert.ok(
    shown.memory.workers.each.some((w) => w!.filterColumnsBytes >= 600 * 12 * 4),
    'the worker that ran the filter holds its columns',
  );
  assert.ok(
    shown.memory.workers.each.some((w) => w!.metadataCacheBytes > 0),
    'and the rows of its hits',
  );
  assert.equal(shown.memory.filterColumnsBytes, 0, 'the HTTP thread built none');
  const del = await app.inject({ method: 'DELETE', url: '/collections/web/items/w300' });
  assert.equal(del.statusCode, 200, del.body);
  assert.ok(!(await search(vectors[300])).results.some((h) => h.id === 'w300'), 'a deleted item is gone from the next search');
  await app.close();
  await ctx.close();
  assert.equal(pool.running, 0, 'close joined the workers');
});
