import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const DIM = 16;

async function withItems(t: Parameters<typeof buildTestApp>[0]) {
  const built = await buildTestApp(t);
  const { app } = built;
  const created = await app.inject({
    method: 'POST',
    url: '/collections',
    payload: { name: 'docs', dim: DIM, indexDim: 8, indexedFields: ['year'] },
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json().indexedFields, ['year']);
  const { vectors } = mrlLikeVectors(200, DIM, 5);
  const items = vectors.map((v, i) => ({
    id: `d${i}`,
    vector: v,
    label: i % 2 ? 'odd' : 'even',
    payload: { year: 2000 + (i % 20) },
    text: i % 7 === 0 ? `seven times ${i}` : `plain item ${i}`,
  }));
  const ing = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'docs', items } });
  assert.equal(ing.statusCode, 200, ing.body);
  return { ...built, vectors };
}

test('POST and GET /search with a filter: k matching results and the plan that ran', async (t) => {
  const { app, vectors } = await withItems(t);
  const filter = { label: 'odd', 'payload.year': { $gte: 2015 } };
  const post = await app.inject({ method: 'POST', url: '/search', payload: { collection: 'docs', vector: vectors[0], k: 5, filter } });
  assert.equal(post.statusCode, 200, post.body);
  const body = post.json();
  assert.equal(body.results.length, 5);
  assert.ok(body.results.every((h: { label: string; payload: { year: number } }) => h.label === 'odd' && h.payload.year >= 2015));
  assert.equal(body.filter.matched, 30); // odd i with i % 20 in {15, 17, 19}
  assert.equal(body.filter.plan, 'exact-filtered');
  const get = await app.inject({ url: `/search?collection=docs&id=d1&k=5&filter=${encodeURIComponent(JSON.stringify(filter))}` });
  assert.equal(get.statusCode, 200, get.body);
  assert.ok(get.json().results.every((h: { id: string }) => h.id !== 'd1'));
});

test('bad filters and bad keyword queries are coded 400s that change nothing', async (t) => {
  const { app, vectors } = await withItems(t);
  const cases: [object | string, string][] = [
    [{ collection: 'docs', vector: vectors[0], filter: { label: { $like: 'o%' } } }, 'INVALID_FILTER'],
    [{ collection: 'docs', vector: vectors[0], filter: { 'payload.year': { $gt: [1] } } }, 'INVALID_FILTER'],
    [{ collection: 'docs', text: '"open', textSyntax: 'fts5' }, 'INVALID_QUERY'],
    [{ collection: 'docs', text: '???' }, 'INVALID_QUERY'],
    [{ collection: 'docs', vector: vectors[0], text: 'seven', fusion: { method: 'max' } }, 'VALIDATION'],
    ['/search?collection=docs&id=d1&filter={nope', 'INVALID_FILTER'],
    ['/search?collection=docs&text=%3F%3F', 'INVALID_QUERY'],
  ];
  for (const [req, code] of cases) {
    const res =
      typeof req === 'string' ? await app.inject({ url: req }) : await app.inject({ method: 'POST', url: '/search', payload: req });
    assert.equal(res.statusCode, 400, `${JSON.stringify(req)}: ${res.body}`);
    assert.equal(res.json().error.code, code, JSON.stringify(req));
  }
  assert.equal((await app.inject('/collections/docs')).json().count, 200);
});

test('keyword and hybrid search over HTTP; each hit says which list found it', async (t) => {
  const { app, vectors } = await withItems(t);
  const kw = (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'docs', text: 'seven', k: 50 } })).json();
  assert.equal(kw.mode, 'keyword');
  assert.equal(kw.results.length, 29);
  assert.deepEqual(kw.results[0].sources.text.rank, 1);
  const hy = (
    await app.inject({
      method: 'POST',
      url: '/search',
      payload: { collection: 'docs', vector: vectors[7], text: 'seven', k: 10, fusion: { method: 'blend' } },
    })
  ).json();
  assert.equal(hy.mode, 'hybrid');
  assert.equal(hy.results.length, 10);
  assert.equal(hy.results[0].id, 'd7'); // first in both lists
  assert.ok(hy.results[0].sources.vector && hy.results[0].sources.text);
  const get = (await app.inject({ url: '/search?collection=docs&text=seven&k=3' })).json();
  assert.equal(get.results.length, 3);
});

