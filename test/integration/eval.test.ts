import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from '../../src/eval/evaluate.js';
import { sweep, sweepCandidates } from '../../src/eval/sweep.js';
import { paretoFlags } from '../../src/eval/pareto.js';
import { queryFigures } from '../../src/core/retrieval-metrics.js';
import { mrlLikeVectors, openEngine, rng, tempDir } from '../helpers.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

/** Cosine at the prefix, brute force in plain JS: the tests' own ground truth. */
function prefixRanking(vectors: number[][], q: number[], dims: number, among: number[], skip: number): number[] {
  const norm = (v: number[]) => Math.hypot(...v.slice(0, dims)) || 1;
  const qn = norm(q);
  const score = (i: number) => vectors[i].slice(0, dims).reduce((s, x, j) => s + x * q[j], 0) / (norm(vectors[i]) * qn);
  return among
    .filter((i) => i !== skip)
    .map((i) => ({ i, s: score(i) }))
    .sort((a, b) => b.s - a.s)
    .map((x) => x.i);
}

test('evaluate: mAP@10 (paper and hit-normalised), P@10 and top-1 from a hand-made ranking', async (t) => {
  const engine = await openEngine(t, tempDir(t), 'js');
  engine.createCollection({ name: 'db', dim: 2 });
  engine.createCollection({ name: 'q', dim: 2 });
  // Ten items at growing angles from the x axis: ranked 1..10 for the query [1, 0].
  const labels = ['a', 'b', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'a'];
  await engine.upsert(
    'db',
    labels.map((label, i) => ({ id: `r${i + 1}`, vector: [Math.cos(i * 0.15), Math.sin(i * 0.15)], label })),
  );
  await engine.upsert('q', [
    { id: 'q1', vector: [1, 0], label: 'a' },
    { id: 'q2', vector: [1, 0.01] },
  ]);
  const r = await evaluate(engine, { collection: 'db', queries: { collection: 'q' }, search: { exact: true } });
  // hits at ranks 1, 3, 4, 10: P@j = 1, 2/3, 3/4, 4/10
  const sum = 1 + 2 / 3 + 3 / 4 + 4 / 10;
  close(r.mapAt10!, sum / 10);
  close(r.mapAt10HitNormalized!, sum / 4);
  close(r.precisionAt10!, 0.4);
  assert.equal(r.top1, 1);
  assert.equal(r.recallAt10VsExact, 1);
  assert.equal(r.queries, 2);
  assert.equal(r.unlabelledQueries, 1);
  assert.ok(r.latencyMs.p50 > 0 && r.qps > 0);
  close(r.flopsPerQuery, 2 * 10 * 2); // one exact stage: 10 rows × 2 dims, 2 flops per multiply-add
});

test('evaluate: leave-one-out mAP@10 and recall against exact equal a brute-force computation', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  const { vectors, labels } = mrlLikeVectors(300, 16, 7, 6);
  engine.createCollection({ name: 'c', dim: 16, indexDim: 4 });
  await engine.upsert(
    'c',
    vectors.map((vector, i) => ({ id: `v${i}`, vector, label: labels[i] })),
  );
  const all = vectors.map((_, i) => i);
  const funnel = [
    { dims: 2, keep: 12 },
    { dims: 16, keep: 10 },
  ];
  const [exact, lossy] = [
    await evaluate(engine, { collection: 'c', queries: { sample: 1 }, search: { exact: true } }),
    await evaluate(engine, { collection: 'c', queries: { sample: 1 }, search: { funnel, firstStage: 'exact' } }),
  ];
  let ap = 0;
  let recall = 0;
  for (const i of all) {
    const truth = prefixRanking(vectors, vectors[i], 16, all, i).slice(0, 10);
    ap += queryFigures(truth.map((j) => labels[j]) as unknown as number[], labels[i] as unknown as number, 10).ap;
    const short = prefixRanking(vectors, vectors[i], 2, all, i).slice(0, 12);
    const got = prefixRanking(vectors, vectors[i], 16, short, i).slice(0, 10);
    recall += got.filter((j) => truth.includes(j)).length / 10;
  }
  assert.equal(exact.queries, 300);
  close(exact.mapAt10!, ap / 300, 1e-6);
  assert.equal(exact.recallAt10VsExact, 1);
  close(lossy.recallAt10VsExact, recall / 300, 1e-6);
  assert.ok(lossy.recallAt10VsExact < 0.95, 'a 2-d shortlist of 12 must lose neighbours, or the check above proves nothing');
  assert.deepEqual(
    lossy.config.stages.map((s) => s.source),
    ['exact', 'rerank'],
  );
});

