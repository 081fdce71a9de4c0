import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { JsKernel } from '../../src/compute/js-kernel.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import type { ResidentType } from '../../src/core/quantize.js';
import { exactTop, exactTopSliced, SLICE_ROWS } from '../../src/search/exact-scan.js';
import type { SearchSource } from '../../src/search/sources.js';
import { StageContext } from '../../src/search/stage-context.js';
import { rng } from '../helpers.js';

// The audit's exact scan, read a slice at a time between other work: the same answer as one
// scan, including when rows are added, replaced and removed between its slices.

const W = 32;
const N = 2 * SLICE_ROWS + 1500;
const kernel = new JsKernel();

function setup(type: ResidentType, seed = 5) {
  const r = rng(seed);
  const m = new ResidentMatrix(W, [8, 16, 32], N, { type });
  const full = new Map<number, Float32Array>();
  let next = 1;
  /** A new row: random, or near `near` (then among its query's best). */
  const add = (near?: Float32Array) => {
    const v = Float32Array.from({ length: W }, (_, j) => (near ? near[j] + 0.05 * (r() - 0.5) : r() - 0.5));
    full.set(next, v);
    m.add(next, v);
    return next++;
  };
  for (let i = 0; i < N; i++) add();
  const remove = (seq = m.slotSeq[Math.floor(r() * m.size)]) => {
    m.remove(seq);
    full.delete(seq);
  };
  const source = { index: { search: () => [] }, matrix: m, count: N, record: { hnsw: { efSearch: 10 } } } as unknown as SearchSource;
  const vectors = { vectorsBySeqs: (seqs: number[]) => new Map(seqs.filter((s) => full.has(s)).map((s) => [s, full.get(s)!])) };
  const ctx = (q: Float32Array) => new StageContext({ source, vectors, kernel }, q);
  const query = () => Float32Array.from({ length: W }, () => r() - 0.5);
  return { m, full, add, remove, ctx, query, r };
}

/** The exact top k at d over `full` (float64 cosines), best first, ties to the lower seq. */
function brute(full: Map<number, Float32Array>, q: Float32Array, d: number, k: number): number[] {
  let qq = 0;
  for (let j = 0; j < d; j++) qq += q[j] * q[j];
  const scored = [...full].map(([seq, v]) => {
    let dot = 0;
    let vv = 0;
    for (let j = 0; j < d; j++) {
      dot += q[j] * v[j];
      vv += v[j] * v[j];
    }
    return { seq, s: dot / Math.sqrt(qq * vv) };
  });
  return scored
    .sort((a, b) => b.s - a.s || a.seq - b.seq)
    .slice(0, k)
    .map((x) => x.seq);
}

test('a sliced exact scan answers as one scan does (f32, f16, int8; at full width and at a shorter prefix)', async () => {
  for (const type of ['f32', 'f16', 'int8'] as const) {
    const { ctx, query } = setup(type);
    for (const d of [W, 16]) {
      for (let i = 0; i < 3; i++) {
        const q = query();
        const one = await exactTop(ctx(q), d, 10);
        const sliced = await exactTopSliced(ctx(q), d, 10);
        assert.deepEqual(sliced.seqs, one.seqs, `${type} at ${d}`);
        sliced.scores.forEach((s, j) => assert.ok(Math.abs(s - one.scores[j]) < 1e-6, `${type} at ${d}: ${s} vs ${one.scores[j]}`));
      }
    }
  }
});

test('rows added and removed between its slices: the sliced scan returns the exact top of the rows as they are when it returns', async () => {
  for (const type of ['f32', 'int8'] as const) {
    const { m, full, add, remove, ctx, query, r } = setup(type, 9);
    for (let round = 0; round < 3; round++) {
      const q = query();
      let writing = true;
      let writes = 0;
      // Between the scan's slices: appends (the last block), removals (the last row moves into the
      // hole), among them rows near the query, which the answer must gain and lose.
      const near: number[] = [];
      const writer = (async () => {
        while (writing) {
          for (let i = 0; i < 40; i++) add();
          near.push(add(q), add(q));
          for (let i = 0; i < 25; i++) remove();
          if (near.length > 6) remove(near.splice(Math.floor(r() * near.length), 1)[0]);
          writes++;
          await yieldToLoop();
        }
      })();
      const before = writes;
      let atReturn: number[] = [];
      const sliced = await exactTopSliced(ctx(q), W, 10).then((r) => {
        atReturn = brute(full, q, W, 10); // in the same turn as the scan's return: no write in between
        return r;
      });
      const during = writes - before;
      writing = false;
      await writer;
      assert.ok(during >= 2, `writes ran between the slices (${during})`);
      assert.deepEqual(sliced.seqs, atReturn, `${type} round ${round}`);
      assert.ok(sliced.seqs.every((s) => m.has(s)));
    }
  }
});
