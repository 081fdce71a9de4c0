import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const { vectors } = mrlLikeVectors(50, 16, 4);
const good = vectors[0];
const withLast = (x: unknown) => [...good.slice(0, 15), x];

/** What must not change when a request is refused. */
async function state(app: FastifyInstance) {
  const c = (await app.inject('/collections/docs')).json();
  const s = (await app.inject('/search?collection=docs&id=v0&k=5')).json();
  // Rows the graph holds or has queued (it indexes committed rows in the background).
  return { count: c.count, elements: c.index.elements + c.index.pending, list: (await app.inject('/collections')).json(), top: s.results };
}

test('error matrix: each route refuses malformed input with its code and changes nothing', async (t) => {
  const { app } = await buildTestApp(t, { MRL_MAX_BATCH: '100', MRL_BODY_LIMIT: '4096', MRL_INGEST_BODY_LIMIT: '200000' });
  await app.inject({ method: 'POST', url: '/collections', payload: { name: 'docs', dim: 16, indexDim: 4 } });
  await app.inject({
    method: 'POST',
    url: '/ingest',
    payload: { collection: 'docs', items: vectors.map((v, i) => ({ id: `v${i}`, vector: v })) },
  });
  const before = await state(app);
  const json = (method: 'POST' | 'GET' | 'DELETE', url: string, payload?: unknown) => ({ method, url, payload: payload as object });
  const cases: [ReturnType<typeof json> & { headers?: Record<string, string> }, number, string][] = [
    // collections
    [json('POST', '/collections', { name: 'docs', dim: 16 }), 409, 'COLLECTION_EXISTS'],
    [json('POST', '/collections', { name: 'x', dim: '16' }), 400, 'VALIDATION'],
    [json('POST', '/collections', { name: 'x', dim: 0 }), 400, 'VALIDATION'],
    [json('POST', '/collections', { name: '../etc', dim: 4 }), 400, 'INVALID_COLLECTION'],
    [json('POST', '/collections', { name: 'x', dim: 8, indexDim: 9 }), 400, 'INVALID_COLLECTION'],
    [json('POST', '/collections', { name: 'x', dim: 8, encoder: 'nope' }), 400, 'UNKNOWN_ENCODER'],
    [json('POST', '/collections', { name: 'x', dim: 8, extra: 1 }), 400, 'VALIDATION'],
    [json('GET', '/collections/missing'), 404, 'COLLECTION_NOT_FOUND'],
    [json('DELETE', '/collections/missing'), 404, 'COLLECTION_NOT_FOUND'],
    // ingest: no coercion of vector elements, float32 range, lengths, ids, batch caps, body limits
    [
      json('POST', '/ingest', {
        collection: 'docs',
        items: [
          { id: 'n1', vector: good },
          { id: 'n2', vector: withLast('1') },
        ],
      }),
      400,
      'VALIDATION',
    ],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', vector: withLast(true) }] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', vector: withLast(null) }] }), 400, 'VALIDATION'],
    [
      json('POST', '/ingest', {
        collection: 'docs',
        items: [
          { id: 'n1', vector: good },
          { id: 'n2', vector: withLast(1e39) },
        ],
      }),
      400,
      'INVALID_VECTOR',
    ],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', vector: good.slice(1) }] }), 400, 'DIM_MISMATCH'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', vector: [] }] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', vector: new Array(16).fill(0) }] }), 400, 'INVALID_VECTOR'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: '', vector: good }] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'x'.repeat(257), vector: good }] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1' }] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'docs', items: [{ id: 'n1', input: 'text' }] }), 400, 'NO_ENCODER'],
    [json('POST', '/ingest', { collection: 'docs', items: [] }), 400, 'VALIDATION'],
    [json('POST', '/ingest', { collection: 'missing', items: [{ id: 'n1', vector: good }] }), 404, 'COLLECTION_NOT_FOUND'],
    [
      json('POST', '/ingest', { collection: 'docs', items: Array.from({ length: 101 }, (_, i) => ({ id: `b${i}`, vector: [1] })) }),
      400,
      'VALIDATION',
    ],
    [
      json('POST', '/ingest', {
        collection: 'docs',
        items: Array.from({ length: 100 }, (_, i) => ({ id: `b${i}`, vector: good, payload: 'x'.repeat(2000) })),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      {
        method: 'POST',
        url: '/ingest',
        payload: '{"collection": "docs", "items": [',
        headers: { 'content-type': 'application/json' },
      } as never,
      400,
      'VALIDATION',
    ],
    [{ method: 'POST', url: '/ingest', payload: 'x', headers: { 'content-type': 'text/plain' } } as never, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [{ method: 'POST', url: '/ingest', payload: '{}', headers: { 'content-type': 'application/x-ndjson' } } as never, 400, 'VALIDATION'],
    [
      { method: 'POST', url: '/ingest?collection=missing', payload: '{}', headers: { 'content-type': 'application/x-ndjson' } } as never,
      404,
      'COLLECTION_NOT_FOUND',
    ],
    // search
    [json('GET', '/search?collection=docs&id=v0&k=0'), 400, 'VALIDATION'],
    [json('GET', '/search?collection=docs&id=v0&k=1001'), 400, 'VALIDATION'],
    [json('GET', '/search?collection=docs&id=v0&k=abc'), 400, 'VALIDATION'],
    [json('GET', '/search?collection=docs&id=v0&shortlist=5&k=10'), 400, 'INVALID_SEARCH'],
    [json('GET', '/search?collection=docs&id=v0&rerank=17'), 400, 'INVALID_SEARCH'],
    [json('GET', '/search?collection=docs&id=v0&bogus=1'), 400, 'VALIDATION'],
    [json('GET', '/search?collection=docs'), 400, 'VALIDATION'],
    [json('GET', '/search?collection=docs&id=nope'), 404, 'ITEM_NOT_FOUND'],
    [json('GET', '/search?collection=docs&q=hello'), 400, 'NO_ENCODER'],
    [json('GET', '/search?q=hello'), 404, 'COLLECTION_NOT_FOUND'],
    [json('POST', '/search', { collection: 'docs', vector: withLast('1') }), 400, 'VALIDATION'],
    [json('POST', '/search', { collection: 'docs', vector: good.slice(2) }), 400, 'DIM_MISMATCH'],
    [json('POST', '/search', { collection: 'docs', vector: withLast(1e39) }), 400, 'INVALID_VECTOR'],
    [json('POST', '/search', { collection: 'docs', vector: good, id: 'v1' }), 400, 'VALIDATION'],
    [
      json('POST', '/search', {
        collection: 'docs',
        vector: good,
        funnel: [
          { dims: 8, keep: 5 },
          { dims: 4, keep: 2 },
        ],
      }),
      400,
      'INVALID_SEARCH',
    ],
    [
      json('POST', '/search', { collection: 'docs', vector: good, funnel: [{ dims: 8, keep: 5 }], firstStage: 'index' }),
      400,
      'INVALID_SEARCH',
    ],
    [json('POST', '/search', { collection: 'docs', vector: good, shortlist: 20_000 }), 400, 'VALIDATION'],
    [json('POST', '/search', { collection: 'docs', vector: good, pad: 'x'.repeat(5000) }), 413, 'PAYLOAD_TOO_LARGE'],
    // items
    [json('GET', '/collections/docs/items/nope'), 404, 'ITEM_NOT_FOUND'],
    [json('DELETE', '/collections/docs/items/nope'), 404, 'ITEM_NOT_FOUND'],
    [json('GET', '/collections/missing/items/v1'), 404, 'COLLECTION_NOT_FOUND'],
    [json('GET', '/nowhere'), 404, 'NOT_FOUND'],
  ];
  for (const [req, status, code] of cases) {
    const r = await app.inject(req as never);
    const label = `${req.method} ${req.url} ${JSON.stringify(req.payload ?? '').slice(0, 80)}`;
    assert.equal(r.statusCode, status, `${label}: ${r.body}`);
    const body = r.json();
    assert.equal(body.error.code, code, `${label}: ${r.body}`);
    assert.equal(typeof body.error.message, 'string');
  }
  assert.deepEqual(await state(app), before);
});

test('a 5xx never leaks internals', async (t) => {
  const { app, ctx } = await buildTestApp(t);
  await app.inject({ method: 'POST', url: '/collections', payload: { name: 'docs', dim: 16 } });
  // Break the store underneath the engine: the next write fails inside SQLite.
  ctx.data.db.exec('DROP TABLE items');
  const r = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'docs', items: [{ id: 'a', vector: good }] } });
  assert.equal(r.statusCode, 500);
  assert.deepEqual(r.json(), { error: { code: 'INTERNAL', message: 'internal error' } });
  assert.equal((await app.inject('/health')).statusCode, 200); // still serving
});