/** N vectors whose neighbourhoods live in `informative` dims; the others are independent noise. */
function structured(n: number, dim: number, informative: (j: number) => boolean, seed: number) {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: 10 }, () => Array.from({ length: dim }, g));
  return Array.from({ length: n }, (_, i) => ({
    id: `v${i}`,
    label: `c${i % 10}`,
    vector: Array.from({ length: dim }, (_, j) => (informative(j) ? centres[i % 10][j] + 0.3 * g() : 0.05 * g())),
  }));
}

test('sweep picks the cheapest point within tolerance: a short prefix when it holds the neighbours, the full vector when it does not', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  const grid = { indexDims: [8, 64], shortlists: [20, 100], rerankDims: [64], funnels: [] };
  // The neighbours are decided by the first 8 dims: an 8-d index with K=20 is within tolerance and cheapest in FLOPs.
  engine.createCollection({ name: 'front', dim: 64, nesting: [8, 16, 32, 64] });
  await engine.upsert(
    'front',
    structured(300, 64, (j) => j < 8, 1),
  );
  const a = await sweep(engine, { collection: 'front', queries: { sample: 100 }, grid, cost: 'flops', perDim: false });
  assert.equal(a.points.length, 4);
  assert.deepEqual({ dims: a.best?.indexDims, search: a.best?.search }, { dims: 8, search: { shortlist: 20, rerank: 64 } });
  // The first 8 dims are noise: only the 64-d index reaches the recall; its smaller beam is cheaper.
  engine.createCollection({ name: 'back', dim: 64, nesting: [8, 16, 32, 64] });
  await engine.upsert(
    'back',
    structured(300, 64, (j) => j >= 8, 2),
  );
  const b = await sweep(engine, { collection: 'back', queries: { sample: 100 }, grid, cost: 'flops', apply: true });
  const byLabel = Object.fromEntries(b.points.map((p) => [p.label, p.recallAt10VsExact]));
  assert.ok(byLabel['index 8d → 100 → rerank 64d'] < 0.9, `8-d prefix should miss neighbours: ${JSON.stringify(byLabel)}`);
  assert.deepEqual({ dims: b.best?.indexDims, search: b.best?.search }, { dims: 64, search: { shortlist: 20, rerank: 64 } });
  assert.deepEqual(
    b.perDim.map((p) => p.dims),
    [8, 16, 32, 64],
  );
  assert.ok(b.perDim[0].mapAt10! < b.perDim[3].mapAt10!);
  // Applied: the index is rebuilt at 64 dims and the default search is one index stage with beam 20.
  assert.equal(b.applied, true);
  const rec = engine.describe('back');
  assert.equal(rec.indexDim, 64);
  assert.equal(rec.index.dims, 64);
  assert.deepEqual(rec.searchDefaults, { shortlist: 20, rerank: 64 });
  const r = await engine.search('back', { id: 'v5' });
  assert.deepEqual(
    r.stages.map((s) => [s.dims, s.source]),
    [[64, 'index']],
  );
  assert.equal(r.results.length, 10);
  // Pareto flags: no flagged point is dominated by another point.
  const flags = paretoFlags(
    b.points,
    (p) => p.latencyMs.p50,
    (p) => p.mapAt10!,
  );
  assert.deepEqual(
    b.points.map((p) => p.pareto),
    flags,
  );
  assert.ok(flags.some(Boolean));
  assert.deepEqual(
    b.points.map((p) => p.paretoRecall),
    paretoFlags(
      b.points,
      (p) => p.latencyMs.p50,
      (p) => p.recallAt10VsExact,
    ),
  );
});

