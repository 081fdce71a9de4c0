import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LocalState } from '../../src/cluster/local-state.js';
import { buildTestApp, openData, tempDir } from '../helpers.js';

test('a log message and its sequence commit together: a redelivered sequence changes nothing', async (t) => {
  const data = await openData(t, tempDir(t), 'js');
  const rec = data.engine.createCollection({ name: 'c', dim: 2 });
  const w = (id: string, x: number) => ({ id, vector: new Float32Array([x, 1]), label: null, payload: null });
  const pos = (seq: number) => ({ collection: 'c', shard: 1, seq });
  const first = data.items.applyLogged(rec.id, pos(1), [w('a', 1), w('b', 2)], []);
  assert.equal(first?.added.length, 2);
  assert.equal(data.items.applyLogged(rec.id, pos(1), [w('z', 3)], []), null, 'seq 1 again: skipped');
  assert.equal(data.items.count(rec.id), 2);
  const del = data.items.applyLogged(rec.id, pos(2), [], ['a']);
  assert.equal(del?.removedSeqs.length, 1);
  assert.equal(data.items.count(rec.id), 1);
  const state = new LocalState(data.db);
  assert.equal(state.applied('c', 1), 2);
  assert.equal(state.applied('c', 0), 0);
  // a failing write rolls its sequence back with it
  assert.throws(() => data.items.applyLogged(rec.id, pos(3), [{ ...w('c', 1), vector: null as unknown as Float32Array }], []));
  assert.equal(state.applied('c', 1), 2);
});

test('one node (no MRL_NATS_URL): shards above 1 are refused, wait and consistency are accepted and change nothing', async (t) => {
  const { app } = await buildTestApp(t);
  const bad = await app.inject({ method: 'POST', url: '/collections', payload: { name: 's', dim: 2, shards: 3 } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'INVALID_COLLECTION');
  const ok = await app.inject({ method: 'POST', url: '/collections', payload: { name: 's', dim: 2, shards: 1 } });
  assert.equal(ok.statusCode, 201);
  assert.equal(ok.json().shards, undefined);
  const ing = await app.inject({
    method: 'POST',
    url: '/ingest',
    payload: { collection: 's', items: [{ id: 'a', vector: [1, 0] }], wait: true },
  });
  assert.equal(ing.statusCode, 200);
  assert.equal(ing.json().seqs, undefined);
  const s = await app.inject({
    method: 'POST',
    url: '/search',
    payload: { collection: 's', vector: [1, 0], consistency: { after: { 0: 5 } }, allowPartial: true },
  });
  assert.equal(s.statusCode, 200);
  assert.equal(s.json().results[0].id, 'a');
  const internal = await app.inject({ method: 'GET', url: '/cluster/status' });
  assert.equal(internal.statusCode, 404);
});
