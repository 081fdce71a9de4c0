import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomRotation, rotate } from '../../src/core/rotation.js';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const N = 2000;
const D = 64;
const { vectors, labels } = mrlLikeVectors(N, D, 7);
const R = randomRotation(D, 99);
const rotated = vectors.map((v) => Array.from(rotate(v, R, D)));

type App = Awaited<ReturnType<typeof buildTestApp>>['app'];

async function load(app: App, name: string, rows: number[][], spec: Record<string, unknown> = {}) {
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name, dim: D, indexDim: 16, rerankDim: D, ...spec } })).statusCode,
    201,
  );
  for (let i = 0; i < rows.length; i += 1000) {
    const items = rows
      .slice(i, i + 1000)
      .map((vector, j) => ({ id: `v${i + j}`, vector, label: labels[i + j], payload: { n: i + j }, text: `item number ${i + j}` }));
    const r = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: name, items } });
    assert.equal(r.statusCode, 200, r.body);
  }
}

test('GET /collections/:c/quality: matryoshka for MRL-like vectors, not-matryoshka rotated; stored, listed, refreshed', async (t) => {
  const { app } = await buildTestApp(t);
  await load(app, 'mrl', vectors);
  await load(app, 'rot', rotated);
  const mrl = await app.inject('/collections/mrl/quality?sample=200');
  assert.equal(mrl.statusCode, 200, mrl.body);
  const m = mrl.json();
  assert.equal(m.verdict, 'matryoshka');
  assert.equal(m.items, N);
  assert.equal(m.queries, 200);
  assert.deepEqual(
    m.prefixes.map((p: { dims: number }) => p.dims),
    [8, 16, 32, 64],
  );
  assert.match(m.recommendation, /index at \d+ dims/);
  assert.deepEqual(m.audit, { searches: 0, recallAt10: null, byStage: [] });
  const rot = (await app.inject('/collections/rot/quality?sample=200')).json();
  assert.equal(rot.verdict, 'not-matryoshka', `max gain ${rot.maxGain}`);
  assert.match(rot.recommendation, /adapt/);
  // Stored: the next GET returns the same report; refresh computes a new one.
  const again = (await app.inject('/collections/mrl/quality')).json();
  assert.equal(again.createdAt, m.createdAt);
  const fresh = (await app.inject('/collections/mrl/quality?refresh=true')).json();
  assert.notEqual(fresh.createdAt, m.createdAt);
  assert.equal(fresh.queries, 500 > N ? N : 500);
  const list = (await app.inject('/collections')).json().collections;
  const byName = Object.fromEntries(list.map((c: { name: string; quality: unknown }) => [c.name, c.quality]));
  assert.equal(byName.mrl.verdict, 'matryoshka');
  assert.equal(byName.rot.verdict, 'not-matryoshka');
  assert.equal((await app.inject('/collections/nope/quality')).statusCode, 404);
  assert.equal((await app.inject('/collections/mrl/quality?sample=0')).statusCode, 400);
});

test('an ingest into a not-matryoshka collection indexed below D/2 warns once', async (t) => {
  const { app, ctx } = await buildTestApp(t);
  await load(app, 'rot', rotated);
  assert.equal((await app.inject('/collections/rot/quality?sample=200')).json().verdict, 'not-matryoshka');
  const before = ctx.data.quality.warnings.length;
  for (const id of ['x1', 'x2']) {
    assert.equal(
      (await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'rot', items: [{ id, vector: rotated[1500] }] } }))
        .statusCode,
      200,
    );
  }
  const added = ctx.data.quality.warnings.slice(before);
  assert.equal(added.length, 1, added.join('\n'));
  assert.match(added[0], /'rot' is not Matryoshka .* 16 of 64 dims/);
});

test('a report is computed in the background once a collection reaches 5000 items', async (t) => {
  const { ctx } = await buildTestApp(t);
  const d = 16;
  ctx.createCollection({ name: 'big', dim: d, indexDim: 8 });
  const big = mrlLikeVectors(5000, d, 3).vectors;
  await ctx.engine.upsert(
    'big',
    big.slice(0, 4999).map((vector, i) => ({ id: `b${i}`, vector })),
  );
  await ctx.data.quality.idle();
  assert.equal(ctx.data.quality.verdict(ctx.engine.runtime('big').record.id), null, 'no report below the first milestone');
  await ctx.engine.upsert('big', [{ id: 'last', vector: big[4999] }]);
  await ctx.data.quality.idle();
  const v = ctx.data.quality.verdict(ctx.engine.runtime('big').record.id);
  assert.ok(v, 'a report was stored');
  assert.equal(v.items, 5000);
});