test('an applied tuning survives a restart: the snapshot at the new dims loads, answers are the same', async (t) => {
  const dir = tempDir(t);
  let engine = await openEngine(t, dir, 'js');
  engine.createCollection({ name: 'c', dim: 32, nesting: [8, 16, 32] });
  await engine.upsert(
    'c',
    structured(200, 32, () => true, 3),
  );
  await sweep(engine, {
    collection: 'c',
    queries: { sample: 50 },
    grid: { indexDims: [32], shortlists: [30], rerankDims: [32], funnels: [] },
    apply: true,
    perDim: false,
  });
  const before = await engine.search('c', { id: 'v1' });
  await engine.close();
  engine = await openEngine(t, dir, 'js');
  const rt = engine.runtime('c');
  assert.equal(rt.lastOpen?.loadedSnapshot, true, rt.lastOpen?.reason);
  assert.equal(rt.index.dim, 32);
  const after = await engine.search('c', { id: 'v1' });
  assert.deepEqual(
    after.results.map((x) => x.id),
    before.results.map((x) => x.id),
  );
});

test('evaluate and sweep refuse bad requests before doing any work', async (t) => {
  const engine = await openEngine(t, tempDir(t), 'js');
  engine.createCollection({ name: 'c', dim: 8 });
  engine.createCollection({ name: 'other', dim: 4 });
  await engine.upsert('c', [
    { id: 'a', vector: [1, 0, 0, 0, 0, 0, 0, 1] },
    { id: 'b', vector: [0, 1, 0, 0, 0, 0, 0, 1] },
  ]);
  await assert.rejects(evaluate(engine, { collection: 'c', search: { k: 5 } }), { code: 'INVALID_EVAL' });
  await assert.rejects(evaluate(engine, { collection: 'c', queries: { collection: 'other' } }), { code: 'INVALID_EVAL' });
  await assert.rejects(evaluate(engine, { collection: 'c', queries: { sample: -1 } }), { code: 'INVALID_EVAL' });
  await assert.rejects(evaluate(engine, { collection: 'nope' }), { code: 'COLLECTION_NOT_FOUND' });
  await assert.rejects(evaluate(engine, { collection: 'c', search: { shortlist: 5, rerank: 99 } }), { code: 'INVALID_SEARCH' });
  await assert.rejects(sweep(engine, { collection: 'c', grid: { indexDims: [0] } }), { code: 'INVALID_EVAL' });
  await assert.rejects(sweep(engine, { collection: 'c', tolerance: { recall: 2 } }), { code: 'INVALID_EVAL' });
  await assert.rejects(sweep(engine, { collection: 'c', targetRecall: 0 }), { code: 'INVALID_EVAL' });
  await assert.rejects(sweep(engine, { collection: 'c', targetRecall: 1.01 }), { code: 'INVALID_EVAL' });
  assert.deepEqual(engine.describe('c').searchDefaults, {});
});

test('a sweep can index dims beyond the resident width (rows read from the store) and apply it', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  engine.createCollection({ name: 'c', dim: 32, indexDim: 8, rerankDim: 16, residentDim: 16, nesting: [8, 16, 32] });
  await engine.upsert(
    'c',
    structured(300, 32, () => true, 5),
  );
  const r = await sweep(engine, {
    collection: 'c',
    queries: { sample: 60 },
    grid: { indexDims: [32], shortlists: [100], rerankDims: [32], funnels: [] },
    apply: true,
    perDim: false,
  });
  assert.equal(r.points[0].recallAt10VsExact, 1, 'a 32-d index with beam 100 over 300 rows is exact');
  assert.equal(engine.describe('c').index.dims, 32);
  assert.equal(engine.describe('c').index.elements, 300);
  const got = await engine.search('c', { id: 'v7' });
  const exact = await engine.search('c', { id: 'v7' }, { exact: true });
  assert.deepEqual(
    got.results.map((x) => x.id),
    exact.results.map((x) => x.id),
  );
});

test('an unlabelled collection is evaluated on recall alone: the label metrics are null', async (t) => {
  const engine = await openEngine(t, tempDir(t), 'js');
  const { vectors } = mrlLikeVectors(200, 16, 4);
  engine.createCollection({ name: 'plain', dim: 16, indexDim: 4 });
  await engine.upsert(
    'plain',
    vectors.map((vector, i) => ({ id: `p${i}`, vector })),
  );
  const exact = await evaluate(engine, { collection: 'plain', queries: { sample: 50 }, search: { exact: true } });
  assert.deepEqual([exact.mapAt10, exact.mapAt10HitNormalized, exact.precisionAt10, exact.top1], [null, null, null, null]);
  assert.equal(exact.recallAt10VsExact, 1);
  assert.equal(exact.unlabelledQueries, 50);
  const lossy = await evaluate(engine, {
    collection: 'plain',
    queries: { sample: 50 },
    search: {
      funnel: [
        { dims: 2, keep: 12 },
        { dims: 16, keep: 10 },
      ],
      firstStage: 'exact',
    },
  });
  assert.equal(lossy.mapAt10, null);
  assert.ok(
    lossy.recallAt10VsExact > 0 && lossy.recallAt10VsExact < 1,
    `a 2-d shortlist of 12 loses some neighbours: ${lossy.recallAt10VsExact}`,
  );
});

