import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixCosine } from '../../src/core/prefix.js';
import { paperFunnel } from '../../src/search/funnel-spec.js';
import { mrlLikeVectors, openEngine, tempDir } from '../helpers.js';

const DIM = 64;
const N = 1500;

/** Brute force in the test itself: the top k ids by cosine at prefix d. */
function bruteForce(vectors: number[][], q: number[], d: number, k: number, skip?: number): string[] {
  return vectors
    .map((v, i) => ({ i, s: prefixCosine(q, v, d) }))
    .filter((x) => x.i !== skip)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k)
    .map((x) => `v${x.i}`);
}

async function loaded(t: Parameters<typeof tempDir>[0], dataDir = tempDir(t)) {
  const engine = await openEngine(t, dataDir);
  engine.createCollection({ name: 'docs', dim: DIM, indexDim: 16, rerankDim: 48, residentDim: 48 });
  const { vectors, labels } = mrlLikeVectors(N, DIM, 7);
  for (let i = 0; i < N; i += 500) {
    await engine.upsert(
      'docs',
      vectors.slice(i, i + 500).map((v, j) => ({ id: `v${i + j}`, vector: v, label: labels[i + j], payload: { n: i + j } })),
    );
  }
  await engine.drain(); // every row in the index too, not only committed
  return { engine, vectors, dataDir };
}

test('exact search equals brute force at any prefix, including dims beyond the resident width', async (t) => {
  const { engine, vectors } = await loaded(t);
  for (const d of [8, 16, 48, 64]) {
    const r = await engine.search('docs', { vector: vectors[3] }, { exact: true, rerank: d, k: 10 });
    assert.deepEqual(
      r.results.map((x) => x.id),
      bruteForce(vectors, vectors[3], d, 10),
      `d=${d}`,
    );
    assert.ok(Math.abs(r.results[1].score - prefixCosine(vectors[3], vectors[Number(r.results[1].id.slice(1))], d)) < 1e-5);
  }
});

test('beyond the resident width, an exact scan over more rows than one store chunk (2048) still equals brute force', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  engine.createCollection({ name: 'wide', dim: 16, indexDim: 4, rerankDim: 8, residentDim: 8 });
  const { vectors } = mrlLikeVectors(4500, 16, 11);
  for (let i = 0; i < vectors.length; i += 1500)
    await engine.upsert(
      'wide',
      vectors.slice(i, i + 1500).map((v, j) => ({ id: `v${i + j}`, vector: v })),
    );
  await engine.deleteItems('wide', ['v2', 'v3000']);
  for (const qi of [2, 2047, 3000]) {
    // 2 and 3000 were deleted: their own rows must not come back
    const r = await engine.search('wide', { vector: vectors[qi] }, { exact: true, rerank: 16, k: 25 });
    const want = bruteForce(vectors, vectors[qi], 16, 27)
      .filter((id) => id !== 'v2' && id !== 'v3000')
      .slice(0, 25);
    assert.deepEqual(
      r.results.map((x) => x.id),
      want,
      `query ${qi}`,
    );
  }
});

test('the funnel with a generous shortlist finds the exact top k; results carry label and payload', async (t) => {
  const { engine, vectors } = await loaded(t);
  let agree = 0;
  for (const qi of [0, 10, 20, 30, 40]) {
    const r = await engine.search('docs', { vector: vectors[qi] }, { k: 10, shortlist: 400, rerank: 64 });
    const truth = bruteForce(vectors, vectors[qi], 64, 10);
    agree += r.results.filter((x) => truth.includes(x.id)).length;
    assert.deepEqual(
      r.stages.map((s) => [s.dims, s.source]),
      [
        [16, 'index'],
        [64, 'rerank'],
      ],
    );
    assert.equal(r.stages[1].candidates, 400);
    assert.ok(r.stages.every((s) => s.ms >= 0) && r.ms >= 0);
    const top = r.results[0];
    assert.equal(top.id, `v${qi}`);
    assert.equal(top.label, `c${qi % 8}`);
    assert.deepEqual(top.payload, { n: qi });
    for (let i = 1; i < r.results.length; i++) assert.ok(r.results[i - 1].score >= r.results[i].score);
  }
  assert.ok(agree >= 48, `recall ${agree}/50`);
});

test('a query by id leaves the item out of its own results', async (t) => {
  const { engine, vectors } = await loaded(t);
  for (const opts of [{}, { exact: true }, { funnel: paperFunnel(DIM) }]) {
    const r = await engine.search('docs', { id: 'v5' }, { k: 10, ...opts });
    assert.equal(r.results.length, 10);
    assert.ok(!r.results.some((x) => x.id === 'v5'), JSON.stringify(opts));
  }
  const exact = await engine.search('docs', { id: 'v5' }, { exact: true, k: 10 });
  assert.deepEqual(
    exact.results.map((x) => x.id),
    bruteForce(vectors, vectors[5], 64, 10, 5),
  );
});

