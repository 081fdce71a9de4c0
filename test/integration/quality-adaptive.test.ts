import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/core/rng.js';
import { planSearch } from '../../src/search/plan.js';
import { openEngine, tempDir } from '../helpers.js';

const N = 2000;
const D = 64;

/** The hard shape: slow decay along the dims, many clusters, noise high in half of them (queries of mixed difficulty). */
function hardShape(count: number, seed: number) {
  const r = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const std = Array.from({ length: D }, (_, j) => 1 / Math.sqrt(1 + j / 64));
  const centres = Array.from({ length: 64 }, () => std.map((s) => s * g()));
  return Array.from({ length: count }, () => {
    const c = Math.floor(r() * centres.length);
    const noise = c % 2 ? 1.5 : 0.3;
    return centres[c].map((x, j) => x + noise * std[j] * g());
  });
}

test('adaptive shortlist: widens only where the boundary is crowded, raising recall on the hard shape at bounded cost', async (t) => {
  const engine = await openEngine(t, tempDir(t), 'js');
  engine.createCollection({ name: 'h', dim: D, indexDim: 16, rerankDim: D });
  const rows = hardShape(N + 150, 3);
  await engine.upsert(
    'h',
    rows.slice(0, N).map((vector, i) => ({ id: `v${i}`, vector })),
  );
  const queries = rows.slice(N);
  const truth: Set<string>[] = [];
  for (const q of queries) truth.push(new Set((await engine.search('h', { vector: q }, { exact: true })).results.map((h) => h.id)));
  const run = async (opts: Parameters<typeof engine.search>[2]) => {
    let recall = 0;
    let shortlist = 0;
    let widened = 0;
    for (let i = 0; i < queries.length; i++) {
      const r = await engine.search('h', { vector: queries[i] }, opts);
      recall += r.results.filter((h) => truth[i].has(h.id)).length / 10;
      shortlist += r.stages[0].candidates;
      if (r.stages[0].widened !== undefined) {
        widened++;
        assert.equal(r.stages[0].widened, r.stages[0].candidates);
        assert.ok(r.stages[0].widened <= 160);
      }
    }
    return { recall: recall / queries.length, shortlist: shortlist / queries.length, widened };
  };
  const fixed20 = await run({ shortlist: 20 });
  const adaptive = await run({ shortlist: 20, adaptive: { cap: 160 } });
  assert.equal(fixed20.widened, 0);
  assert.ok(
    adaptive.widened > 0 && adaptive.widened < queries.length,
    `widened ${adaptive.widened} of ${queries.length}: only some queries are crowded`,
  );
  assert.ok(adaptive.recall > fixed20.recall + 0.15, `recall ${fixed20.recall} → ${adaptive.recall}`);
  assert.ok(adaptive.shortlist < 0.8 * 160, `mean shortlist ${adaptive.shortlist}`);
  // Better than a fixed shortlist of the largest power of two its mean cost affords.
  const fixedSameCost = await run({ shortlist: 2 ** Math.floor(Math.log2(adaptive.shortlist)) });
  assert.ok(
    adaptive.recall > fixedSameCost.recall,
    `adaptive ${adaptive.recall} at ${adaptive.shortlist} vs fixed ${fixedSameCost.recall}`,
  );
});

test('the adaptive option plans a widening first stage only where a rerank follows, and is checked', () => {
  const shape = { dim: 64, indexDim: 16, rerankDim: 64, defaults: { k: 10, shortlist: 100 } };
  assert.deepEqual(planSearch(shape, { adaptive: true }).stages[0].widen, { k: 10, ratio: 0.5, cap: 800 });
  assert.deepEqual(planSearch(shape, { shortlist: 50, adaptive: { ratio: 1, cap: 400 } }).stages[0].widen, { k: 10, ratio: 1, cap: 400 });
  assert.equal(planSearch(shape, {}).stages[0].widen, undefined);
  assert.equal(
    planSearch(shape, { rerank: 16, adaptive: true }).stages[0].widen,
    undefined,
    'a single index stage has nothing to widen for',
  );
  assert.throws(() => planSearch(shape, { shortlist: 50, adaptive: { cap: 20 } }), { code: 'INVALID_SEARCH' });
  assert.throws(() => planSearch(shape, { adaptive: { ratio: 0 } }), { code: 'INVALID_SEARCH' });
});
