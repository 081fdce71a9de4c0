import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';
import { evaluate } from '../../src/eval/evaluate.js';

const { vectors, labels } = mrlLikeVectors(400, 32, 5);

async function withData(t: Parameters<typeof buildTestApp>[0]) {
  const h = await buildTestApp(t);
  const inject = h.app.inject.bind(h.app);
  assert.equal(
    (
      await inject({
        method: 'POST',
        url: '/collections',
        payload: { name: 'c', dim: 32, indexDim: 8, rerankDim: 32, nesting: [8, 16, 32] },
      })
    ).statusCode,
    201,
  );
  assert.equal(
    (
      await inject({
        method: 'POST',
        url: '/ingest',
        payload: { collection: 'c', items: vectors.slice(0, 350).map((vector, i) => ({ id: `v${i}`, vector, label: labels[i] })) },
      })
    ).statusCode,
    200,
  );
  assert.equal((await inject({ method: 'POST', url: '/collections', payload: { name: 'q', dim: 32 } })).statusCode, 201);
  assert.equal(
    (
      await inject({
        method: 'POST',
        url: '/ingest',
        payload: { collection: 'q', items: vectors.slice(350).map((vector, i) => ({ id: `q${i}`, vector, label: labels[350 + i] })) },
      })
    ).statusCode,
    200,
  );
  return h;
}

test('GET /eval returns the figures the evaluator computes, and /eval/latest keeps them', async (t) => {
  const { app, ctx } = await withData(t);
  const r = await app.inject('/eval?collection=c&queries=q&shortlist=50&rerank=32');
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  const direct = await evaluate(ctx.engine, { collection: 'c', queries: { collection: 'q' }, search: { shortlist: 50, rerank: 32 } });
  for (const f of ['mapAt10', 'mapAt10HitNormalized', 'precisionAt10', 'top1', 'recallAt10VsExact', 'flopsPerQuery'] as const)
    assert.equal(body[f], direct[f], f);
  assert.equal(body.queries, 50);
  assert.deepEqual(
    body.config.stages.map((s: { source: string }) => s.source),
    ['index', 'rerank'],
  );
  assert.ok(body.latencyMs.p50 > 0 && body.latencyMs.p99 >= body.latencyMs.p50);
  const funnel = (await app.inject('/eval?collection=c&sample=40&funnel=8:100,16:40,32:10')).json();
  assert.equal(funnel.queries, 40);
  assert.deepEqual(
    funnel.config.stages.map((s: { dims: number }) => s.dims),
    [8, 16, 32],
  );
  const latest = (await app.inject('/eval/latest?collection=c')).json();
  assert.equal(latest.eval.createdAt, funnel.createdAt);
  assert.equal(latest.sweep, null);
});

test('POST /eval/sweep as a job: 202 with a status URL, progress, the result, applied defaults', async (t) => {
  const { app, ctx } = await withData(t);
  const start = await app.inject({
    method: 'POST',
    url: '/eval/sweep',
    payload: {
      collection: 'c',
      queries: { sample: 60 },
      grid: { indexDims: [8, 32], shortlists: [20, 50], rerankDims: [32], funnels: [] },
      cost: 'flops',
      apply: true,
      async: true,
    },
  });
  assert.equal(start.statusCode, 202, start.body);
  const { statusUrl } = start.json();
  // A second evaluation while the sweep runs is refused, not queued behind it.
  const busy = await app.inject('/eval?collection=c&sample=10');
  assert.equal(busy.statusCode, 409);
  assert.equal(busy.json().error.code, 'EVAL_BUSY');
  let job = start.json();
  for (let i = 0; i < 600 && job.state === 'running'; i++) {
    await sleep(50);
    job = (await app.inject(statusUrl)).json();
  }
  assert.equal(job.state, 'done', JSON.stringify(job.error));
  assert.equal(job.progress.done, job.progress.total);
  const result = job.result;
  assert.equal(result.points.length, 4);
  assert.ok(result.best, 'some point is within tolerance on this data');
  assert.equal(result.applied, true);
  const show = (await app.inject('/collections/c')).json();
  assert.equal(show.indexDim, result.best.indexDims);
  assert.equal(show.searchDefaults.shortlist, result.best.search.shortlist);
  const latest = (await app.inject('/eval/latest?collection=c')).json();
  assert.equal(latest.sweep.createdAt, result.createdAt);
  assert.deepEqual(
    latest.sweep.perDim.map((p: { dims: number }) => p.dims),
    [8, 16, 32],
  );

  // A sweep stored by an earlier version (its points lack paretoRecall) is still served.
  const old = {
    ...result,
    createdAt: '2026-01-01T00:00:00.000Z',
    points: result.points.map(({ paretoRecall: _, ...p }: { paretoRecall: boolean }) => p),
  };
  ctx.data.db
    .prepare("INSERT INTO eval_runs (collection_id, kind, result, created_at) VALUES (?, 'sweep', ?, ?)")
    .run(ctx.engine.runtime('c').record.id, JSON.stringify(old), old.createdAt);
  const again = await app.inject('/eval/latest?collection=c');
  assert.equal(again.statusCode, 200, again.body);
  assert.equal(again.json().sweep.createdAt, old.createdAt);
});

