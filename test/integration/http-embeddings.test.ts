import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { tf } from '../../src/encoders/tf-backend.js';
import { buildTestApp, KEEP_IDLE_CONNECTIONS } from '../helpers.js';
import { brownSentences, cosine, fashionImages, sharedModelsWithOnnx } from '../onnx-models.js';

/** The real server on an ephemeral port over a copy of the models with their ONNX graphs. */
async function server(t: TestContext, env: Record<string, string> = {}, models = sharedModelsWithOnnx()) {
  const { app, ctx } = await buildTestApp(t, { MRL_MODELS_DIR: models, ...KEEP_IDLE_CONNECTIONS, ...env });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const post = async (url: string, body: unknown) => {
    const r = await fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const get = async (url: string) => (await fetch(base + url)).text();
  return { app, ctx, base, post, get };
}

const metric = (text: string, name: string) =>
  Number(
    /^(\S+) (\S+)$/m.exec(
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name} `))
        .join('\n'),
    )?.[2],
  );

test('/health: both encoders on onnxruntime; TF.js with the reason when asked for', async (t) => {
  const { get } = await server(t);
  const health = JSON.parse(await get('/health'));
  assert.deepEqual(
    health.encoders.map((e: { name: string; backend: string; fallbackReason: null }) => [e.name, e.backend, e.fallbackReason]),
    [
      ['fashion-mrl', 'onnxruntime', null],
      ['text-mrl', 'onnxruntime', null],
    ],
  );
  const tfjs = await server(t, { MRL_ENCODER_BACKEND: 'tfjs' });
  const h2 = JSON.parse(await tfjs.get('/health'));
  assert.deepEqual(
    h2.encoders.map((e: { backend: string; fallbackReason: string }) => [e.backend, e.fallbackReason]),
    [
      ['tfjs', 'MRL_ENCODER_BACKEND=tfjs'],
      ['tfjs', 'MRL_ENCODER_BACKEND=tfjs'],
    ],
  );
});

test('concurrent /embed requests are batched, and each gets its own vectors, in order', async (t) => {
  const { post, get } = await server(t, { MRL_EMBED_CACHE: '0', MRL_EMBED_BATCH_WINDOW_US: '5000' });
  const texts = brownSentences(24);
  // References: one request per sentence, one after the other (each a batch of its own).
  const ref: number[][] = [];
  for (const s of texts) ref.push((await post('/embed', { model: 'text-mrl', inputs: [s] })).body.embeddings[0]);
  const before = JSON.parse(await get('/health')).encoders.find((e: { name: string }) => e.name === 'text-mrl').batch;
  // 12 concurrent requests of 1..3 sentences each.
  const groups = Array.from({ length: 12 }, (_, i) => texts.slice(2 * i, 2 * i + 1 + (i % 3 === 0 ? 0 : i % 2 === 0 ? 2 : 1)));
  const replies = await Promise.all(groups.map((inputs) => post('/embed', { model: 'text-mrl', inputs })));
  replies.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.body.embeddings.length, groups[i].length);
    r.body.embeddings.forEach((e: number[], j: number) => {
      const want = ref[texts.indexOf(groups[i][j])];
      assert.ok(cosine(e, want) > 0.99999, `request ${i} input ${j}: cosine ${cosine(e, want)}`);
    });
  });
  const after = JSON.parse(await get('/health')).encoders.find((e: { name: string }) => e.name === 'text-mrl').batch;
  const calls = after.calls - before.calls;
  const launches = after.launches - before.launches;
  assert.equal(calls, 12);
  assert.ok(launches < calls, `${calls} calls in ${launches} launches: nothing was batched`);
});

test('a bad input fails only its own request among concurrent batched ones', async (t) => {
  const { post } = await server(t, { MRL_EMBED_CACHE: '0', MRL_EMBED_BATCH_WINDOW_US: '5000' });
  const texts = brownSentences(6);
  const ref = (await post('/embed', { model: 'text-mrl', inputs: texts })).body.embeddings as number[][];
  const bodies: unknown[] = texts.map((s) => ({ model: 'text-mrl', inputs: [s] }));
  bodies.splice(3, 0, { model: 'text-mrl', inputs: [texts[0], 42] }, { model: 'text-mrl', inputs: ['ok', ' '] });
  const replies = await Promise.all(bodies.map((b) => post('/embed', b)));
  assert.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 200, 400, 400, 200, 200, 200],
  );
  assert.equal(replies[3].body.error.code, 'VALIDATION');
  assert.match(replies[3].body.error.message, /inputs\[1\]/);
  const good = replies.filter((r) => r.status === 200);
  good.forEach((r, i) => assert.ok(cosine(r.body.embeddings[0], ref[i]) > 0.99999));
});

test("the query cache serves repeats (counted in /metrics) and never another input's vector", async (t) => {
  const { post, get, ctx } = await server(t, { MRL_EMBED_CACHE: '8' });
  const texts = brownSentences(12);
  const fresh = new Map<string, number[]>();
  for (const s of texts) fresh.set(s, (await post('/embed', { model: 'text-mrl', inputs: [s] })).body.embeddings[0]);
  const m0 = await get('/metrics');
  // Interleaved repeats, concurrent, over a cache smaller than the set (so entries are evicted and refilled).
  const order = Array.from({ length: 60 }, (_, i) => texts[(i * 7) % texts.length]);
  const replies = await Promise.all(order.map((s) => post('/embed', { model: 'text-mrl', inputs: [s] })));
  replies.forEach((r, i) => assert.ok(cosine(r.body.embeddings[0], fresh.get(order[i])!) > 0.99999, `reply ${i}`));
  const m1 = await get('/metrics');
  const hits = metric(m1, 'mrl_embed_cache_hits_total') - metric(m0, 'mrl_embed_cache_hits_total');
  const misses = metric(m1, 'mrl_embed_cache_misses_total') - metric(m0, 'mrl_embed_cache_misses_total');
  assert.equal(hits + misses, 60);
  assert.ok(hits > 0, `hits ${hits}`);
  assert.ok(ctx.encoders.cache.size <= 8);
  // Same words, other input: its own vector, not the cached one.
  const [a, b] = ['The cat sat.', 'the cat sat.'];
  const va = (await post('/embed', { model: 'text-mrl', inputs: [a] })).body.embeddings[0];
  const vb = (await post('/embed', { model: 'text-mrl', inputs: [b] })).body.embeddings[0];
  const both = (await post('/embed', { model: 'text-mrl', inputs: [b, a] })).body.embeddings;
  assert.ok(cosine(va, vb) < 0.9999, 'the two inputs embed differently');
  assert.ok(cosine(both[0], vb) > 0.99999 && cosine(both[1], va) > 0.99999);
});

test('GET /search?q= goes through the cache: the second identical query is a hit', async (t) => {
  const { post, get, base } = await server(t, { MRL_EMBED_CACHE: '16' });
  await post('/collections', { name: 'docs', dim: 512, encoder: 'text-mrl' });
  const texts = brownSentences(20);
  const ing = await post('/ingest', { collection: 'docs', items: texts.map((s, i) => ({ id: `s${i}`, input: s })) });
  assert.equal(ing.status, 200, JSON.stringify(ing.body));
  const url = `${base}/search?collection=docs&q=${encodeURIComponent(texts[3])}&k=3`;
  const m0 = metric(await get('/metrics'), 'mrl_embed_cache_hits_total');
  const r1 = await (await fetch(url)).json();
  const r2 = await (await fetch(url)).json();
  assert.equal(r1.results[0].id, 's3');
  assert.deepEqual(
    r2.results.map((r: { id: string }) => r.id),
    r1.results.map((r: { id: string }) => r.id),
  );
  assert.equal(metric(await get('/metrics'), 'mrl_embed_cache_hits_total') - m0, 1);
});

test('TF.js fallback: tf.memory().numTensors stays flat over batched embeds and searches', async (t) => {
  const { post, base } = await server(t, { MRL_ENCODER_BACKEND: 'tfjs', MRL_EMBED_CACHE: '0', MRL_EMBED_BATCH_WINDOW_US: '2000' });
  const texts = brownSentences(16);
  const images = fashionImages(8);
  await post('/collections', { name: 'docs', dim: 512, encoder: 'text-mrl' });
  await post('/ingest', { collection: 'docs', items: texts.map((s, i) => ({ id: `s${i}`, input: s })) });
  const round = () =>
    Promise.all([
      ...texts.slice(0, 8).map((s) => post('/embed', { model: 'text-mrl', inputs: [s] })),
      ...images.slice(0, 4).map((im) => post('/embed', { model: 'fashion-mrl', inputs: [im] })),
      ...texts.slice(8, 12).map((s) => fetch(`${base}/search?collection=docs&q=${encodeURIComponent(s)}`).then((r) => r.json())),
    ]);
  await round();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) await round();
  assert.equal(tf.memory().numTensors, before);
});
