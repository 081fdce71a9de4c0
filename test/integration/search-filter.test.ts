import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixCosine } from '../../src/core/prefix.js';
import { MrlError } from '../../src/errors.js';
import { paperFunnel } from '../../src/search/funnel-spec.js';
import type { SearchOptions } from '../../src/search/options.js';
import { mrlLikeVectors, openEngine, tempDir } from '../helpers.js';

const DIM = 64;
const N = 1500;
type Payload = { n: number; lang: string; tags: string[] };
const payloadOf = (i: number): Payload => ({ n: i, lang: ['en', 'de', 'fr', 'it'][i % 4], tags: i % 10 === 0 ? ['ten'] : [] });

async function loaded(t: Parameters<typeof tempDir>[0]) {
  const engine = await openEngine(t, tempDir(t));
  engine.createCollection({ name: 'docs', dim: DIM, indexDim: 16, rerankDim: 48, residentDim: 48, hnsw: { efSearch: 200 } });
  const { vectors, labels } = mrlLikeVectors(N, DIM, 7);
  for (let i = 0; i < N; i += 500) {
    await engine.upsert(
      'docs',
      vectors.slice(i, i + 500).map((v, j) => ({ id: `v${i + j}`, vector: v, label: labels[i + j], payload: payloadOf(i + j) })),
    );
  }
  return { engine, vectors, labels };
}

/** Brute force in the test: ids of items passing `keep`, by cosine at prefix d. */
function bruteForce(vectors: number[][], keep: (i: number) => boolean, q: number[], d: number, k: number, skip?: number): string[] {
  return vectors
    .map((v, i) => ({ i, s: prefixCosine(q, v, d) }))
    .filter((x) => x.i !== skip && keep(x.i))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k)
    .map((x) => `v${x.i}`);
}

/** Filters with their predicate in plain JS; selectivities from 0.7% to 50%. */
const FILTERS: { filter: unknown; keep: (i: number, label: string) => boolean }[] = [
  { filter: { 'payload.n': { $lt: 10 } }, keep: (i) => i < 10 },
  { filter: { label: 'c3' }, keep: (_i, l) => l === 'c3' },
  { filter: { 'payload.tags': 'ten', 'payload.n': { $gte: 300 } }, keep: (i) => i % 10 === 0 && i >= 300 },
  { filter: { $or: [{ 'payload.lang': 'en' }, { 'payload.lang': { $in: ['de'] } }] }, keep: (i) => i % 4 < 2 },
];

test('each filtered plan, forced by the threshold, returns the brute-force filtered top k', async (t) => {
  const { engine, vectors, labels } = await loaded(t);
  for (const [fi, { filter, keep }] of FILTERS.entries()) {
    for (const [plan, filterExactBelow] of [
      ['exact-filtered', 2],
      ['index-filtered', 0],
    ] as const) {
      for (const qi of [1, 222, 1400]) {
        const opts: SearchOptions = { k: 10, shortlist: 800, rerank: DIM, filter, filterExactBelow };
        const r = await engine.search('docs', { vector: vectors[qi] }, opts);
        const want = bruteForce(vectors, (i) => keep(i, labels[i]), vectors[qi], DIM, 10);
        assert.deepEqual(
          r.results.map((h) => h.id),
          want,
          `filter ${fi} plan ${plan} query ${qi}`,
        );
        assert.equal(r.filter?.plan, plan);
        assert.equal(r.filter?.matched, vectors.filter((_v, i) => keep(i, labels[i])).length);
        assert.deepEqual(
          r.stages.map((s) => s.source),
          ['index', 'rerank'],
        );
        if (plan === 'exact-filtered') assert.equal(r.stages[0].candidates, r.filter?.matched);
      }
    }
  }
});

