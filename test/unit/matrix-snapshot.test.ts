import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { loadMatrixSnapshot, removeMatrixSnapshotFiles, writeMatrixSnapshot } from '../../src/index/matrix-snapshot.js';
import { rng, tempDir } from '../helpers.js';

const NESTING = [4, 8, 16];

function filled(n: number): ResidentMatrix {
  const r = rng(9);
  const m = new ResidentMatrix(8, NESTING, 10);
  for (let seq = 1; seq <= n; seq++)
    m.add(
      seq * 3,
      Float32Array.from({ length: 16 }, () => r() - 0.5),
    );
  m.remove(30); // a hole filled by the last row: slots no longer in seq order
  return m;
}

const shape = { width: 8, nesting: NESTING, highestIssuedSeq: 10_000 };

test('a matrix snapshot round-trips every part and the seq → slot map', (t) => {
  const dir = tempDir(t);
  const m = filled(500);
  const manifest = writeMatrixSnapshot(dir, 4, m, 1500);
  assert.equal(manifest.rows, 499);
  assert.deepEqual(
    manifest.parts.map((p) => p.name),
    ['data', 'slotSeq', 'norms'],
  );
  const r = loadMatrixSnapshot(dir, 4, shape);
  assert.ok(r.matrix, r.matrix ? '' : r.reason);
  assert.equal(r.manifest.lastSeq, 1500);
  assert.equal(r.matrix.size, m.size);
  assert.deepEqual(r.matrix.data.subarray(0, m.size * 8), m.data.subarray(0, m.size * 8));
  for (const seq of [3, 33, 1497, 1500]) {
    assert.equal(r.matrix.slotOf(seq), m.slotOf(seq));
    if (m.slotOf(seq) !== undefined)
      for (const d of [4, 8, 5]) assert.equal(r.matrix.norm(r.matrix.slotOf(seq)!, d), m.norm(m.slotOf(seq)!, d));
  }
  assert.equal(r.matrix.has(30), false);
  r.matrix.add(99_999, new Float32Array(16).fill(1)); // still writable after a restore
  assert.equal(r.matrix.size, m.size + 1);
});

test('missing, truncated, corrupt, mismatched or future matrix snapshots are refused with a reason', (t) => {
  const dir = tempDir(t);
  assert.equal(loadMatrixSnapshot(dir, 4, shape).matrix, null);
  assert.deepEqual(loadMatrixSnapshot(dir, 4, shape), { matrix: null, reason: 'no matrix snapshot' });
  const m = filled(200);
  const manifest = writeMatrixSnapshot(dir, 4, m, 600);
  const file = join(dir, manifest.file);
  const reason = (s = shape) => {
    const r = loadMatrixSnapshot(dir, 4, s);
    return r.matrix ? 'loaded' : r.reason;
  };
  assert.equal(reason({ ...shape, width: 16 }), 'matrix snapshot width or nesting differs from the collection');
  assert.equal(reason({ ...shape, nesting: [8] }), 'matrix snapshot width or nesting differs from the collection');
  assert.equal(reason({ ...shape, highestIssuedSeq: 599 }), 'matrix snapshot is newer than the database');
  const bytes = readFileSync(file);
  bytes[bytes.length - 3] ^= 0x10;
  writeFileSync(file, bytes);
  assert.equal(reason(), 'matrix file checksum mismatch');
  truncateSync(file, bytes.length - 4);
  assert.equal(reason(), 'matrix file truncated or resized');
  unlinkSync(file);
  assert.equal(reason(), 'matrix file missing');
  writeMatrixSnapshot(dir, 4, m, 600);
  assert.equal(reason(), 'loaded');
  writeFileSync(join(dir, 'm4.manifest.json'), '{not json');
  assert.equal(reason(), 'matrix manifest unreadable');
  removeMatrixSnapshotFiles(dir, 4);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('m4.')),
    [],
  );
});

test('a second snapshot replaces the first file; the index snapshot files are left alone', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c4.manifest.json'), '{}');
  const a = writeMatrixSnapshot(dir, 4, filled(50), 150);
  const b = writeMatrixSnapshot(dir, 4, filled(60), 180);
  assert.notEqual(a.file, b.file);
  assert.deepEqual(readdirSync(dir).sort(), ['c4.manifest.json', b.file, 'm4.manifest.json'].sort());
});
