import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

test('a real port: concurrent searches and ingests all succeed and nothing acknowledged is lost', async (t) => {
  const { app } = await buildTestApp(t);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const { vectors } = mrlLikeVectors(4000, 48, 12);
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post('/collections', { name: 'docs', dim: 48, indexDim: 16 })).status, 201);
  assert.equal(
    (await post('/ingest', { collection: 'docs', items: vectors.slice(0, 1000).map((v, i) => ({ id: `v${i}`, vector: v })) })).status,
    200,
  );

  const ingests = Array.from({ length: 15 }, (_, b) =>
    post('/ingest', {
      collection: 'docs',
      items: vectors.slice(1000 + b * 200, 1200 + b * 200).map((v, i) => ({ id: `v${1000 + b * 200 + i}`, vector: v })),
    }),
  );
  const searches = Array.from({ length: 300 }, (_, i) =>
    i % 2
      ? fetch(`${url}/search?collection=docs&id=v${i}&k=10&shortlist=100`)
      : post('/search', { collection: 'docs', vector: vectors[i], k: 10 }),
  );
  const all = await Promise.all([...ingests, ...searches]);
  for (const r of all) assert.equal(r.status, 200, await r.clone().text());
  let upserted = 0;
  for (const r of all.slice(0, ingests.length)) upserted += (await r.json()).upserted;
  assert.equal(upserted, 3000);
  for (const r of all.slice(ingests.length)) {
    const body = await r.json();
    assert.equal(body.results.length, 10);
    for (let i = 1; i < 10; i++) assert.ok(body.results[i - 1].score >= body.results[i].score);
  }
  const show = await (await fetch(`${url}/collections/docs`)).json();
  assert.equal(show.count, 4000);
  assert.equal(show.index.elements - show.index.deleted, 4000);
  // Every acknowledged row is searchable: its own vector finds it first.
  for (const i of [1000, 2345, 3999]) {
    const r = await (await post('/search', { collection: 'docs', vector: vectors[i], k: 1 })).json();
    assert.equal(r.results[0].id, `v${i}`);
  }
});
