import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsKernel } from '../../src/compute/js-kernel.js';
import type { Kernel, QuantizedMatrix, RowsQuery, TopK } from '../../src/compute/kernel.js';
import { OnnxKernel } from '../../src/compute/onnx-kernel.js';
import { normalizedPrefix } from '../../src/core/prefix.js';
import { ResidentMatrix } from '../../src/core/resident-matrix.js';
import { int8Bounds, mayReachTop } from '../../src/search/refine-bound.js';
import { refineStage } from '../../src/search/refine-stage.js';
import { StageContext } from '../../src/search/stage-context.js';
import { openData, rng, tempDir } from '../helpers.js';

const W = 96;
const N = 600;

/** Rows of four kinds: MRL-like (decaying std), uniform, heavy-tailed, and a spike per row (a coarse scale). */
function rows(seed: number): Float32Array[] {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const out: Float32Array[] = [];
  for (let i = 0; i < N; i++) {
    const v = new Float32Array(W);
    const kind = i % 4;
    for (let j = 0; j < W; j++) {
      if (kind === 0) v[j] = gauss() / Math.sqrt(1 + j / 8);
      else if (kind === 1) v[j] = (r() - 0.5) * 3;
      else v[j] = gauss() / Math.max(0.05, r()) / 10;
    }
    if (kind === 3) v[Math.floor(r() * W)] = 40 * (r() < 0.5 ? -1 : 1);
    out.push(v);
  }
  return out;
}

function exactCosine(q: Float32Array, v: Float32Array, d: number): number {
  let dot = 0;
  let nn = 0;
  for (let j = 0; j < d; j++) {
    dot += q[j] * v[j];
    nn += v[j] * v[j];
  }
  return nn > 0 ? dot / Math.sqrt(nn) : 0;
}

async function scored(kernel: Kernel, m: ResidentMatrix, q: Float32Array, d: number, k: number) {
  const slots = Int32Array.from({ length: m.size }, (_, i) => i);
  const scale = m.scales(slots, d);
  const item: RowsQuery = { query: q, rowIdx: slots, rowScale: scale, k };
  const [top]: TopK[] = await kernel.rerankQuantized!(m as ResidentMatrix & QuantizedMatrix, [item], d);
  return { top, bounds: int8Bounds(m, q, top.indices, slots, scale)! };
}

test('the int8 error bound holds for every row, on the JS and ONNX kernels, at nesting and other prefix dims', async () => {
  const data = rows(5);
  const m = new ResidentMatrix(W, [16, 32, 64], N, { type: 'int8' });
  data.forEach((v, i) => m.add(i + 1, v));
  const onnx = await OnnxKernel.create({ threads: 1 });
  try {
    const r = rng(9);
    let worst = 0;
    for (const kernel of [new JsKernel(), onnx]) {
      for (const d of [W, 64, 40, 17]) {
        for (let qi = 0; qi < 12; qi++) {
          const raw = qi < 6 ? data[Math.floor(r() * N)] : Float32Array.from({ length: W }, () => r() - 0.5);
          const q = normalizedPrefix(raw, d);
          const { top, bounds } = await scored(kernel, m, q, d, N);
          assert.equal(top.indices.length, N);
          for (let i = 0; i < N; i++) {
            const slot = top.indices[i];
            const err = Math.abs(top.scores[i] - exactCosine(q, data[m.slotSeq[slot] - 1], d));
            assert.ok(err <= bounds[i], `${kernel.name} d=${d} q=${qi} slot ${slot}: |error| ${err} > bound ${bounds[i]}`);
            worst = Math.max(worst, err / bounds[i]);
          }
        }
      }
    }
    // The rounding error is real (not far below the bound everywhere): the check above has teeth.
    assert.ok(worst > 0.1, `the largest error was only ${worst} of its bound`);
    // f32 rows have no bound.
    const f = new ResidentMatrix(W, [], 4);
    f.add(1, data[0]);
    assert.equal(int8Bounds(f, normalizedPrefix(data[0], W), [0], [0], [1]), undefined);
  } finally {
    await onnx.close();
  }
});