test('the sweep tunes an unlabelled collection: the cheapest point reaching the recall target, applied', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  engine.createCollection({ name: 'u', dim: 64, nesting: [8, 16, 32, 64] });
  // Neighbours decided by the first 8 dims; no labels at all.
  await engine.upsert(
    'u',
    structured(300, 64, (j) => j < 8, 1).map(({ id, vector }) => ({ id, vector })),
  );
  const grid = { indexDims: [8, 64], shortlists: [10, 20, 100], rerankDims: [64], funnels: [] };
  const r = await sweep(engine, { collection: 'u', queries: { sample: 100 }, grid, cost: 'flops', apply: true });
  assert.equal(r.labelledQueries, 0);
  assert.equal(r.targetRecall, 0.99);
  assert.equal(r.exact.mapAt10, null);
  assert.ok(r.points.every((p) => p.mapAt10 === null && p.recallAt10VsExact >= 0));
  assert.ok(r.perDim.every((p) => p.mapAt10 === null && p.top1 === null));
  // The grid holds the full-D single-stage index and small shortlists.
  assert.ok(r.points.some((p) => p.label === 'index 64d, ef 10'));
  const reaching = r.points.filter((p) => p.recallAt10VsExact >= 0.99);
  assert.ok(reaching.length > 0 && reaching.length < r.points.length, 'some points miss the target, or the choice proves nothing');
  const cheapest = reaching.reduce((a, b) => (b.flopsPerQuery < a.flopsPerQuery ? b : a));
  assert.deepEqual(r.best?.label, cheapest.label);
  assert.deepEqual(
    r.points.map((p) => p.pareto),
    r.points.map((p) => p.paretoRecall),
  ); // no labels: the recall front
  assert.equal(r.applied, true);
  assert.equal(engine.describe('u').indexDim, r.best.indexDims);
  // A stricter target can only pick a point at least as good in recall.
  const strict = await sweep(engine, { collection: 'u', queries: { sample: 100 }, grid, cost: 'flops', targetRecall: 1, perDim: false });
  assert.ok(strict.best === null || strict.best.recallAt10VsExact === 1);
});

test('on quantised rows the sweep weighs refine counts (none, 2·k, 4·k) and applies the chosen one', async (t) => {
  const engine = await openEngine(t, tempDir(t));
  engine.createCollection({ name: 'q8', dim: 64, nesting: [8, 16, 32, 64], residentType: 'int8' });
  await engine.upsert(
    'q8',
    structured(300, 64, (j) => j < 8, 6).map(({ id, vector }) => ({ id, vector })),
  );
  const r = await sweep(engine, {
    collection: 'q8',
    queries: { sample: 60 },
    grid: { indexDims: [8], shortlists: [50], rerankDims: [64], funnels: [] },
    cost: 'flops',
    perDim: false,
    apply: true,
  });
  assert.deepEqual(
    r.points.map((p) => p.search.refine),
    [0, 20, 40],
  );
  assert.deepEqual(
    r.points.map((p) => p.label),
    ['index 8d → 50 → rerank 64d, no refine', 'index 8d → 50 → rerank 64d, refine 20', 'index 8d → 50 → rerank 64d, refine 40'],
  );
  assert.ok(r.best, 'some refine count reaches the target');
  assert.equal(engine.describe('q8').searchDefaults.refine, r.best.search.refine);
  // An f32 collection gets no refine points unless asked.
  assert.ok(
    sweepCandidates(64, [8, 64], { indexDims: [8], shortlists: [50], rerankDims: [64], funnels: [] }).every(
      (c) => c.search.refine === undefined,
    ),
  );
});
