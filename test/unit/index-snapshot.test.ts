import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PrefixIndex } from '../../src/index/prefix-index.js';
import { loadSnapshot, writeSnapshot } from '../../src/index/snapshot.js';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { rng, tempDir } from '../helpers.js';

const params = { m: 8, efConstruction: 50, efSearch: 32 };

function build(n: number): { index: PrefixIndex; vectors: Float32Array[] } {
  const r = rng(3);
  const index = PrefixIndex.create(8, params, 10);
  const vectors: Float32Array[] = [];
  for (let i = 1; i <= n; i++) {
    const v = Float32Array.from({ length: 16 }, () => r() - 0.5);
    vectors.push(v);
    index.add(i, v);
  }
  return { index, vectors };
}

test('the index grows past its initial capacity and finds an exact match first', () => {
  const { index, vectors } = build(2000);
  assert.equal(index.liveCount, 2000);
  const r = index.search(normalizedPrefix(vectors[41], 8), 5);
  assert.equal(r.seqs[0], 42);
  assert.ok(Math.abs(r.scores[0] - 1) < 1e-5);
  assert.equal(index.remove(42), true);
  assert.equal(index.remove(42), false);
  assert.equal(index.liveCount, 1999);
  assert.ok(!index.search(normalizedPrefix(vectors[41], 8), 5).seqs.includes(42));
  assert.equal(index.search(normalizedPrefix(vectors[0], 8), 5000).seqs.length, 1999); // k is clamped
});

test('a snapshot round-trips with its deleted labels', (t) => {
  const dir = tempDir(t);
  const { index, vectors } = build(300);
  index.remove(5);
  const m = writeSnapshot(dir, 1, index, 300);
  assert.equal(m.elements, 300);
  assert.equal(m.deleted, 1);
  const loaded = loadSnapshot(dir, 1, 8, params, 300);
  assert.ok(loaded.index);
  assert.equal(loaded.index.liveCount, 299);
  const q = normalizedPrefix(vectors[9], 8);
  assert.deepEqual(loaded.index.search(q, 10).seqs, index.search(q, 10).seqs);
  // Only the manifest and the current index file remain after a second snapshot.
  writeSnapshot(dir, 1, index, 300);
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('c1.')).length, 2);
});

test('missing, truncated, corrupt, mismatched or future snapshots are refused with a reason', (t) => {
  const dir = tempDir(t);
  const { index } = build(200);
  assert.equal(loadSnapshot(dir, 1, 8, params, 200).index, null);
  const m = writeSnapshot(dir, 1, index, 200);
  const file = join(dir, m.file);
  const reason = (r: ReturnType<typeof loadSnapshot>) => (r.index === null ? r.reason : 'loaded');
  assert.equal(reason(loadSnapshot(dir, 1, 16, params, 200)), 'snapshot parameters differ from the collection');
  assert.equal(reason(loadSnapshot(dir, 1, 8, { ...params, m: 16 }, 200)), 'snapshot parameters differ from the collection');
  assert.equal(reason(loadSnapshot(dir, 1, 8, params, 100)), 'snapshot is newer than the database');
  assert.equal(reason(loadSnapshot(dir, 2, 8, params, 200)), 'no snapshot');
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
  assert.equal(reason(loadSnapshot(dir, 1, 8, params, 200)), 'index file checksum mismatch');
  truncateSync(file, 100);
  assert.equal(reason(loadSnapshot(dir, 1, 8, params, 200)), 'index file truncated or resized');
  unlinkSync(file);
  assert.equal(reason(loadSnapshot(dir, 1, 8, params, 200)), 'index file missing');
  writeFileSync(join(dir, 'c1.manifest.json'), '{"format": 1, ');
  assert.equal(reason(loadSnapshot(dir, 1, 8, params, 200)), 'manifest unreadable');
});
