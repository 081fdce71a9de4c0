import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixCosine } from '../../src/core/prefix.js';
import type { Engine } from '../../src/engine/engine.js';
import { buildTestApp, mrlLikeVectors, openData, tempDir } from '../helpers.js';

const DIM = 64;
const N = 1200;
const { vectors, labels } = mrlLikeVectors(N, DIM, 21);

async function fill(engine: Engine, name: string, residentType?: string, extra: Record<string, unknown> = {}) {
  engine.createCollection({ name, dim: DIM, indexDim: 16, rerankDim: DIM, residentDim: DIM, residentType, ...extra });
  for (let i = 0; i < N; i += 400) {
    await engine.upsert(
      name,
      vectors.slice(i, i + 400).map((v, j) => ({ id: `v${i + j}`, vector: v, label: labels[i + j], payload: { n: i + j } })),
    );
  }
}

/** Exact cosine at d, in float64, of a result id against the query. */
const cosine = (q: number[], id: string, d = DIM) => prefixCosine(q, vectors[Number(id.slice(1))], d);

test('int8 and f16 collections: the default refine stage returns exact full-D cosines (within 1e-6), and the top equals brute force', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  for (const type of ['int8', 'f16']) {
    await fill(engine, type, type);
    const d = engine.describe(type);
    assert.equal(d.residentType, type);
    assert.equal(d.memory.residentType, type);
    for (const qi of [3, 400, 999]) {
      const q = vectors[qi];
      const r = await engine.search(type, { vector: q }, { k: 10, shortlist: 100 });
      assert.deepEqual(
        r.stages.map((s) => s.source),
        ['index', 'rerank', 'refine'],
      );
      assert.equal(r.stages[1].candidates, 100);
      assert.equal(r.stages[2].candidates, 40, 'the rerank keeps 4·k for the refine stage');
      assert.equal(r.results.length, 10);
      for (const h of r.results) assert.ok(Math.abs(h.score - cosine(q, h.id)) < 1e-6, `${type}: ${h.id} ${h.score} vs ${cosine(q, h.id)}`);
      const exact = await engine.search(type, { vector: q }, { k: 10, exact: true });
      assert.deepEqual(
        exact.stages.map((s) => s.source),
        ['exact', 'refine'],
      );
      const brute = vectors
        .map((v, i) => ({ i, s: prefixCosine(q, v, DIM) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10)
        .map((x) => `v${x.i}`);
      assert.deepEqual(
        exact.results.map((h) => h.id),
        brute,
        `${type} exact`,
      );
      for (const h of exact.results) assert.ok(Math.abs(h.score - cosine(q, h.id)) < 1e-6);
      // engine.exact (evaluation's ground truth) is exact over quantised rows too.
      const truth = await engine.exact(type, Float32Array.from(q), DIM, 10);
      assert.deepEqual(
        truth.seqs.map((seq) => engine.items.getBySeq(seq)?.id),
        brute,
        `${type} engine.exact`,
      );
      truth.seqs.forEach((seq, i) => assert.ok(Math.abs(truth.scores[i] - cosine(q, engine.items.getBySeq(seq)!.id)) < 1e-6));
    }
    // refine: 0 turns it off: scores then come from the quantised rows (close, not exact).
    const off = await engine.search(type, { vector: vectors[3] }, { k: 10, shortlist: 100, refine: 0 });
    assert.deepEqual(
      off.stages.map((s) => s.source),
      ['index', 'rerank'],
    );
    assert.ok(
      off.results.some((h) => Math.abs(h.score - cosine(vectors[3], h.id)) > 1e-6),
      'without refine the scores are the quantised ones',
    );
    for (const h of off.results) assert.ok(Math.abs(h.score - cosine(vectors[3], h.id)) < 0.02);
  }
});

test('exact scans of quantised collections of different sizes (one shared row-index array) each see exactly their own rows', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  await fill(engine, 'big', 'int8');
  engine.createCollection({ name: 'small', dim: DIM, indexDim: 16, rerankDim: DIM, residentDim: DIM, residentType: 'f16' });
  await engine.upsert(
    'small',
    vectors.slice(0, 30).map((v, i) => ({ id: `v${i}`, vector: v })),
  );
  const brute = (q: number[], n: number, k: number) =>
    vectors
      .slice(0, n)
      .map((v, i) => ({ i, s: prefixCosine(q, v, DIM) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map((x) => `v${x.i}`);
  for (const [name, n] of [
    ['big', N],
    ['small', 30],
    ['big', N],
    ['small', 30],
  ] as const) {
    const q = vectors[n === N ? 700 : 7];
    const r = await engine.search(name, { vector: q }, { k: 25, exact: true });
    assert.deepEqual(
      r.results.map((h) => h.id),
      brute(q, n, 25),
      name,
    );
  }
});

test('an adaptive (widened) search over int8 rows still refines from the full vectors: exact scores', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  await fill(engine, 'a', 'int8');
  const q = vectors[3];
  const r = await engine.search('a', { vector: q }, { k: 10, shortlist: 20, adaptive: { ratio: 10, cap: 80 } });
  assert.deepEqual(
    r.stages.map((s) => s.source),
    ['index', 'rerank', 'refine'],
  );
  assert.equal(r.stages[0].widened, 80, 'a ratio of 10 always widens to the cap');
  assert.equal(r.results.length, 10);
  for (const h of r.results) assert.ok(Math.abs(h.score - cosine(q, h.id)) < 1e-6, `${h.id} ${h.score} vs ${cosine(q, h.id)}`);
});

test('refine on a float32 collection: off by default, exact scores when asked, also as a collection default; bad values are INVALID_SEARCH', async (t) => {
  const { engine, collections } = await openData(t, tempDir(t));
  await fill(engine, 'f', undefined, { rerankDim: 48, residentDim: 48 });
  const q = vectors[77];
  const plain = await engine.search('f', { vector: q }, { k: 5, shortlist: 50 });
  assert.deepEqual(
    plain.stages.map((s) => s.source),
    ['index', 'rerank'],
  );
  const refined = await engine.search('f', { vector: q }, { k: 5, shortlist: 50, refine: 20 });
  assert.deepEqual(
    refined.stages.map((s) => [s.source, s.candidates]),
    [
      ['index', 50],
      ['rerank', 50],
      ['refine', 20],
    ],
  );
  assert.deepEqual(
    refined.results.map((h) => h.id),
    plain.results.map((h) => h.id),
  );
  for (const h of refined.results) assert.ok(Math.abs(h.score - cosine(q, h.id, 48)) < 1e-6);
  collections.updateSearchDefaults('f', { refine: 15 });
  const rec = collections.get('f');
  engine.runtime('f').swap(rec, engine.runtime('f').index);
  const byDefault = await engine.search('f', { vector: q }, { k: 5, shortlist: 50 });
  assert.deepEqual(
    byDefault.stages.map((s) => [s.source, s.candidates]),
    [
      ['index', 50],
      ['rerank', 50],
      ['refine', 15],
    ],
  );
  for (const bad of [-1, 1.5, 'x', 20_000]) {
    await assert.rejects(
      engine.search('f', { vector: q }, { refine: bad as number }),
      (e: { code?: string }) => e.code === 'INVALID_SEARCH',
    );
  }
});

test('f16 and int8 collections survive a restart: same rows, same answers, record and bytes kept', async (t) => {
  const dir = tempDir(t);
  const first = await openData(t, dir);
  const before: Record<string, unknown> = {};
  for (const type of ['f16', 'int8']) {
    await fill(first.engine, type, type);
    await first.engine.deleteItems(type, ['v5', 'v6']);
    before[type] = await Promise.all(
      [1, 500, 1100].map((qi) => first.engine.search(type, { vector: vectors[qi] }, { k: 10, shortlist: 80 }).then((r) => r.results)),
    );
  }
  await first.close();
  const second = await openData(t, dir);
  for (const type of ['f16', 'int8']) {
    const d = second.engine.describe(type);
    assert.equal(d.residentType, type);
    assert.equal(d.count, N - 2);
    const after = await Promise.all(
      [1, 500, 1100].map((qi) => second.engine.search(type, { vector: vectors[qi] }, { k: 10, shortlist: 80 }).then((r) => r.results)),
    );
    assert.deepEqual(after, before[type], type);
    assert.ok(!after.flat().some((h) => h.id === 'v5' || h.id === 'v6'));
  }
  const m = second.engine.describe('int8').memory;
  assert.equal(m.residentType, 'int8');
  const f32Rows = (N - 2) * DIM * 4;
  assert.ok(m.rowBytes >= f32Rows / 4 && m.rowBytes < (f32Rows / 4) * 1.6, `int8 rows ${m.rowBytes} vs f32 ${f32Rows}`);
});

test('result rows come from the cache but never stale: a replaced id shows its new payload, a deleted one is gone', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  await fill(engine, 'c', 'int8');
  const q = vectors[10];
  const top = (await engine.search('c', { vector: q }, { k: 3 })).results;
  assert.equal(top[0].id, 'v10');
  assert.deepEqual(top[0].payload, { n: 10 });
  await engine.upsert('c', [{ id: 'v10', vector: q, label: 'new', payload: { n: 'replaced' } }]);
  const again = (await engine.search('c', { vector: q }, { k: 3 })).results;
  assert.deepEqual([again[0].id, again[0].label, again[0].payload], ['v10', 'new', { n: 'replaced' }]);
  await engine.deleteItems('c', ['v10']);
  assert.ok(!(await engine.search('c', { vector: q }, { k: 3 })).results.some((h) => h.id === 'v10'));
  assert.ok(engine.describe('c').memory.metadataCacheBytes > 0);
});

test('an invalid residentType is a coded 400 (INVALID_COLLECTION), from the engine and over HTTP', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  for (const bad of ['f64', 'INT8', 8, '']) {
    assert.throws(
      () => engine.createCollection({ name: 'x', dim: 8, residentType: bad }),
      (e: { code?: string }) => e.code === 'INVALID_COLLECTION',
    );
  }
  const { app } = await buildTestApp(t);
  const res = await app.inject({ method: 'POST', url: '/collections', payload: { name: 'x', dim: 8, residentType: 'f64' } });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().error.code, 'INVALID_COLLECTION');
  const ok = await app.inject({ method: 'POST', url: '/collections', payload: { name: 'y', dim: 8, residentType: 'f16' } });
  assert.equal(ok.statusCode, 201, ok.body);
  const shown = (await app.inject('/collections/y')).json();
  assert.equal(shown.residentType, 'f16');
  assert.equal(shown.memory.residentType, 'f16');
  for (const k of ['indexBytes', 'matrixBytes', 'rowBytes', 'normBytes', 'slotBytes', 'metadataCacheBytes'])
    assert.equal(typeof shown.memory[k], 'number', k);
});

test('filtered and patched searches over int8 rows: matches only, exact scores, patched metadata shown', async (t) => {
  const { engine } = await openData(t, tempDir(t));
  await fill(engine, 'q', 'int8');
  const q = vectors[8];
  const r = await engine.search('q', { vector: q }, { k: 5, filter: { label: labels[8] } });
  assert.equal(r.results.length, 5);
  for (const h of r.results) {
    assert.equal(h.label, labels[8]);
    assert.ok(Math.abs(h.score - cosine(q, h.id)) < 1e-6);
  }
  const first = (await engine.search('q', { vector: q }, { k: 1 })).results[0];
  assert.equal(first.id, 'v8');
  engine.patchItem('q', 'v8', { payload: { n: 'patched' } });
  assert.deepEqual(
    (await engine.search('q', { vector: q }, { k: 1 })).results[0].payload,
    { n: 'patched' },
    'the cached row follows a patch',
  );
});
