import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { normalizedPrefix } from '../../src/core/prefix.js';
import type { Engine } from '../../src/engine/engine.js';
import { mrlLikeVectors, openData, openEngine, tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

async function seeded(t: Parameters<typeof tempDir>[0]) {
  const dataDir = tempDir(t);
  const engine = await openEngine(t, dataDir);
  engine.createCollection({ name: 'r', dim: 32, indexDim: 8 });
  const { vectors } = mrlLikeVectors(800, 32, 5);
  await engine.upsert(
    'r',
    vectors.map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  await engine.drain(); // every row in the index too, not only committed
  return { engine, vectors, dataDir };
}

/**
 * Once the background indexing has caught up, the index holds exactly the store's live rows:
 * every stored vector is its own nearest neighbour.
 */
async function assertIndexMatchesStore(engine: Engine, name: string): Promise<void> {
  await engine.drain();
  const rt = engine.runtime(name);
  assert.equal(rt.pending.size, 0, 'rows still pending');
  const stored = new Map<number, Float32Array>();
  for (const { seq, vector } of engine.items.scan(rt.record.id)) stored.set(seq, vector);
  assert.equal(rt.index.liveCount, stored.size, 'index live count');
  assert.equal(rt.matrix.size, stored.size, 'matrix rows');
  const labels = new Set(rt.index.labels());
  for (const [seq, v] of stored) {
    assert.ok(labels.has(seq), `seq ${seq} missing from the index`);
    assert.ok(rt.matrix.has(seq), `seq ${seq} missing from the matrix`);
    const top = rt.index.search(normalizedPrefix(v, rt.record.indexDim), 1, 200);
    assert.ok(top.scores[0] > 0.9999, `seq ${seq}: nearest has score ${top.scores[0]}`);
  }
}

test('invalid vectors and ids are refused and change nothing', async (t) => {
  const { engine, vectors } = await seeded(t);
  const rt = engine.runtime('r');
  const before = {
    count: rt.count,
    elements: rt.index.elementCount,
    matrix: rt.matrix.data.slice(0, rt.matrix.size * 32),
    stored: engine.items.count(rt.record.id),
  };
  const good = vectors[0];
  const bad: [unknown, string][] = [
    [[...good.slice(0, 31), '1'], 'INVALID_VECTOR'],
    [[...good.slice(0, 31), NaN], 'INVALID_VECTOR'],
    [[...good.slice(0, 31), Infinity], 'INVALID_VECTOR'],
    [[...good.slice(0, 31), 1e39], 'INVALID_VECTOR'],
    [good.slice(0, 31), 'DIM_MISMATCH'],
    [[], 'INVALID_VECTOR'],
    [new Array(32).fill(0), 'INVALID_VECTOR'],
  ];
  for (const [vector, c] of bad) {
    // A good item first in the same batch: the batch is all-or-nothing.
    await assert.rejects(
      engine.upsert('r', [
        { id: 'new-good', vector: good },
        { id: 'x', vector },
      ]),
      code(c),
      JSON.stringify(vector).slice(-30),
    );
    await assert.rejects(engine.search('r', { vector }), code(c));
  }
  await assert.rejects(engine.upsert('r', [{ id: '', vector: good }]), code('INVALID_ID'));
  await assert.rejects(engine.upsert('r', [{ id: 'y'.repeat(257), vector: good }]), code('INVALID_ID'));
  await assert.rejects(engine.upsert('r', [{ id: 7, vector: good }]), code('INVALID_ID'));
  await assert.rejects(engine.upsert('nope', [{ id: 'a', vector: good }]), code('COLLECTION_NOT_FOUND'));
  assert.equal(rt.count, before.count);
  assert.equal(rt.index.elementCount, before.elements);
  assert.equal(engine.items.count(rt.record.id), before.stored);
  assert.deepEqual(rt.matrix.data.slice(0, rt.matrix.size * 32), before.matrix);
  assert.throws(() => engine.getItem('r', 'new-good'), code('ITEM_NOT_FOUND'));
});

test('a corrupt snapshot is rebuilt from SQLite with identical answers', async (t) => {
  const { engine, vectors, dataDir } = await seeded(t);
  const before = await engine.search('r', { vector: vectors[3] }, { k: 10 });
  await engine.close();
  const dir = join(dataDir, 'index');
  const file = readdirSync(dir).find((f) => f.endsWith('.hnsw'))!;
  const bytes = readFileSync(join(dir, file));
  for (let i = 200; i < 400; i++) bytes[i] = 0x7f;
  writeFileSync(join(dir, file), bytes);
  const again = await openEngine(t, dataDir);
  const open = again.describe('r').index.lastOpen!;
  assert.equal(open.loadedSnapshot, false);
  assert.equal(open.reason, 'index file checksum mismatch');
  assert.equal(open.replayed, 800);
  assert.deepEqual((await again.search('r', { vector: vectors[3] }, { k: 10 })).results, before.results);
  await assertIndexMatchesStore(again, 'r');
  await again.close();
  assert.equal((await openEngine(t, dataDir)).describe('r').index.lastOpen!.loadedSnapshot, true); // rewritten at close
});

test('rows written or deleted behind a snapshot are replayed at open', async (t) => {
  const { engine, vectors, dataDir } = await seeded(t);
  await engine.close();
  // Another writer (or a crash before the next snapshot) changes SQLite behind the snapshot.
  const raw = new Database(join(dataDir, 'mrl.sqlite'));
  raw.prepare("DELETE FROM items WHERE id IN ('v1', 'v2', 'v3')").run();
  raw.close();
  const mid = await openData(t, dataDir);
  await mid.engine.upsert('r', [
    { id: 'v4', vector: vectors[700] },
    { id: 'extra', vector: vectors[701] },
  ]);
  mid.db.close(); // die without a snapshot
  const again = await openEngine(t, dataDir);
  const open = again.describe('r').index.lastOpen!;
  assert.equal(open.loadedSnapshot, true);
  assert.equal(open.replayed, 2); // the two upserted rows
  assert.equal(open.removed, 4); // three deleted rows and v4's replaced one
  assert.equal(again.runtime('r').count, 798);
  await assertIndexMatchesStore(again, 'r');
  const r = await again.search('r', { vector: vectors[1] }, { k: 50 });
  assert.ok(!r.results.some((x) => ['v1', 'v2', 'v3'].includes(x.id)));
});

test('SIGKILL in the middle of an ingest loses no acknowledged row, and the index matches SQLite', async (t) => {
  const dataDir = tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/ingest-child.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (c) => reject(new Error(`child exited early with ${c}`)));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ACK ')) acked = Number(l.slice(4));
      if (acked >= 2000) {
        child.removeAllListeners('exit');
        child.kill('SIGKILL');
        child.on('exit', () => resolve());
      }
    });
  });
  const engine = await openEngine(t, dataDir);
  const rt = engine.runtime('crash');
  const deleted = new Set<string>();
  for (let b = 0; b * 50 < acked; b++) if (b % 7 === 3) deleted.add(`r${b * 50 - 3}`);
  for (let i = 0; i < acked; i++) {
    if (deleted.has(`r${i}`)) continue;
    const row = engine.items.getById(rt.record.id, `r${i}`);
    assert.ok(row, `acknowledged row r${i} lost`);
    assert.equal(engine.items.text.textOf(row.seq), `row${i} batch${Math.floor(i / 50)}`, `acknowledged row r${i} lost its keyword text`);
  }
  // Keyword search sees exactly the rows SQLite holds: one per acknowledged id, none for a deleted one.
  assert.deepEqual(
    (await engine.search('crash', {}, { text: 'row1234' })).results.map((h) => h.id),
    ['r1234'],
  );
  for (const id of [...deleted].slice(0, 5))
    assert.equal((await engine.search('crash', {}, { text: id.replace('r', 'row') })).results.length, 0, id);
  assert.ok(rt.count >= acked - deleted.size);
  assert.equal(engine.describe('crash').index.lastOpen!.loadedSnapshot, true, engine.describe('crash').index.lastOpen!.reason);
  await assertIndexMatchesStore(engine, 'crash');
  const { vectors } = mrlLikeVectors(20_000, 32, 11);
  const r = await engine.search('crash', { vector: vectors[1234] }, { k: 1 });
  assert.equal(r.results[0].id, 'r1234');
});
