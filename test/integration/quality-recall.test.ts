import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const D = 32;
const { vectors, labels } = mrlLikeVectors(1500, D, 13, 24);

test('search to a recall target: the cheapest point of the latest sweep that meets it, the collection default, explicit options win', async (t) => {
  const { app, ctx } = await buildTestApp(t);
  const created = await app.inject({
    method: 'POST',
    url: '/collections',
    payload: { name: 'c', dim: D, indexDim: 8, rerankDim: D, targetRecall: 0.95 },
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().searchDefaults.targetRecall, 0.95);
  await ctx.engine.upsert(
    'c',
    vectors.map((vector, i) => ({ id: `v${i}`, vector, label: labels[i] })),
  );
  const search = async (payload: Record<string, unknown>) => {
    const r = await app.inject({ method: 'POST', url: '/search', payload: { collection: 'c', vector: vectors[5], ...payload } });
    assert.equal(r.statusCode, 200, r.body);
    return r.json<{ stages: { dims: number; source: string; candidates: number }[] }>();
  };
  // No sweep yet: the server's defaults (shortlist 200).
  assert.equal((await search({})).stages[0].candidates, 200);

  const sweep = await ctx.evals.sweep({
    collection: 'c',
    queries: { sample: 80 },
    perDim: false,
    cost: 'flops',
    grid: { indexDims: [8], shortlists: [10, 20, 50, 100, 400], rerankDims: [D], funnels: [] },
  });
  const cheapest = (target: number) =>
    sweep.points
      .filter((p) => p.indexDims === 8 && p.recallAt10VsExact >= target)
      .reduce<(typeof sweep.points)[number] | null>((a, b) => (!a || b.latencyMs.p50 < a.latencyMs.p50 ? b : a), null);
  const recalls = sweep.points.map((p) => p.recallAt10VsExact);
  assert.ok(Math.min(...recalls) < 0.95 && Math.max(...recalls) >= 0.95, `the grid spans the target: ${recalls.join(', ')}`);
  for (const target of [0.8, 0.95, 0.99]) {
    const want = cheapest(target);
    const got = await search({ recall: target });
    if (want) assert.equal(got.stages[0].candidates, want.search.shortlist, `target ${target}`);
    else
      assert.deepEqual(
        got.stages.map((s) => s.source),
        ['exact'],
        `target ${target}: nothing measured meets it`,
      );
  }
  // The collection's default target applies without options; explicit shapes win over it.
  const byDefault = cheapest(0.95)!;
  assert.equal((await search({})).stages[0].candidates, byDefault.search.shortlist);
  assert.equal((await search({ shortlist: 37 })).stages[0].candidates, 37);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'c', vector: vectors[5], recall: 1.5 } })).statusCode,
    400,
  );
});

test('a collection with a recall target is re-swept over the same grid once it has doubled since its latest sweep', async (t) => {
  const { ctx } = await buildTestApp(t);
  ctx.createCollection({ name: 'c', dim: D, indexDim: 8, rerankDim: D, targetRecall: 0.9 });
  const rid = ctx.engine.runtime('c').record.id;
  await ctx.engine.upsert(
    'c',
    vectors.slice(0, 400).map((vector, i) => ({ id: `v${i}`, vector, label: labels[i] })),
  );
  const first = await ctx.evals.sweep({
    collection: 'c',
    queries: { sample: 30 },
    perDim: false,
    grid: { indexDims: [8], shortlists: [10, 50], rerankDims: [D], funnels: [] },
  });
  assert.equal(first.items, 400);
  const firstId = ctx.data.evalRuns.latestId(rid, 'sweep');
  await ctx.engine.upsert(
    'c',
    vectors.slice(400, 799).map((vector, i) => ({ id: `w${i}`, vector, label: labels[400 + i] })),
  );
  await ctx.data.quality.idle();
  assert.equal(ctx.data.evalRuns.latestId(rid, 'sweep'), firstId, 'not doubled yet');
  await ctx.engine.upsert('c', [{ id: 'last', vector: vectors[799], label: labels[799] }]);
  await ctx.data.quality.idle();
  assert.notEqual(ctx.data.evalRuns.latestId(rid, 'sweep'), firstId);
  const again = ctx.evals.latest('c').sweep!;
  assert.equal(again.items, 800);
  assert.equal(again.queries, 30);
  assert.deepEqual(
    again.points.map((p) => p.label),
    first.points.map((p) => p.label),
  );
});

test('the latest sweep is read from SQLite once and kept: a new one replaces it, a drop of its collection forgets it', async (t) => {
  const { ctx } = await buildTestApp(t);
  ctx.createCollection({ name: 'c', dim: D, indexDim: 8, rerankDim: D });
  const id = ctx.engine.runtime('c').record.id;
  const runs = ctx.data.evalRuns;
  assert.equal(runs.kept(id, 'sweep'), null);
  runs.save(id, 'sweep', { n: 1 });
  assert.deepEqual(runs.kept(id, 'sweep'), { n: 1 });
  assert.equal(runs.kept(id, 'sweep'), runs.kept(id, 'sweep'), 'the same parsed result, kept');
  runs.save(id, 'sweep', { n: 2 });
  runs.save(id, 'eval', { n: 3 });
  assert.deepEqual(runs.kept(id, 'sweep'), { n: 2 });
  assert.deepEqual(runs.kept(id, 'eval'), { n: 3 });
  // latest() reads SQLite each time (a row written by another connection: here, by hand).
  ctx.data.db.prepare("INSERT INTO eval_runs (collection_id, kind, result, created_at) VALUES (?, 'sweep', '{\"n\":4}', '')").run(id);
  assert.deepEqual(runs.latest(id, 'sweep'), { n: 4 });
  assert.deepEqual(runs.kept(id, 'sweep'), { n: 2 });
  await ctx.writes.dropCollection('c');
  assert.equal(runs.kept(id, 'sweep'), null);
  assert.equal(runs.kept(id, 'eval'), null);
});
