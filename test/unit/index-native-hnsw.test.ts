import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { PendingIndex } from '../../src/engine/pending-index.js';
import { nativeHnsw } from '../../src/index/native-hnsw.js';
import { PrefixIndex } from '../../src/index/prefix-index.js';
import { topPendingJs, withPending } from '../../src/search/pending.js';
import { rng } from '../helpers.js';

const HNSW = { m: 8, efConstruction: 60, efSearch: 40 };
const D = 16;

/** n normalised random rows of D dims, one block. */
function rows(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++)
    out.set(
      normalizedPrefix(
        Float32Array.from({ length: D }, () => r() - 0.5),
        D,
      ),
      i * D,
    );
  return out;
}
const rowOf = (data: Float32Array, i: number) => data.subarray(i * D, (i + 1) * D);
const labelsTo = (n: number) => Uint32Array.from({ length: n }, (_, i) => i + 1);

/** The exact top k labels (1-based) of `data` for `q` by inner product. */
function exact(data: Float32Array, q: Float32Array, k: number): number[] {
  const scored: [number, number][] = [];
  for (let i = 0; i < data.length / D; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += q[j] * data[i * D + j];
    scored.push([s, i + 1]);
  }
  return scored
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, l]) => l);
}

test('a batch inserted on the thread pool makes the same graph as rows added one by one, and searches run while it inserts', async () => {
  const n = 3000;
  const data = rows(n, 1);
  const one = PrefixIndex.create(D, HNSW, 16); // grows as it fills
  for (let i = 0; i < n; i++) one.add(i + 1, rowOf(data, i));
  const batch = PrefixIndex.create(D, HNSW, 16);
  let done = false;
  const inserting = batch.addBatch(labelsTo(n), data).then(() => (done = true));
  let during = 0;
  while (!done) {
    // Whatever part is in the graph, a search returns labels of inserted rows only.
    const r = batch.search(rowOf(data, during % n), 5);
    for (const s of r.seqs) assert.ok(s >= 1 && s <= n);
    during++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await inserting;
  assert.ok(during > 1, `${during} searches while it inserted`);
  assert.equal(batch.elementCount, n);
  assert.deepEqual(new Set(batch.labels()), new Set(labelsTo(n)));
  let agree = 0;
  let recall = 0;
  for (let i = 0; i < 50; i++) {
    const q = rowOf(data, i * 7);
    const a = batch.search(q, 10);
    assert.deepEqual(a, one.search(q, 10)); // same seed, same order: the same graph
    const truth = new Set(exact(data, q, 10));
    recall += a.seqs.filter((s) => truth.has(s)).length / 10;
    agree++;
  }
  assert.ok(recall / agree > 0.9, `recall@10 ${recall / agree}`);
  one.release();
  batch.release();
});

test("the split insertion (neighbours worked out beside searches, links written alone) makes hnswlib's own graph, byte for byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-native-hnsw-'));
  try {
    const n = 3000; // at m = 8 about one row in eight has upper levels, and most lists fill up (the heuristic re-chooses them)
    const data = rows(n, 6);
    const ours = PrefixIndex.create(D, HNSW, n);
    await ours.addBatch(labelsTo(n), data);
    ours.writeSync(join(dir, 'ours.hnsw'));
    const theirs = new hnswlib.HierarchicalNSW('ip', D);
    theirs.initIndex({ maxElements: n, m: HNSW.m, efConstruction: HNSW.efConstruction, randomSeed: 100 });
    for (let i = 0; i < n; i++) theirs.addPoint(Array.from(rowOf(data, i)), i + 1);
    theirs.writeIndexSync(join(dir, 'theirs.hnsw'));
    const a = readFileSync(join(dir, 'ours.hnsw'));
    const b = readFileSync(join(dir, 'theirs.hnsw'));
    assert.equal(a.length, b.length);
    assert.ok(a.equals(b), 'the same bytes');
    ours.release();

    // Growing as it fills (the binding copies the arrays beside the searches, then swaps them in):
    // the same bytes as hnswlib's own resizeIndex at the same sizes.
    const grown = PrefixIndex.create(D, HNSW, 16); // capacity 1,024, then ×1.5 + 1,024 each time it is full
    await grown.addBatch(labelsTo(n), data);
    grown.writeSync(join(dir, 'grown.hnsw'));
    const resized = new hnswlib.HierarchicalNSW('ip', D);
    resized.initIndex({ maxElements: 1024, m: HNSW.m, efConstruction: HNSW.efConstruction, randomSeed: 100 });
    for (let i = 0; i < n; i++) {
      if (resized.getCurrentCount() >= resized.getMaxElements()) resized.resizeIndex(Math.ceil(resized.getMaxElements() * 1.5) + 1024);
      resized.addPoint(Array.from(rowOf(data, i)), i + 1);
    }
    resized.writeIndexSync(join(dir, 'resized.hnsw'));
    assert.ok(readFileSync(join(dir, 'grown.hnsw')).equals(readFileSync(join(dir, 'resized.hnsw'))), 'the same bytes after growing');
    grown.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deletes, filters, snapshot files of either binding, wrong dims and released handles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-native-hnsw-'));
  try {
    const n = 500;
    const data = rows(n, 2);
    const index = PrefixIndex.create(D, HNSW, n);
    for (let i = 0; i < n; i++) index.add(i + 1, rowOf(data, i));
    const q = rowOf(data, 9);
    assert.equal(index.search(q, 1).seqs[0], 10);
    assert.ok(Math.abs(index.search(q, 1).scores[0] - 1) < 1e-5);
    assert.equal(index.remove(10), true);
    assert.equal(index.remove(10), false);
    assert.equal(index.remove(99999), false);
    assert.equal(index.liveCount, n - 1);
    assert.ok(!index.search(q, 20).seqs.includes(10));
    const even = index.search(q, 10, 100, (s) => s % 2 === 0);
    assert.equal(even.seqs.length, 10);
    assert.ok(even.seqs.every((s) => s % 2 === 0));

    // A file this binding writes loads here, and one hnswlib-node writes too (the snapshot format).
    const file = join(dir, 'a.hnsw');
    index.writeSync(file);
    const loaded = PrefixIndex.load(file, D, HNSW);
    assert.equal(loaded.deletedCount, 1, 'the file keeps the deleted mark');
    assert.deepEqual(loaded.search(q, 10), index.search(q, 10));
    const other = new hnswlib.HierarchicalNSW('ip', D);
    other.initIndex({ maxElements: n, m: HNSW.m, efConstruction: HNSW.efConstruction, randomSeed: 100 });
    for (let i = 0; i < n; i++) other.addPoint(Array.from(rowOf(data, i)), i + 1);
    other.writeIndexSync(join(dir, 'b.hnsw'));
    const fromNode = PrefixIndex.load(join(dir, 'b.hnsw'), D, HNSW);
    other.setEf(HNSW.efSearch);
    assert.deepEqual(fromNode.search(q, 10).seqs, other.searchKnn(Array.from(q), 10).neighbors);

    assert.throws(() => PrefixIndex.load(file, D * 2, HNSW), /16 dims, expected 32/);
    assert.throws(() => PrefixIndex.load(join(dir, 'missing.hnsw'), D, HNSW), /Cannot open file/);
    assert.throws(() => index.search(new Float32Array(D + 1), 3), /query length/);
    index.release();
    index.release(); // safe twice
    assert.throws(() => index.search(q, 3), /released index handle/);
    loaded.release();
    fromNode.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the native pending scan returns what the JS scan returns (skipping empty slots, from `start`)', () => {
  const n = 5000;
  const data = rows(n, 3);
  const seqs = Uint32Array.from({ length: n }, (_, i) => (i % 5 === 2 ? 0 : i + 1));
  const block = { dim: D, size: n, start: 7, end: n - 3, data, seqs };
  for (const want of [1, 10, 200, 6000]) {
    const q = rowOf(data, want % n);
    const a = nativeHnsw.scanTop(data, seqs, block.start, block.end, q, want);
    const b = topPendingJs(block, q, want);
    assert.deepEqual(Array.from(a.seqs), b.seqs, `want ${want}`);
    a.scores.forEach((s, i) => assert.ok(Math.abs(s - b.scores[i]) < 1e-5));
  }
  assert.throws(() => nativeHnsw.scanTop(data, seqs, 0, n + 1, rowOf(data, 0), 5), /out of range/);
});

test('rows deleted while their batch is inserted leave the index after it; rows given new values stay pending; a search counts each row once', async () => {
  const n = 2000;
  const data = rows(n, 4);
  const index = PrefixIndex.create(D, HNSW, 16);
  const pending = new PendingIndex(D);
  for (let i = 0; i < n; i++) pending.add(i + 1, rowOf(data, i));
  const batch = pending.indexBatch(index); // the first 512 rows
  assert.equal(pending.overlapping, true);
  // While it inserts: row 5 deleted, row 6 given other values (a replica's repeated message).
  assert.equal(pending.delete(5), true);
  const moved = rowOf(data, 1999);
  pending.add(6, moved);
  // Rows being inserted may be found by both: the merged list holds each seq once.
  const q = rowOf(data, 0);
  const merged = withPending(index.search(q, 50), pending, q, 50);
  assert.equal(new Set(merged.seqs).size, merged.seqs.length);
  assert.deepEqual(
    await batch,
    Array.from({ length: 512 }, (_, i) => i + 1).filter((s) => s !== 5 && s !== 6),
  ); // what left the pending set
  assert.equal(pending.overlapping, false);
  assert.equal(pending.has(5), false);
  assert.equal(pending.has(6), true); // its new values go in with the next batch
  assert.equal(pending.has(7), false);
  assert.equal(pending.size, n - 512 + 1); // 510 went in, 5 left before, 6 stays
  assert.ok(!index.search(rowOf(data, 4), 20).seqs.includes(5)); // deleted after it went in
  assert.equal(index.deletedCount, 1);
  while (pending.size > 0) await pending.indexBatch(index);
  assert.equal(index.search(moved, 2).seqs.includes(6), true);
  index.release();
});
