import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decodeOp, encodeOp, vectorToB64 } from '../../src/cluster/codec.js';
import { mergeTop } from '../../src/cluster/scatter.js';
import { servedShards, serves, shardOf } from '../../src/cluster/shard.js';
import { sameTuning } from '../../src/cluster/tuning.js';
import { ConfigError, loadConfig } from '../../src/config.js';

test('shardOf is 32-bit FNV-1a of the UTF-8 id: pinned values, and ids spread evenly', () => {
  // FNV-1a("a") = 0xe40c292c; the others computed independently (Python) once
  assert.equal(shardOf('a', 2 ** 32 - 1 + 1), 0xe40c292c);
  assert.deepEqual(
    ['a', 'doc-1', 'é', ''].map((id) => shardOf(id, 1_000_003)),
    [990745, 945513, 663678, 129763],
  );
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[shardOf(`item-${i}`, 3)]++;
  for (const c of counts) assert.ok(c > 900 && c < 1100, `uneven: ${counts.join(', ')}`);
  assert.equal(shardOf('anything', 1), 0);
});

test('MRL_SERVE_SHARDS: all, shard lists, and lists per collection', () => {
  assert.ok(serves('all', 'x', 7));
  assert.deepEqual(servedShards('0,2', 'docs', 3), [0, 2]);
  assert.deepEqual(servedShards('docs:0,1;logs:2', 'docs', 3), [0, 1]);
  assert.deepEqual(servedShards('docs:0,1;logs:2', 'logs', 3), [2]);
  assert.deepEqual(servedShards('docs:0,1;logs:2', 'other', 3), []);
  assert.equal(serves('1', 'docs', 10), false);
});

test('log messages carry float32 vectors exactly, and deletes as ids', () => {
  const v = new Float32Array([0.1, -3.5e-8, 1e30, 0]);
  const { upserts, deletes } = decodeOp(
    encodeOp({ op: 'upsert', items: [{ id: 'x', v: vectorToB64(v), label: 'l', payload: '{"a":1}', text: 'some words' }] }),
  );
  assert.deepEqual(deletes, []);
  assert.deepEqual(Array.from(upserts[0].vector), Array.from(v));
  assert.deepEqual({ ...upserts[0], vector: null }, { id: 'x', vector: null, label: 'l', payload: '{"a":1}', text: 'some words' });
  assert.deepEqual(decodeOp(encodeOp({ op: 'delete', ids: ['a', 'b'] })), { upserts: [], deletes: ['a', 'b'], patches: [] });
  assert.deepEqual(decodeOp(encodeOp({ op: 'patch', id: 'a', patch: { label: null, text: 't' } })), {
    upserts: [],
    deletes: [],
    patches: [{ id: 'a', patch: { label: null, text: 't' } }],
  });
});

test('mergeTop: best k by score over every answer, one hit per id, the query item left out', () => {
  const h = (id: string, score: number) => ({ id, score, label: null, payload: null });
  const merged = mergeTop([[h('a', 0.9), h('b', 0.5)], [h('a', 0.9), h('c', 0.7), h('q', 1)], [h('d', 0.1)]], 3, 'q');
  assert.deepEqual(
    merged.map((x) => x.id),
    ['a', 'c', 'b'],
  );
  assert.equal(mergeTop([[h('a', 1)]], 5).length, 1);
});

test('cluster mode is configured only by MRL_NATS_URL, and then needs a cluster key', () => {
  assert.equal(loadConfig({}).cluster, null);
  assert.throws(() => loadConfig({ MRL_NATS_URL: 'nats://127.0.0.1:4222' }), ConfigError);
  assert.throws(() => loadConfig({ MRL_NATS_URL: 'nats://a:1', MRL_CLUSTER_KEY: 'k'.repeat(16), MRL_SERVE_SHARDS: 'x;y' }), ConfigError);
  assert.throws(() => loadConfig({ MRL_NATS_URL: 'nats://a:1', MRL_CLUSTER_KEY: 'k'.repeat(16), MRL_NODE_ID: 'a.b' }), ConfigError);
  const c = loadConfig({
    MRL_NATS_URL: 'nats://a:1, nats://b:2',
    MRL_CLUSTER_KEY: 'k'.repeat(16),
    PORT: '9000',
    MRL_NODE_ID: 'n1',
    MRL_SERVE_SHARDS: 'docs:0,1',
  }).cluster;
  assert.deepEqual(c && { s: c.natsServers, id: c.nodeId, url: c.nodeUrl, serve: c.serveShards }, {
    s: ['nats://a:1', 'nats://b:2'],
    id: 'n1',
    url: 'http://127.0.0.1:9000',
    serve: 'docs:0,1',
  });
  assert.equal(c?.writeTimeoutMs, 10_000);
  const base = { MRL_NATS_URL: 'nats://a:1', MRL_CLUSTER_KEY: 'k'.repeat(16) };
  assert.equal(loadConfig({ ...base, MRL_WRITE_TIMEOUT_MS: '2500' }).cluster?.writeTimeoutMs, 2500);
  assert.throws(() => loadConfig({ ...base, MRL_WRITE_TIMEOUT_MS: '10' }), ConfigError);
});

test('tunings compare by value, whatever the order of their search defaults', () => {
  const t = { indexDim: 8, searchDefaults: { shortlist: 150, rerank: 32 }, indexedFields: ['year'] };
  assert.ok(sameTuning(t, { indexedFields: ['year'], searchDefaults: { rerank: 32, shortlist: 150 }, indexDim: 8 }));
  assert.ok(!sameTuning(t, { ...t, searchDefaults: { shortlist: 150 } }));
  assert.ok(!sameTuning(t, { ...t, indexedFields: ['year', 'lang'] }));
  assert.ok(!sameTuning(t, { ...t, indexDim: 16 }));
  assert.ok(!sameTuning(t, undefined));
});