test('refining only the candidates that may reach the top k gives the top k of refining all 4·k', async () => {
  const data = rows(11);
  const m = new ResidentMatrix(W, [32, 64], N, { type: 'int8' });
  data.forEach((v, i) => m.add(i + 1, v));
  const js = new JsKernel();
  const r = rng(3);
  let pruned = 0;
  let wrongWithoutBounds = 0;
  for (const k of [1, 5, 10]) {
    for (const d of [W, 32]) {
      for (let qi = 0; qi < 25; qi++) {
        const q = normalizedPrefix(
          data[Math.floor(r() * N)].map((x) => x + (r() - 0.5) * 0.3),
          d,
        );
        const { top, bounds } = await scored(js, m, q, d, 4 * k);
        const scores = Array.from(top.scores);
        const exact = (idx: number[]) =>
          idx
            .map((i) => ({ i, s: exactCosine(q, data[m.slotSeq[top.indices[i]] - 1], d) }))
            .sort((a, b) => b.s - a.s)
            .slice(0, k)
            .map((x) => x.i);
        const all = exact(scores.map((_, i) => i));
        const picked = mayReachTop(scores, bounds, k);
        assert.ok(picked.length >= k && picked.length <= 4 * k);
        assert.deepEqual(exact(picked), all, `k=${k} d=${d} q=${qi}`);
        if (picked.length < 4 * k) pruned++;
        // Without the bounds (as if int8 scores were exact) the same pruning gets some top k wrong.
        if (exact(mayReachTop(scores, new Array<number>(scores.length).fill(0), k)).join() !== all.join()) wrongWithoutBounds++;
      }
    }
  }
  assert.ok(pruned > 0, 'the bound pruned some candidates');
  assert.ok(wrongWithoutBounds > 0, 'zero bounds give a wrong top k somewhere (the comparison can fail)');
});

test('mayReachTop keeps every candidate for k ≥ n or a NaN bound, and at least k always', () => {
  assert.deepEqual(mayReachTop([0.9, 0.5], [0.01, 0.01], 2), [0, 1]);
  assert.deepEqual(mayReachTop([0.9, 0.5, 0.1], [0.01, NaN, 0.01], 2), [0, 1, 2]);
  // k = 1: the k-th lower bound is 0.89; only 0.5 ± 0.5 reaches it. k = 2: 0.79, and 0.8 ± 0.01 too.
  assert.deepEqual(mayReachTop([0.9, 0.8, 0.5, 0.1], [0.01, 0.01, 0.5, 0.01], 1), [0, 2]);
  assert.deepEqual(mayReachTop([0.9, 0.8, 0.5, 0.1], [0.01, 0.01, 0.5, 0.01], 2), [0, 1, 2]);
  assert.deepEqual(mayReachTop([0.9, 0.8, 0.5, 0.1], [0.01, 0.01, 0.2, 0.01], 1), [0]);
});

test('the refine stage reads the pruned candidates too when one it kept is gone from the store', async (t) => {
  const { engine, items } = await openData(t, tempDir(t), 'js');
  const data = rows(2).slice(0, 20);
  engine.createCollection({ name: 'c', dim: W, indexDim: 16, rerankDim: W, residentDim: W, residentType: 'int8' });
  await engine.upsert(
    'c',
    data.map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  const seqs = items.seqs(engine.describe('c').id).sort((a, b) => a - b); // in insertion order: v0, v1, …
  const ctx = new StageContext({ source: engine.runtime('c'), vectors: items, kernel: new JsKernel() }, data[3]);
  // Candidate 0 looks best by far and its bound is tight: the others cannot reach it, so only it is read.
  const ranked = () => ({ seqs: [seqs[0], seqs[3], seqs[5]], scores: [2, 0.5, 0.4], bounds: [0.01, 0.01, 0.01] });
  const before = await refineStage(ctx, ranked(), W, 1);
  assert.deepEqual(before.seqs, [seqs[0]]);
  const want = exactCosine(normalizedPrefix(data[3], W), data[0], W);
  assert.ok(Math.abs(before.scores[0] - want) < 1e-9, `${before.scores[0]} vs ${want}`);
  await engine.deleteItems('c', ['v0']);
  const after = await refineStage(ctx, ranked(), W, 1);
  assert.deepEqual(after.seqs, [seqs[3]], 'the best of the others, read after the kept one was found gone');
  assert.ok(Math.abs(after.scores[0] - 1) < 1e-6, `${after.scores[0]}: v3 against itself`);
});