test("PATCH an item: label, payload and text change, the vector and the index do not; PATCH a collection's indexed fields", async (t) => {
  const { app, ctx } = await withItems(t);
  const before = (await app.inject('/collections/docs/items/d3')).json();
  await ctx.engine.drain(); // the ingest's rows reach the index in the background: count them once all are in
  const elements = ctx.engine.describe('docs').index.elements;
  const res = await app.inject({
    method: 'PATCH',
    url: '/collections/docs/items/d3',
    payload: { label: 'moved', payload: { year: 1990 }, text: 'rare zebra' },
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { ...before, label: 'moved', payload: { year: 1990 }, text: 'rare zebra' });
  assert.equal(ctx.engine.describe('docs').index.elements, elements);
  const found = (
    await app.inject({
      method: 'POST',
      url: '/search',
      payload: { collection: 'docs', text: 'zebra', filter: { 'payload.year': { $lt: 2000 } } },
    })
  ).json();
  assert.deepEqual(
    found.results.map((h: { id: string }) => h.id),
    ['d3'],
  );
  assert.equal((await app.inject({ method: 'PATCH', url: '/collections/docs/items/nope', payload: { label: 'x' } })).statusCode, 404);
  assert.equal((await app.inject({ method: 'PATCH', url: '/collections/docs/items/d3', payload: { vector: [1] } })).statusCode, 400);
  const col = await app.inject({ method: 'PATCH', url: '/collections/docs', payload: { indexedFields: ['year', 'meta.lang'] } });
  assert.equal(col.statusCode, 200, col.body);
  assert.deepEqual(col.json().indexedFields, ['year', 'meta.lang']);
  const names = ctx.data.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'items_f%'").pluck().all();
  assert.equal(names.length, 2);
  assert.equal((await app.inject({ method: 'PATCH', url: '/collections/docs', payload: { indexedFields: ["a'b"] } })).statusCode, 400);
});

test('NDJSON ingest carries text; a text longer than 64 KB is refused for its line only', async (t) => {
  const { app } = await withItems(t);
  const lines = [
    JSON.stringify({ id: 'n1', vector: Array(DIM).fill(0.5), text: 'walrus' }),
    JSON.stringify({ id: 'n2', vector: Array(DIM).fill(0.5), text: 'x'.repeat(65 * 1024) }),
  ].join('\n');
  const res = await app.inject({
    method: 'POST',
    url: '/ingest?collection=docs',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: lines,
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().upserted, 1);
  assert.equal(res.json().errors[0].code, 'PAYLOAD_TOO_LARGE');
  const kw = (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'docs', text: 'walrus' } })).json();
  assert.deepEqual(
    kw.results.map((h: { id: string }) => h.id),
    ['n1'],
  );
});

test('a text-encoder collection stores its input as the text (unless storeText: false); GET ?q=&hybrid=true searches with q both ways', async (t) => {
  const { app } = await buildTestApp(t);
  for (const [name, storeText] of [
    ['t1', true],
    ['t2', false],
  ] as const) {
    assert.equal(
      (await app.inject({ method: 'POST', url: '/collections', payload: { name, encoder: 'text-mrl', storeText } })).statusCode,
      201,
    );
    const items = ['the cat sat on the mat', 'stock prices fell sharply', 'a kitten naps'].map((input, i) => ({ id: `s${i}`, input }));
    assert.equal((await app.inject({ method: 'POST', url: '/ingest', payload: { collection: name, items } })).statusCode, 200);
    assert.equal((await app.inject(`/collections/${name}/items/s1`)).json().text, storeText ? 'stock prices fell sharply' : null);
  }
  const r = (await app.inject({ url: '/search?collection=t1&q=stock%20prices&hybrid=true&k=2' })).json();
  assert.equal(r.mode, 'hybrid');
  assert.equal(r.results[0].id, 's1');
  assert.equal(r.results[0].sources.text.rank, 1);
});

test('GET /eval and POST /eval/sweep take a filter (the truth is exact over the matching items) and a keyword query', async (t) => {
  const { app } = await withItems(t);
  const filter = encodeURIComponent(JSON.stringify({ 'payload.year': { $lt: 2010 } }));
  const res = await app.inject({ url: `/eval?collection=docs&sample=40&seed=1&shortlist=100&filter=${filter}` });
  assert.equal(res.statusCode, 200, res.body);
  const ev = res.json();
  assert.deepEqual(ev.config.search.filter, { 'payload.year': { $lt: 2010 } });
  assert.ok(ev.recallAt10VsExact > 0.95, `recall ${ev.recallAt10VsExact}`);
  const hybrid = (await app.inject({ url: `/eval?collection=docs&sample=40&seed=1&text=seven` })).json();
  assert.equal(hybrid.config.search.text, 'seven');
  assert.ok(hybrid.recallAt10VsExact < 1, 'a hybrid run is not the exact vector search');
  const bad = await app.inject({ url: `/eval?collection=docs&sample=40&filter=${encodeURIComponent('{"x": 1}')}` });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'INVALID_FILTER');
  const sw = await app.inject({
    method: 'POST',
    url: '/eval/sweep',
    payload: {
      collection: 'docs',
      queries: { sample: 30, seed: 2 },
      grid: { indexDims: [8], shortlists: [50], rerankDims: [16] },
      perDim: false,
      filter: { label: 'odd' },
    },
  });
  assert.equal(sw.statusCode, 200, sw.body);
  assert.ok(sw.json().points[0].recallAt10VsExact > 0.95);
  const badSweep = await app.inject({
    method: 'POST',
    url: '/eval/sweep',
    payload: { collection: 'docs', filter: { label: { $bad: 1 } } },
  });
  assert.equal(badSweep.json().error.code, 'INVALID_FILTER');
});