test('bad evaluations get coded errors and store nothing', async (t) => {
  const { app } = await withData(t);
  const cases: [string, number, string][] = [
    ['/eval?collection=nope', 404, 'COLLECTION_NOT_FOUND'],
    ['/eval?collection=c&k=5', 400, 'VALIDATION'],
    ['/eval?collection=c&funnel=8-100', 400, 'INVALID_SEARCH'],
    ['/eval?collection=c&funnel=16:10,8:10', 400, 'INVALID_SEARCH'],
    ['/eval?collection=c&rerank=64', 400, 'INVALID_SEARCH'],
    ['/eval?collection=c&sample=0', 400, 'VALIDATION'],
    ['/eval?collection=c&queries=nope', 404, 'COLLECTION_NOT_FOUND'],
    ['/eval/jobs/not-a-job', 404, 'JOB_NOT_FOUND'],
    ['/eval/latest?collection=nope', 404, 'COLLECTION_NOT_FOUND'],
  ];
  for (const [url, status, code] of cases) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, status, `${url}: ${r.body}`);
    assert.equal(r.json().error.code, code, url);
  }
  const sweeps: [unknown, number, string][] = [
    [{ collection: 'c', grid: { indexDims: [64] } }, 400, 'INVALID_EVAL'],
    [{ collection: 'c', grid: { shortlists: ['20'] } }, 400, 'VALIDATION'],
    [{ collection: 'c', tolerance: { recall: 3 } }, 400, 'VALIDATION'],
    [{ collection: 'c', bogus: 1 }, 400, 'VALIDATION'],
  ];
  for (const [payload, status, code] of sweeps) {
    const r = await app.inject({ method: 'POST', url: '/eval/sweep', payload: payload as object });
    assert.equal(r.statusCode, status, r.body);
    assert.equal(r.json().error.code, code);
  }
  const badTarget = await app.inject({ method: 'POST', url: '/eval/sweep', payload: { collection: 'c', targetRecall: 0 } });
  assert.equal(badTarget.statusCode, 400, badTarget.body);
  assert.equal(badTarget.json().error.code, 'VALIDATION');
  const latest = (await app.inject('/eval/latest?collection=c')).json();
  assert.deepEqual(latest, { eval: null, sweep: null });
  assert.deepEqual((await app.inject('/collections/c')).json().searchDefaults, {});
});

test('an unlabelled collection: GET /eval answers recall with null label metrics, and a sweep tunes it', async (t) => {
  const { app } = await withData(t);
  await app.inject({ method: 'POST', url: '/collections', payload: { name: 'plain', dim: 32, indexDim: 8, nesting: [8, 16, 32] } });
  await app.inject({
    method: 'POST',
    url: '/ingest',
    payload: { collection: 'plain', items: vectors.slice(0, 200).map((vector, i) => ({ id: `p${i}`, vector })) },
  });
  const r = await app.inject('/eval?collection=plain&sample=40&shortlist=50&rerank=32');
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  assert.deepEqual([body.mapAt10, body.mapAt10HitNormalized, body.precisionAt10, body.top1], [null, null, null, null]);
  assert.equal(body.unlabelledQueries, 40);
  assert.ok(body.recallAt10VsExact > 0.5 && body.recallAt10VsExact <= 1);
  const s = await app.inject({
    method: 'POST',
    url: '/eval/sweep',
    payload: {
      collection: 'plain',
      queries: { sample: 40 },
      grid: { indexDims: [8, 32], shortlists: [20, 50], rerankDims: [32], funnels: [] },
      targetRecall: 0.95,
      perDim: false,
      apply: true,
    },
  });
  assert.equal(s.statusCode, 200, s.body);
  const sw = s.json();
  assert.equal(sw.labelledQueries, 0);
  assert.equal(sw.targetRecall, 0.95);
  assert.ok(sw.best, 'a 32-d index with beam 50 over 200 rows reaches 0.95');
  assert.ok(sw.best.recallAt10VsExact >= 0.95);
  assert.equal(sw.best.mapAt10, null);
  assert.equal(sw.applied, true);
  assert.equal((await app.inject('/collections/plain')).json().indexDim, sw.best.indexDims);
});
