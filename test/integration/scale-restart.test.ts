import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { buildTestApp, mrlLikeVectors, openData, openEngine, tempDir } from '../helpers.js';

const N = 1200;
const DIM = 48;
const { vectors } = mrlLikeVectors(N + 50, DIM, 17);
const QUERIES = [3, 77, 420, 999, N + 10].map((i) => vectors[i]);
const OPTS = [{ k: 10 }, { k: 10, shortlist: 40, rerank: 16 }, { k: 5, exact: true }];

async function ingest(engine: Engine): Promise<void> {
  engine.createCollection({ name: 's', dim: DIM, indexDim: 8, rerankDim: 32, residentDim: 32 });
  for (let i = 0; i < N; i += 300)
    await engine.upsert(
      's',
      vectors.slice(i, i + 300).map((v, j) => ({ id: `v${i + j}`, vector: v })),
    );
  await engine.deleteItems('s', ['v5', 'v600']);
  await engine.drain();
}

async function answers(engine: Engine) {
  const out = [];
  for (const q of QUERIES) for (const o of OPTS) out.push((await engine.search('s', { vector: q }, o)).results);
  return out;
}

/** The matrix holds exactly the store's rows, with their first R values. */
function assertMatrixMatchesStore(engine: Engine): void {
  const rt = engine.runtime('s');
  let n = 0;
  for (const { seq, vector } of engine.items.scan(rt.record.id)) {
    const slot = rt.matrix.slotOf(seq);
    assert.ok(slot !== undefined, `seq ${seq} missing from the matrix`);
    assert.deepEqual(rt.matrix.data.subarray(slot * 32, slot * 32 + 32), vector.subarray(0, 32));
    n++;
  }
  assert.equal(rt.matrix.size, n);
}

test('a restart from both snapshots answers exactly as a fresh build', async (t) => {
  const fresh = await openEngine(t, tempDir(t));
  await ingest(fresh);
  const expected = await answers(fresh);
  const dataDir = tempDir(t);
  const first = await openEngine(t, dataDir);
  await ingest(first);
  await first.close();
  const again = await openEngine(t, dataDir);
  const open = again.describe('s').index.lastOpen!;
  assert.equal(open.loadedSnapshot, true, open.reason);
  assert.equal(open.matrix.loadedSnapshot, true, open.matrix.reason);
  assert.deepEqual([open.replayed, open.removed, open.matrix.replayed, open.matrix.removed], [0, 0, 0, 0]);
  assert.equal(again.runtime('s').pending.size, 0);
  assertMatrixMatchesStore(again);
  assert.deepEqual(await answers(again), expected);
});

test('a corrupt matrix snapshot (one flipped byte) is rebuilt from SQLite and answers correctly', async (t) => {
  const dataDir = tempDir(t);
  const first = await openEngine(t, dataDir);
  await ingest(first);
  const expected = await answers(first);
  await first.close();
  const dir = join(dataDir, 'index');
  const file = join(
    dir,
    readdirSync(dir).find((f) => f.startsWith('m') && f.endsWith('.bin'))!,
  );
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 3)] ^= 0x01;
  writeFileSync(file, bytes);
  const again = await openEngine(t, dataDir);
  const open = again.describe('s').index.lastOpen!;
  assert.equal(open.matrix.loadedSnapshot, false);
  assert.equal(open.matrix.reason, 'matrix file checksum mismatch');
  assert.equal(open.matrix.replayed, N - 2);
  assert.equal(open.loadedSnapshot, true); // the index snapshot was intact
  assertMatrixMatchesStore(again);
  assert.deepEqual(await answers(again), expected);
});

test('rows written behind a matrix snapshot are replayed, deleted ones dropped', async (t) => {
  const dataDir = tempDir(t);
  const data = await openData(t, dataDir);
  const first = data.engine;
  await ingest(first);
  first.snapshotAll();
  await first.upsert('s', [
    { id: 'late', vector: vectors[N + 1] },
    { id: 'v7', vector: vectors[N + 2] },
  ]);
  await first.deleteItems('s', ['v8']);
  await first.drain();
  const expected = await answers(first);
  data.db.close(); // die without a snapshot: the engine's close then writes none
  const again = await openEngine(t, dataDir);
  const open = again.describe('s').index.lastOpen!;
  assert.equal(open.matrix.loadedSnapshot, true, open.matrix.reason);
  assert.deepEqual([open.matrix.replayed, open.matrix.removed], [2, 2]); // late and the new v7; old v7 and v8
  assert.deepEqual([open.replayed, open.removed], [2, 2]);
  assertMatrixMatchesStore(again);
  assert.deepEqual(await answers(again), expected);
});

