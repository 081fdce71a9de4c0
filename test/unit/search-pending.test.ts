import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { withPending } from '../../src/search/pending.js';

const q = normalizedPrefix([1, 0, 0, 0], 4);
const row = (v: number[]) => normalizedPrefix(v, 4);

test('pending rows merge with the index candidates by score, best first, at most `want`', () => {
  const found = { seqs: [1, 2, 3], scores: [0.9, 0.5, 0.1] };
  const pending = {
    dim: 4,
    rows: new Map([
      [10, row([1, 0.2, 0, 0])],
      [11, row([0, 1, 0, 0])],
      [12, row([1, 1, 0, 0])],
    ]),
  };
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
  assert.equal(withPending(found, { dim: 4, rows: new Map() }, q, 2), found);
  assert.equal(withPending(found, { dim: 8, rows: new Map([[5, new Float32Array(8).fill(1)]]) }, q, 2), found);
});
