import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { PendingIndex } from '../../src/engine/pending-index.js';
import { withPending } from '../../src/search/pending.js';

/** A pending block at `dim` dims holding the given rows (seq → vector), in that order. */
function pendingOf(dim: number, rows: [number, Float32Array][]): PendingIndex {
  const p = new PendingIndex(dim);
  for (const [seq, v] of rows) p.add(seq, v);
  return p;
}

const q = normalizedPrefix([1, 0, 0, 0], 4);
const row = (v: number[]) => normalizedPrefix(v, 4);

test('pending rows merge with the index candidates by score, best first, at most `want`', () => {
  const found = { seqs: [1, 2, 3], scores: [0.9, 0.5, 0.1] };
  const pending = pendingOf(4, [
    [10, row([1, 0.2, 0, 0])],
    [11, row([0, 1, 0, 0])],
    [12, row([1, 1, 0, 0])],
  ]);
  const s10 = 1 / Math.hypot(1, 0.2);
  const r = withPending(found, pending, q, 4);
  assert.deepEqual(r.seqs, [10, 1, 12, 2]);
  assert.ok(Math.abs(r.scores[0] - s10) < 1e-6);
  assert.ok(Math.abs(r.scores[2] - Math.SQRT1_2) < 1e-6);
  assert.deepEqual(withPending(found, pending, q, 2).seqs, [10, 1]);
  // More wanted than both hold: all of them, still in order.
  assert.deepEqual(withPending(found, pending, q, 10).seqs, [10, 1, 12, 2, 3, 11]);
});

test('no pending rows, or rows at other dims (another index), leave the candidates as they are', () => {
  const found = { seqs: [1, 2], scores: [0.9, 0.5] };
  assert.equal(withPending(found, undefined, q, 2), found);
  assert.equal(withPending(found, pendingOf(4, []), q, 2), found);
  assert.equal(withPending(found, pendingOf(8, [[5, new Float32Array(8).fill(1)]]), q, 2), found);
});

test('the pending block keeps commit order through deletes, re-adds, compaction and growth, and scans only live rows', () => {
  const p = new PendingIndex(4);
  const v = (i: number) => Float32Array.from([1, i % 7, (i * 3) % 5, 1]);
  for (let seq = 1; seq <= 3000; seq++) p.add(seq, v(seq));
  for (let seq = 1; seq <= 3000; seq += 2) assert.ok(p.delete(seq));
  assert.equal(p.delete(1), false);
  p.add(2, v(9)); // queued again: new values, same place
  for (let seq = 3001; seq <= 5000; seq++) p.add(seq, v(seq)); // compacts, then grows
  assert.equal(p.size, 1500 + 2000);
  const live: number[] = [];
  for (let slot = p.start; slot < p.end; slot++) if (p.seqs[slot] !== 0) live.push(p.seqs[slot]);
  const expected = [...Array.from({ length: 1500 }, (_, i) => 2 * (i + 1)), ...Array.from({ length: 2000 }, (_, i) => 3001 + i)];
  assert.deepEqual(live, expected);
  assert.deepEqual(Array.from(p.prefixOf(2)!), Array.from(normalizedPrefix(v(9), 4)));
  assert.deepEqual(Array.from(p.prefixOf(4000)!), Array.from(normalizedPrefix(v(4000), 4)));
  // The scan against a brute force over the live rows.
  const query = normalizedPrefix([0.3, 1, -0.2, 0.5], 4);
  const brute = expected
    .map((seq) => {
      const r = p.prefixOf(seq)!;
      return { seq, s: r.reduce((a, x, k) => a + x * query[k], 0) };
    })
    .sort((a, b) => b.s - a.s || expected.indexOf(a.seq) - expected.indexOf(b.seq))
    .slice(0, 25);
  const got = withPending({ seqs: [], scores: [] }, p, query, 25);
  assert.deepEqual(
    got.scores.map((x) => x.toFixed(5)),
    brute.map((b) => b.s.toFixed(5)),
  );
  p.reset(4);
  assert.equal(p.size, 0);
  assert.equal(withPending({ seqs: [1], scores: [0.5] }, p, query, 3).seqs.length, 1);
});
