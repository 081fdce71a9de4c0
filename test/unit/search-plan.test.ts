import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paperFunnel } from '../../src/search/funnel-spec.js';
import { planSearch } from '../../src/search/plan.js';

const shape = { dim: 768, indexDim: 32, rerankDim: 512, defaults: { k: 10, shortlist: 200 } };
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

test('default plan: index at D_s, shortlist, rerank at D_r, top k', () => {
  assert.deepEqual(planSearch(shape, {}), {
    k: 10,
    stages: [
      { dims: 32, keep: 200, source: 'index' },
      { dims: 512, keep: 10, source: 'rerank' },
    ],
  });
  assert.deepEqual(planSearch(shape, { k: 5, shortlist: 1000, rerank: 768 }).stages, [
    { dims: 32, keep: 1000, source: 'index' },
    { dims: 768, keep: 5, source: 'rerank' },
  ]);
});

test("the paper's funnel is expressible; its 16-d first stage is exact when the index is at 32", () => {
  const f = paperFunnel(2048);
  assert.deepEqual(f, [
    { dims: 16, keep: 200 },
    { dims: 32, keep: 100 },
    { dims: 64, keep: 50 },
    { dims: 128, keep: 25 },
    { dims: 256, keep: 10 },
    { dims: 2048, keep: 10 },
  ]);
  const plan = planSearch({ ...shape, dim: 2048 }, { funnel: f });
  assert.equal(plan.stages[0].source, 'exact');
  assert.deepEqual(plan.stages.map((s) => s.source).slice(1), ['rerank', 'rerank', 'rerank', 'rerank', 'rerank']);
  const fromIndex = planSearch({ ...shape, dim: 2048, indexDim: 16 }, { funnel: f });
  assert.equal(fromIndex.stages[0].source, 'index');
});

test('a funnel asking the index for dims it does not cover is refused', () => {
  assert.throws(
    () =>
      planSearch(shape, {
        funnel: [
          { dims: 16, keep: 100 },
          { dims: 768, keep: 10 },
        ],
        firstStage: 'index',
      }),
    code('INVALID_SEARCH'),
  );
});

test('exact search is one exact stage at the rerank dims (default D)', () => {
  assert.deepEqual(planSearch(shape, { exact: true }).stages, [{ dims: 768, keep: 10, source: 'exact' }]);
  assert.deepEqual(planSearch(shape, { exact: true, rerank: 64, k: 3 }).stages, [{ dims: 64, keep: 3, source: 'exact' }]);
});

test('bad search options are coded errors', () => {
  for (const o of [
    { k: 0 },
    { k: 1001 },
    { k: 1.5 },
    { shortlist: 5, k: 10 },
    { rerank: 769 },
    { shortlist: 20_000 },
    { funnel: [] },
    {
      funnel: [
        { dims: 64, keep: 10 },
        { dims: 32, keep: 5 },
      ],
    },
    {
      funnel: [
        { dims: 32, keep: 10 },
        { dims: 64, keep: 50 },
      ],
    },
    { funnel: [{ dims: 32, keep: 10 }], shortlist: 10 },
  ]) {
    assert.throws(() => planSearch(shape, o), code('INVALID_SEARCH'), JSON.stringify(o));
  }
});

test('a funnel whose last stage keeps fewer than k keeps k when the stage before allows it', () => {
  const plan = planSearch(shape, {
    k: 20,
    funnel: [
      { dims: 32, keep: 100 },
      { dims: 768, keep: 10 },
    ],
  });
  assert.equal(plan.k, 20);
  assert.equal(plan.stages[1].keep, 20);
});
