import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const { vectors, labels } = mrlLikeVectors(600, 32, 21);
const items = vectors.map((v, i) => ({ id: `v${i}`, vector: v, label: labels[i], payload: { i } }));

async function withData(t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}) {
  const h = await buildTestApp(t, env);
  const created = await h.app.inject({
    method: 'POST',
    url: '/collections',
    payload: { name: 'default', dim: 32, indexDim: 8, rerankDim: 32 },
  });
  assert.equal(created.statusCode, 201, created.body);
  const ing = await h.app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'default', items: items.slice(0, 500) } });
  assert.equal(ing.statusCode, 200, ing.body);
  assert.equal(ing.json().upserted, 500);
  return h;
}

test('collections: create, list, show, drop', async (t) => {
  const { app } = await withData(t, { MRL_SEARCH_THREADS: '0' }); // searches in this thread: its filter columns are shown
  const list = (await app.inject('/collections')).json();
  assert.deepEqual(
    list.collections.map((c: { name: string; count: number }) => [c.name, c.count]),
    [['default', 500]],
  );
  const show = (await app.inject('/collections/default')).json();
  assert.equal(show.count, 500);
  assert.equal(show.indexDim, 8);
  assert.equal(show.index.state, 'ready');
  assert.ok(show.memory.matrixBytes >= 500 * 32 * 4);
  assert.equal(show.memory.filterColumnsBytes, 0, 'no filtered search yet');
  assert.equal(show.memory.workers, undefined, 'no search pool');
  const filtered = await app.inject({
    method: 'POST',
    url: '/search',
    payload: { collection: 'default', vector: vectors[0], filter: { label: null } },
  });
  assert.equal(filtered.statusCode, 200, filtered.body);
  const after = (await app.inject('/collections/default')).json();
  assert.ok(after.memory.filterColumnsBytes >= 500 * 8 * 4, `${after.memory.filterColumnsBytes}`);
  assert.equal((await app.inject({ method: 'DELETE', url: '/collections/default' })).json().dropped, 'default');
  assert.equal((await app.inject('/collections/default')).statusCode, 404);
});

test('ingest as NDJSON streams batches, keeps good lines and reports bad ones by number', async (t) => {
  const { app } = await withData(t);
  const lines = items.slice(500).map((it) => JSON.stringify(it));
  lines.splice(
    3,
    0,
    'nope',
    JSON.stringify({ id: 'short', vector: [1, 2] }),
    JSON.stringify({ id: 'str', vector: [...vectors[0].slice(0, 31), '1'] }),
  );
  const r = await app.inject({
    method: 'POST',
    url: '/ingest?collection=default',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: lines.join('\n'),
  });
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  assert.equal(body.upserted, 100);
  assert.equal(body.lines, 103);
  assert.equal(body.failed, 3);
  assert.deepEqual(
    body.errors.map((e: { line: number; code: string }) => [e.line, e.code]),
    [
      [4, 'VALIDATION'],
      [5, 'DIM_MISMATCH'],
      [6, 'INVALID_VECTOR'],
    ],
  );
  assert.equal((await app.inject('/collections/default')).json().count, 600);
});

test('NDJSON ingest: a vector as base64 of little-endian float32 is stored as the same array sent as JSON numbers', async (t) => {
  const { app } = await withData(t);
  const b64 = (v: number[]) => Buffer.from(Float32Array.from(v).buffer).toString('base64');
  const lines = [
    JSON.stringify({ id: 'b0', vector: b64(vectors[0]), label: 'x' }),
    JSON.stringify({ id: 'j0', vector: vectors[0], label: 'x' }),
    JSON.stringify({ id: 'short', vector: b64(vectors[1].slice(0, 31)) }),
    JSON.stringify({ id: 'bad', vector: 'not base64!' }),
  ];
  const r = await app.inject({
    method: 'POST',
    url: '/ingest?collection=default',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: lines.join('\n'),
  });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().upserted, 2);
  assert.deepEqual(
    r.json().errors.map((e: { line: number; code: string }) => [e.line, e.code]),
    [
      [3, 'DIM_MISMATCH'],
      [4, 'INVALID_VECTOR'],
    ],
  );
  const stored = async (id: string) => (await app.inject(`/collections/default/items/${id}`)).json().vector as number[];
  assert.deepEqual(await stored('b0'), vectors[0]);
  assert.deepEqual(await stored('j0'), vectors[0]);
});