test('a row committed but not yet in the index is found by search, and a deleted pending row is not', async (t) => {
  // The JS kernel resolves at once: nothing below yields a macrotask turn, so no index slice runs.
  const engine = await openEngine(t, tempDir(t), 'js');
  await ingest(engine);
  const rt = engine.runtime('s');
  await engine.upsert(
    's',
    vectors.slice(0, 300).map((v, i) => ({ id: `v${i}`, vector: v, label: 'c' })),
  );
  await engine.drain();
  await engine.upsert('s', [
    { id: 'new', vector: vectors[N + 20], label: 'c' },
    { id: 'gone', vector: vectors[N + 21] },
  ]);
  assert.equal(rt.pending.size, 2);
  const newSeq = engine.items.getById(rt.record.id, 'new')!.seq;
  assert.ok(!rt.index.labels().includes(newSeq), 'the row is not in the index yet');
  for (const opts of [{ k: 1 }, { k: 1, shortlist: 20, rerank: 16 }, { k: 1, rerank: 8, shortlist: 10 }]) {
    const r = await engine.search('s', { vector: vectors[N + 20] }, opts);
    assert.equal(r.results[0].id, 'new', JSON.stringify(opts));
    assert.ok(r.results[0].score > 0.9999);
  }
  // A filtered search through the graph (the plan forced): the graph alone has enough matching rows.
  const filtered = await engine.search('s', { vector: vectors[N + 20] }, { k: 1, filter: { label: 'c' }, filterExactBelow: 0 });
  assert.equal(filtered.filter?.plan, 'index-filtered');
  assert.equal(filtered.filter?.fallback, false);
  assert.equal(filtered.results[0].id, 'new');
  assert.equal(rt.pending.size, 2, 'the searches above ran while both rows were pending');
  await engine.deleteItems('s', ['gone']);
  assert.equal(rt.pending.size, 1);
  const r = await engine.search('s', { vector: vectors[N + 21] }, { k: 5 });
  assert.ok(!r.results.some((x) => x.id === 'gone'));
  await engine.drain();
  assert.equal(rt.pending.size, 0);
  assert.ok(rt.index.labels().includes(newSeq));
  assert.equal((await engine.search('s', { vector: vectors[N + 20] }, { k: 1 })).results[0].id, 'new');
});

test('over HTTP, a search right after an acknowledged write sees it', async (t) => {
  const { app } = await buildTestApp(t);
  const created = await app.inject({ method: 'POST', url: '/collections', payload: { name: 'h', dim: DIM, indexDim: 8 } });
  assert.equal(created.statusCode, 201, created.body);
  const seed = await app.inject({
    method: 'POST',
    url: '/ingest',
    payload: { collection: 'h', items: vectors.slice(0, 400).map((v, i) => ({ id: `v${i}`, vector: v })) },
  });
  assert.equal(seed.statusCode, 200, seed.body);
  for (let i = 0; i < 5; i++) {
    const id = `w${i}`;
    const v = vectors[N + 30 + i];
    const w = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'h', items: [{ id, vector: v }] } });
    assert.equal(w.statusCode, 200, w.body);
    const s = await app.inject({ method: 'POST', url: '/search', payload: { collection: 'h', vector: v, k: 1 } });
    assert.equal(s.json().results[0].id, id);
  }
});

test('quantised rows: a restart from both snapshots (int8 codes and scales) answers exactly as before; without the index snapshot the graph is rebuilt from the store', async (t) => {
  const dataDir = tempDir(t);
  const first = await openEngine(t, dataDir);
  first.createCollection({ name: 'q', dim: DIM, indexDim: 8, rerankDim: 32, residentDim: 32, residentType: 'int8' });
  await first.upsert(
    'q',
    vectors.slice(0, 600).map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  await first.drain();
  const before = [];
  for (const q of QUERIES) before.push((await first.search('q', { vector: q }, { k: 10 })).results);
  await first.close();
  const again = await openEngine(t, dataDir);
  const open = again.describe('q').index.lastOpen!;
  assert.equal(open.matrix.loadedSnapshot, true, open.matrix.reason);
  for (let i = 0; i < QUERIES.length; i++)
    assert.deepEqual((await again.search('q', { vector: QUERIES[i] }, { k: 10 })).results, before[i]);
  await again.close();
  const dir = join(dataDir, 'index');
  for (const f of readdirSync(dir).filter((f) => f.startsWith('c'))) writeFileSync(join(dir, f), 'gone');
  const rebuilt = await openEngine(t, dataDir);
  assert.equal(rebuilt.describe('q').index.lastOpen!.loadedSnapshot, false);
  await rebuilt.drain();
  assert.equal(rebuilt.runtime('q').index.liveCount, 600);
  assert.equal((await rebuilt.search('q', { vector: vectors[42] }, { k: 1 })).results[0].id, 'v42');
});
