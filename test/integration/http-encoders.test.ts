import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/encoders/tf-backend.js';
import { buildTestApp } from '../helpers.js';

const image = (seed: number) =>
  Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => (r * 7 + c * 13 + seed * 31) % 256));
const norm = (v: number[]) => Math.hypot(...v);

test('GET /models lists the shipped encoders with their manifests', async (t) => {
  const { app } = await buildTestApp(t);
  const models = (await app.inject('/models')).json().models as { name: string; dim: number; nesting: number[]; input: { kind: string } }[];
  const byName = Object.fromEntries(models.map((m) => [m.name, m]));
  assert.equal(byName['text-mrl'].input.kind, 'text');
  assert.equal(byName['fashion-mrl'].input.kind, 'image');
  for (const m of models) {
    assert.ok(m.dim >= 512);
    assert.equal(m.nesting[m.nesting.length - 1], m.dim);
  }
  const health = (await app.inject('/health')).json();
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(health.tfBackend));
  assert.deepEqual(health.models.sort(), ['fashion-mrl', 'text-mrl']);
});

test('POST /embed: dims truncates then renormalises: unit norm, equal to the normalised prefix of the full embedding', async (t) => {
  const { app } = await buildTestApp(t);
  for (const [model, inputs] of [
    ['text-mrl', ['a cat sat on the mat', 'stock prices fell sharply']],
    ['fashion-mrl', [image(1), image(2)]],
  ] as const) {
    const full = (await app.inject({ method: 'POST', url: '/embed', payload: { model, inputs } })).json();
    assert.equal(full.model, model);
    assert.equal(full.embeddings.length, 2);
    const D = full.dims;
    assert.equal(full.embeddings[0].length, D);
    for (const dims of [8, 64, D]) {
      const r = (await app.inject({ method: 'POST', url: '/embed', payload: { model, inputs, dims } })).json();
      assert.equal(r.dims, dims);
      for (let i = 0; i < 2; i++) {
        const e = r.embeddings[i] as number[];
        assert.equal(e.length, dims);
        assert.ok(Math.abs(norm(e) - 1) < 1e-5, `${model} dims=${dims} norm ${norm(e)}`);
        const prefix = (full.embeddings[i] as number[]).slice(0, dims);
        const n = norm(prefix);
        e.forEach((x, j) => assert.ok(Math.abs(x - prefix[j] / n) < 1e-5));
      }
    }
  }
});

test('POST /embed refuses bad requests with codes', async (t) => {
  const { app } = await buildTestApp(t, { MRL_MAX_EMBED_BATCH: '4' });
  const cases: [object, number, string][] = [
    [{ model: 'text-mrl', inputs: ['x'], dims: 0 }, 400, 'INVALID_DIMS'],
    [{ model: 'text-mrl', inputs: ['x'], dims: 513 }, 400, 'INVALID_DIMS'],
    [{ model: 'nope', inputs: ['x'] }, 400, 'UNKNOWN_ENCODER'],
    [{ model: 'text-mrl', inputs: [42] }, 400, 'VALIDATION'],
    [{ model: 'text-mrl', inputs: [''] }, 400, 'VALIDATION'],
    [{ model: 'text-mrl', inputs: [] }, 400, 'VALIDATION'],
    [{ model: 'text-mrl', inputs: ['a', 'b', 'c', 'd', 'e'] }, 400, 'VALIDATION'],
    [
      {
        model: 'fashion-mrl',
        inputs: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      },
      400,
      'VALIDATION',
    ],
    [{ model: 'fashion-mrl', inputs: [image(1).map((r) => r.map(() => 300))] }, 400, 'VALIDATION'],
    [{ model: 'fashion-mrl', inputs: ['not base64 png'] }, 400, 'VALIDATION'],
  ];
  for (const [payload, status, code] of cases) {
    const r = await app.inject({ method: 'POST', url: '/embed', payload });
    assert.equal(r.statusCode, status, `${JSON.stringify(payload).slice(0, 60)}: ${r.body}`);
    assert.equal(r.json().error.code, code, JSON.stringify(payload).slice(0, 60));
  }
});

test('tensors are released: tf.memory().numTensors is flat over 100 requests', async (t) => {
  const { app } = await buildTestApp(t);
  const warm = await app.inject({ method: 'POST', url: '/embed', payload: { model: 'text-mrl', inputs: ['warm up'] } });
  assert.equal(warm.statusCode, 200);
  await app.inject({ method: 'POST', url: '/embed', payload: { model: 'fashion-mrl', inputs: [image(0)] } });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 50; i++) {
    assert.equal(
      (await app.inject({ method: 'POST', url: '/embed', payload: { model: 'text-mrl', inputs: [`sentence ${i}`], dims: 32 } })).statusCode,
      200,
    );
    assert.equal(
      (await app.inject({ method: 'POST', url: '/embed', payload: { model: 'fashion-mrl', inputs: [image(i)] } })).statusCode,
      200,
    );
  }
  assert.equal(tf.memory().numTensors, before);
});

test('a new data dir gets a `default` collection bound to text-mrl: ingest text, then GET /search?q=', async (t) => {
  const { app } = await buildTestApp(t, { MRL_DEFAULT_ENCODER: 'text-mrl' });
  const c = (await app.inject('/collections/default')).json();
  assert.equal(c.encoder, 'text-mrl');
  assert.equal(c.dim, 512);
  const docs = [
    ['pets', 'My dog loves to chase the ball in the park.'],
    ['pets2', 'Cats sleep most of the day on the sofa.'],
    ['money', 'The central bank raised interest rates again this quarter.'],
    ['money2', 'Shares of the company fell after the earnings report.'],
    ['space', 'The rocket launched a satellite into orbit around the Earth.'],
  ];
  const ing = await app.inject({
    method: 'POST',
    url: '/ingest',
    payload: { collection: 'default', items: docs.map(([id, input]) => ({ id, input })) },
  });
  assert.equal(ing.statusCode, 200, ing.body);
  assert.equal(ing.json().upserted, 5);
  const r = (await app.inject(`/search?q=${encodeURIComponent('stock market and inflation')}&k=2&shortlist=5`)).json();
  assert.deepEqual(r.results.map((x: { id: string }) => x.id).sort(), ['money', 'money2']);
  const p = (await app.inject({ method: 'POST', url: '/search', payload: { input: 'a puppy playing fetch', k: 1 } })).json();
  assert.equal(p.results[0].id, 'pets');
  // The encoder's input rules apply to ingest and search alike.
  const bad = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'default', items: [{ id: 'x', input: 123 }] } });
  assert.equal(bad.json().error.code, 'VALIDATION');
  assert.equal((await app.inject('/collections/default')).json().count, 5);
});

test('an image collection bound to fashion-mrl takes images as input for ingest and search', async (t) => {
  const { app } = await buildTestApp(t);
  const created = await app.inject({ method: 'POST', url: '/collections', payload: { name: 'shop', encoder: 'fashion-mrl' } });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().dim, 512);
  const items = Array.from({ length: 20 }, (_, i) => ({ id: `img${i}`, input: image(i), label: `s${i % 3}` }));
  assert.equal((await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'shop', items } })).json().upserted, 20);
  const r = (await app.inject({ method: 'POST', url: '/search', payload: { collection: 'shop', input: image(7), k: 1 } })).json();
  assert.equal(r.results[0].id, 'img7');
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name: 'x', encoder: 'fashion-mrl', dim: 64 } })).json().error.code,
    'INVALID_COLLECTION',
  );
});