test('an ingest that crosses the next milestone while a report runs gets that report without another upsert', async (t) => {
  const { ctx } = await buildTestApp(t);
  const d = 16;
  ctx.createCollection({ name: 'fast', dim: d, indexDim: 8 });
  const rows = mrlLikeVectors(10_000, d, 5).vectors;
  await ctx.engine.upsert(
    'fast',
    rows.slice(0, 5000).map((vector, i) => ({ id: `f${i}`, vector })),
  );
  // The 5k report is running in the background now; the next batch reaches 10k meanwhile.
  await ctx.engine.upsert(
    'fast',
    rows.slice(5000).map((vector, i) => ({ id: `g${i}`, vector })),
  );
  await ctx.data.quality.idle();
  const v = ctx.data.quality.verdict(ctx.engine.runtime('fast').record.id);
  assert.ok(v, 'a report was stored');
  assert.equal(v.items, 10_000);
});

test('POST /collections/:c/adapt: a PCA rotation makes a rotated collection matryoshka with identical full-D answers', async (t) => {
  const { app, ctx } = await buildTestApp(t);
  await load(app, 'rot', rotated);
  const r = await app.inject({ method: 'POST', url: '/collections/rot/adapt', payload: { target: 'rot-pca', method: 'pca' } });
  assert.equal(r.statusCode, 201, r.body);
  const a = r.json();
  assert.equal(a.copied, N);
  assert.equal(a.before.verdict, 'not-matryoshka');
  assert.equal(a.after.verdict, 'matryoshka', `max gain after ${a.after.maxGain}`);
  const at = (rep: { prefixes: { dims: number; recallAt10: number }[] }, d: number) => rep.prefixes.find((p) => p.dims === d)!.recallAt10;
  assert.ok(at(a.after, 32) > at(a.before, 32) + 0.1, `recall@10 at 32: ${at(a.before, 32)} → ${at(a.after, 32)}`);
  // The new collection's own report shows where it came from and the figures before.
  const own = (await app.inject('/collections/rot-pca/quality')).json();
  assert.equal(own.verdict, 'matryoshka');
  assert.equal(own.adapted.source, 'rot');
  assert.equal(own.adapted.before.verdict, 'not-matryoshka');
  assert.equal(own.adapted.before.recallAt10.find((p: { dims: number }) => p.dims === 32).recallAt10, at(a.before, 32));
  assert.equal((await app.inject('/collections/rot/quality')).json().adapted, undefined);
  // Same ids, labels, payloads; a raw vector comes back as it went in.
  const item = (await app.inject('/collections/rot-pca/items/v7')).json();
  assert.equal(item.label, labels[7]);
  assert.deepEqual(item.payload, { n: 7 });
  assert.equal(item.text, 'item number 7');
  item.vector.forEach((x: number, i: number) => assert.ok(Math.abs(x - rotated[7][i]) < 1e-4));
  // Exact full-D answers are the same for raw query vectors and for stored items.
  for (const q of [3, 500, 1999]) {
    const body = (c: string) => ({ collection: c, vector: rotated[q], exact: true, k: 10 });
    const x = (await app.inject({ method: 'POST', url: '/search', payload: body('rot') })).json();
    const y = (await app.inject({ method: 'POST', url: '/search', payload: body('rot-pca') })).json();
    assert.deepEqual(
      y.results.map((h: { id: string }) => h.id),
      x.results.map((h: { id: string }) => h.id),
    );
    y.results.forEach((h: { score: number }, i: number) => assert.ok(Math.abs(h.score - x.results[i].score) < 1e-4));
    const byId = (c: string) => ({ collection: c, id: `v${q}`, exact: true, k: 10 });
    const xi = (await app.inject({ method: 'POST', url: '/search', payload: byId('rot') })).json();
    const yi = (await app.inject({ method: 'POST', url: '/search', payload: byId('rot-pca') })).json();
    assert.deepEqual(
      yi.results.map((h: { id: string }) => h.id),
      xi.results.map((h: { id: string }) => h.id),
    );
  }
  // New raw items are rotated on the way in too: found by their own raw vector at full D.
  await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'rot-pca', items: [{ id: 'new', vector: rotated[42] }] } });
  const top = (
    await app.inject({ method: 'POST', url: '/search', payload: { collection: 'rot-pca', vector: rotated[42], exact: true, k: 2 } })
  ).json();
  assert.deepEqual(top.results.map((h: { id: string }) => h.id).sort(), ['new', 'v42']);
  // Dropping the collection takes its rotation with it; the name can be reused unrotated.
  await app.inject({ method: 'DELETE', url: '/collections/rot-pca' });
  ctx.createCollection({ name: 'rot-pca', dim: D });
  assert.equal(ctx.engine.rotation(ctx.engine.runtime('rot-pca').record), null);
  const bad = await app.inject({ method: 'POST', url: '/collections/rot/adapt', payload: { target: 'rot-pca' } });
  assert.equal(bad.statusCode, 409);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections/rot/adapt', payload: { target: 'z', method: 'mlp' } })).statusCode,
    400,
  );
});
