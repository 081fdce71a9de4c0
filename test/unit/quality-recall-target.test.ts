import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SweepPoint } from '../../src/eval/types.js';
import { pickForRecall } from '../../src/quality/recall-target.js';

const point = (indexDims: number, search: SweepPoint['search'], recall: number, p50: number): SweepPoint => ({
  indexDims,
  search,
  label: JSON.stringify(search),
  mapAt10: 0.5,
  mapAt10HitNormalized: 0.5,
  recallAt10VsExact: recall,
  latencyMs: { p50, p99: p50 * 2, mean: p50 },
  qps: 1000 / p50,
  flopsPerQuery: 1,
  indexBytes: 1,
  pareto: false,
  paretoRecall: false,
});

const points = [
  point(16, { shortlist: 20, rerank: 64 }, 0.9, 0.1),
  point(16, { shortlist: 100, rerank: 64 }, 0.97, 0.3),
  point(16, { shortlist: 500, rerank: 64, ef: 600 }, 0.995, 0.9),
  point(32, { shortlist: 50, rerank: 64 }, 0.995, 0.2), // cheaper, but needs an index the collection lacks
  point(
    16,
    {
      funnel: [
        { dims: 8, keep: 400 },
        { dims: 64, keep: 10 },
      ],
      firstStage: 'exact',
    },
    0.999,
    1.5,
  ),
];

test('a recall target picks the cheapest runnable sweep point whose measured recall meets it', () => {
  assert.deepEqual(pickForRecall({ points }, 16, 0.95)?.search, { shortlist: 100, rerank: 64 });
  assert.deepEqual(pickForRecall({ points }, 16, 0.9)?.search, { shortlist: 20, rerank: 64 });
  assert.deepEqual(pickForRecall({ points }, 16, 0.99)?.search, { shortlist: 500, rerank: 64, ef: 600 });
  assert.deepEqual(pickForRecall({ points }, 32, 0.99)?.search, { shortlist: 50, rerank: 64 });
  // Only the exact-first-stage funnel reaches 0.999; nothing reaches 1: exact search does.
  assert.deepEqual(pickForRecall({ points }, 16, 0.999)?.search, {
    funnel: [
      { dims: 8, keep: 400 },
      { dims: 64, keep: 10 },
    ],
    firstStage: 'exact',
  });
  assert.deepEqual(pickForRecall({ points }, 16, 1), { search: { exact: true }, point: null });
  assert.equal(pickForRecall(null, 16, 0.9), null);
});