test('GET and POST /search: by id (self excluded), by vector, with a funnel; stages are reported', async (t) => {
  const { app } = await withData(t);
  const byId = await app.inject('/search?id=v3&k=5&shortlist=100&rerank=32');
  assert.equal(byId.statusCode, 200, byId.body);
  const b = byId.json();
  assert.equal(b.results.length, 5);
  assert.ok(!b.results.some((r: { id: string }) => r.id === 'v3'));
  assert.deepEqual(
    b.stages.map((s: { dims: number; candidates: number }) => [s.dims, s.candidates]),
    [
      [8, 101],
      [32, 100],
    ],
  );
  assert.ok(typeof b.ms === 'number');
  const byVec = (await app.inject({ method: 'POST', url: '/search', payload: { vector: vectors[7], k: 3 } })).json();
  assert.equal(byVec.results[0].id, 'v7');
  assert.equal(byVec.results[0].label, labels[7]);
  assert.deepEqual(byVec.results[0].payload, { i: 7 });
  const funnel = (
    await app.inject({
      method: 'POST',
      url: '/search',
      payload: {
        collection: 'default',
        vector: vectors[7],
        funnel: [
          { dims: 8, keep: 200 },
          { dims: 16, keep: 50 },
          { dims: 32, keep: 10 },
        ],
      },
    })
  ).json();
  assert.deepEqual(
    funnel.stages.map((s: { dims: number }) => s.dims),
    [8, 16, 32],
  );
  assert.equal(funnel.results[0].id, 'v7');
  const exact = (await app.inject('/search?id=v3&k=5&exact=true')).json();
  assert.deepEqual(
    exact.stages.map((s: { source: string }) => s.source),
    ['exact'],
  );
});

test('items: get and delete', async (t) => {
  const { app } = await withData(t);
  const got = (await app.inject('/collections/default/items/v9')).json();
  assert.equal(got.id, 'v9');
  assert.equal(got.vector.length, 32);
  assert.equal(got.vector[0], vectors[9][0]);
  assert.deepEqual((await app.inject({ method: 'DELETE', url: '/collections/default/items/v9' })).json(), { deleted: 1 });
  assert.equal((await app.inject('/collections/default/items/v9')).statusCode, 404);
  assert.equal((await app.inject('/collections/default')).json().count, 499);
  const r = (await app.inject({ method: 'POST', url: '/search', payload: { vector: vectors[9], k: 3 } })).json();
  assert.ok(!r.results.some((x: { id: string }) => x.id === 'v9'));
});

test('health, ready, metrics and the OpenAPI document', async (t) => {
  const { app, ctx } = await withData(t);
  const h = (await app.inject('/health')).json();
  assert.equal(h.status, 'ok');
  assert.ok(['onnx-cpu', 'js'].includes(h.kernel));
  assert.equal((await app.inject('/ready')).statusCode, 200);
  await app.inject('/search?id=v1');
  const m = (await app.inject('/metrics')).body;
  assert.match(m, /mrl_collection_items\{collection="default"\} 500/);
  assert.match(m, /mrl_http_request_duration_seconds_count\{method="GET",route="\/search",status="200"\} 1/);
  assert.match(m, /mrl_search_stage_duration_seconds_count\{collection="default",source="index",dims="8"\} 1/);
  assert.match(m, /mrl_matrix_bytes\{collection="default"\} \d+/);
  const doc = (await app.inject('/docs/json')).json();
  for (const path of ['/collections', '/collections/{name}', '/ingest', '/search', '/collections/{name}/items/{id}', '/health', '/ready'])
    assert.ok(doc.paths[path], path);
  ctx.shuttingDown = true;
  const ready = await app.inject('/ready');
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().reason, 'shutting down');
});