test('exactly k come back whenever at least k match, in every search form; fewer only when fewer match', async (t) => {
  const { engine, vectors } = await loaded(t);
  const forms: [string, { vector: number[] } | { id: string }, SearchOptions][] = [
    ['vector', { vector: vectors[5] }, {}],
    ['id', { id: 'v5' }, {}],
    ['exact', { vector: vectors[5] }, { exact: true }],
    ['funnel', { vector: vectors[5] }, { funnel: paperFunnel(DIM) }],
    ['index forced', { vector: vectors[5] }, { filterExactBelow: 0 }],
    ['index forced, small beam', { id: 'v5' }, { filterExactBelow: 0, shortlist: 10, ef: 10 }],
  ];
  for (const [name, q, opts] of forms) {
    for (const [filter, matching] of [
      [{ 'payload.n': { $gte: 1489 } }, 11],
      [{ 'payload.n': { $lt: 700 }, 'payload.lang': 'fr' }, 175],
      [{ 'payload.n': { $in: [3, 9, 700] } }, 3],
    ] as const) {
      const r = await engine.search('docs', q, { k: 10, ...opts, filter });
      assert.equal(r.results.length, Math.min(10, matching), `${name} ${JSON.stringify(filter)}`);
      assert.ok(
        r.results.every((h) => Number(h.id.slice(1)) !== 5 || !('id' in q)),
        `${name}: the query item is left out`,
      );
    }
  }
  // The index plan with a beam too small falls back to the exact scan and says so.
  const r = await engine.search(
    'docs',
    { vector: vectors[0] },
    { k: 10, filter: { 'payload.n': { $gte: 1489 } }, filterExactBelow: 0, ef: 10, shortlist: 10 },
  );
  assert.equal(r.results.length, 10);
  assert.equal(r.filter?.plan, 'index-filtered');
  assert.ok(r.results.every((h) => Number(h.id.slice(1)) >= 1489));
});

test('a filter sees writes at once: upserts, deletes and patches', async (t) => {
  const { engine, vectors } = await loaded(t);
  const q = { vector: vectors[0] };
  const f = { filter: { 'payload.lang': 'xx' }, k: 5 };
  assert.equal((await engine.search('docs', q, f)).results.length, 0);
  await engine.upsert('docs', [{ id: 'new', vector: vectors[0], payload: { lang: 'xx' } }]);
  assert.deepEqual(
    (await engine.search('docs', q, f)).results.map((h) => h.id),
    ['new'],
  );
  const before = engine.describe('docs').index.elements;
  engine.patchItem('docs', 'v7', { payload: { lang: 'xx' }, label: 'patched' });
  const r = await engine.search('docs', q, f);
  assert.deepEqual(r.results.map((h) => h.id).sort(), ['new', 'v7']);
  assert.equal(r.results.find((h) => h.id === 'v7')?.label, 'patched');
  assert.equal(engine.describe('docs').index.elements, before, 'a patch does not touch the index');
  assert.deepEqual(engine.getItem('docs', 'v7').vector, Array.from(Float32Array.from(vectors[7])));
  await engine.deleteItems('docs', ['new']);
  assert.deepEqual(
    (await engine.search('docs', q, f)).results.map((h) => h.id),
    ['v7'],
  );
  assert.throws(
    () => engine.patchItem('docs', 'nope', { label: 'x' }),
    (e: unknown) => e instanceof MrlError && e.code === 'ITEM_NOT_FOUND',
  );
});

test('bad filters are coded 400s that change nothing', async (t) => {
  const { engine, vectors } = await loaded(t);
  for (const filter of [{ label: { $regex: 'x' } }, { 'payload.a': { $in: [] } }, { nope: 1 }, 'label=c3']) {
    await assert.rejects(
      engine.search('docs', { vector: vectors[0] }, { filter }),
      (e: unknown) => e instanceof MrlError && e.code === 'INVALID_FILTER' && e.status === 400,
    );
  }
  assert.equal(engine.describe('docs').count, N);
});

test('indexed fields: filters on them match the same items; they hold only numbers, strings or null', async (t) => {
  const { engine, vectors } = await loaded(t);
  const filter = { 'payload.n': { $gte: 700, $lt: 760 }, 'payload.lang': { $in: ['en', 'fr'] } };
  const before = await engine.search('docs', { vector: vectors[3] }, { k: 20, filter });
  assert.throws(
    () => engine.setIndexedFields('docs', ['tags']),
    (e: unknown) => e instanceof MrlError && e.code === 'INVALID_COLLECTION' && /item 'v0'/.test(e.message),
  );
  assert.deepEqual(engine.setIndexedFields('docs', ['n', 'lang']).indexedFields, ['n', 'lang']);
  const after = await engine.search('docs', { vector: vectors[3] }, { k: 20, filter });
  assert.deepEqual(
    after.results.map((h) => h.id),
    before.results.map((h) => h.id),
  );
  assert.equal(after.results.length, 20);
  await assert.rejects(
    engine.upsert('docs', [{ id: 'bad', vector: vectors[0], payload: { n: [1] } }]),
    (e: unknown) => e instanceof MrlError && e.code === 'VALIDATION' && /payload\.n is an indexed field/.test(e.message),
  );
  assert.throws(
    () => engine.patchItem('docs', 'v1', { payload: { lang: true } }),
    (e: unknown) => e instanceof MrlError && e.code === 'VALIDATION',
  );
  assert.equal(engine.describe('docs').count, N);
});