test("the paper's funnel runs every stage and narrows as planned", async (t) => {
  const { engine, vectors } = await loaded(t);
  const r = await engine.search('docs', { vector: vectors[100] }, { funnel: paperFunnel(DIM) });
  assert.deepEqual(
    r.stages.map((s) => s.dims),
    [16, 32, 64],
  );
  assert.deepEqual(
    r.stages.map((s) => s.source),
    ['index', 'rerank', 'rerank'],
  );
  assert.deepEqual(
    r.stages.map((s) => s.candidates),
    [200, 200, 100],
  );
  assert.equal(r.results.length, 10);
  assert.equal(r.results[0].id, 'v100');
  const exactFirst = await engine.search(
    'docs',
    { vector: vectors[100] },
    {
      funnel: [
        { dims: 8, keep: 300 },
        { dims: 32, keep: 50 },
        { dims: 64, keep: 10 },
      ],
    },
  );
  assert.equal(exactFirst.stages[0].source, 'exact');
  assert.equal(exactFirst.stages[0].candidates, N);
});

test('upsert replaces the vector; delete removes it from store, index and matrix', async (t) => {
  const { engine, vectors } = await loaded(t);
  const rt = engine.runtime('docs');
  await engine.upsert('docs', [{ id: 'v1', vector: vectors[900], label: 'moved' }]);
  assert.equal(rt.count, N);
  assert.equal(rt.index.liveCount + rt.pending.size, N); // the new row may still wait for the index
  await engine.drain();
  assert.equal(rt.index.liveCount, N);
  const r = await engine.search('docs', { vector: vectors[900] }, { k: 2 });
  assert.deepEqual(r.results.map((x) => x.id).sort(), ['v1', 'v900']);
  assert.equal(engine.getItem('docs', 'v1').label, 'moved');
  assert.deepEqual(await engine.deleteItems('docs', ['v900', 'nope']), { deleted: 1, missing: ['nope'] });
  assert.equal(rt.count, N - 1);
  assert.equal(rt.index.liveCount, N - 1);
  assert.equal(engine.items.count(rt.record.id), N - 1);
  const after = await engine.search('docs', { vector: vectors[900] }, { k: 3 });
  assert.ok(!after.results.some((x) => x.id === 'v900'));
  assert.throws(
    () => engine.getItem('docs', 'v900'),
    (e: unknown) => (e as { code?: string }).code === 'ITEM_NOT_FOUND',
  );
});

test('close and reopen give identical answers, from the snapshot', async (t) => {
  const { engine, vectors, dataDir } = await loaded(t);
  await engine.deleteItems('docs', ['v7']);
  const queries = [{ vector: vectors[11] }, { id: 'v12' }, { vector: vectors[1499] }];
  const before = [];
  for (const q of queries) before.push(await engine.search('docs', q, { k: 10 }));
  await engine.close();
  const again = await openEngine(t, dataDir);
  assert.equal(again.describe('docs').index.lastOpen?.loadedSnapshot, true);
  assert.equal(again.describe('docs').index.lastOpen?.replayed, 0);
  assert.equal(again.runtime('docs').count, N - 1);
  for (let i = 0; i < queries.length; i++) {
    const r = await again.search('docs', queries[i], { k: 10 });
    assert.deepEqual(r.results, before[i].results);
  }
});

test('collections: create, list, describe, drop; names and dims are checked', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
  const c = engine.createCollection({ name: 'a', dim: 768 });
  assert.equal(c.indexDim, 32);
  assert.equal(c.rerankDim, 512);
  assert.equal(c.residentDim, 512);
  assert.deepEqual(c.nesting, [8, 16, 32, 64, 128, 256, 512, 768]);
  assert.equal(engine.createCollection({ name: 'b', dim: 20 }).indexDim, 20);
  assert.throws(() => engine.createCollection({ name: 'a', dim: 8 }), code('COLLECTION_EXISTS'));
  assert.throws(() => engine.createCollection({ name: 'c', dim: 8, indexDim: 9 }), code('INVALID_COLLECTION'));
  assert.throws(() => engine.createCollection({ name: 'c', dim: '8' }), code('INVALID_COLLECTION'));
  assert.deepEqual(
    engine.listCollections().map((x) => x.name),
    ['a', 'b'],
  );
  const d = engine.describe('a');
  assert.equal(d.count, 0);
  assert.ok(d.memory.matrixBytes > 0 && d.memory.indexBytes > 0);
  await engine.dropCollection('a');
  assert.throws(() => engine.describe('a'), code('COLLECTION_NOT_FOUND'));
  await assert.rejects(engine.dropCollection('a'), code('COLLECTION_NOT_FOUND'));
  await assert.rejects(engine.search('a', { vector: [1] }), code('COLLECTION_NOT_FOUND'));
  const again = engine.createCollection({ name: 'a', dim: 4 });
  assert.notEqual(again.id, c.id); // ids are never reused, so old snapshots cannot be picked up
});
