import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp, mrlLikeVectors } from '../helpers.js';

const D = 32;
const { vectors, labels } = mrlLikeVectors(1500, D, 11, 24);

test('the live audit: its recall equals a direct computation over a fixed query log, per stage and in /metrics', async (t) => {
  const { app, ctx } = await buildTestApp(t, { MRL_AUDIT_RATE: '1' });
  ctx.createCollection({ name: 'a', dim: D, indexDim: 16, rerankDim: D });
  await ctx.engine.upsert(
    'a',
    vectors.map((vector, i) => ({ id: `v${i}`, vector, label: labels[i] })),
  );
  // A narrow shortlist at 8 dims loses neighbours: the audit must see it.
  const log = Array.from({ length: 25 }, (_, i) => ({
    id: `v${i * 37}`,
    funnel: [
      { dims: 8, keep: 30 },
      { dims: 16, keep: 15 },
      { dims: D, keep: 10 },
    ],
  }));
  const answers: string[][] = [];
  for (const q of log) {
    const r = await app.inject({ method: 'POST', url: '/search', payload: { collection: 'a', ...q } });
    assert.equal(r.statusCode, 200, r.body);
    answers.push(r.json().results.map((h: { id: string }) => h.id));
  }
  await ctx.data.quality.audit.idle();
  const summary = ctx.data.quality.audit.summary('a');

  // Directly: the exact full-D top 10 of each logged query (itself left out), against its answer.
  let sum = 0;
  let firstStage = 0;
  for (let i = 0; i < log.length; i++) {
    const item = ctx.engine.items.getById(ctx.engine.runtime('a').record.id, log[i].id)!;
    const exact = await ctx.engine.exact('a', item.vector, D, 11);
    const truth = exact.seqs.filter((s) => s !== item.seq).slice(0, 10);
    const ids = new Set([...ctx.engine.items.getBySeqs(truth).values()].map((r) => r.id));
    sum += answers[i].filter((id) => ids.has(id)).length / 10;
    const first = await ctx.engine.exact('a', item.vector, 8, 31); // the 8-dim stage is exact here
    firstStage +=
      first.seqs
        .filter((s) => s !== item.seq)
        .slice(0, 30)
        .filter((s) => truth.includes(s)).length / 10;
  }
  assert.equal(summary.searches, log.length);
  assert.ok(Math.abs(summary.recallAt10! - sum / log.length) < 1e-12, `${summary.recallAt10} vs ${sum / log.length}`);
  assert.ok(summary.recallAt10! < 1, 'this funnel loses neighbours');
  assert.deepEqual(
    summary.byStage.map((s) => [s.stage, s.dims, s.source]),
    [
      [0, 8, 'exact'],
      [1, 16, 'rerank'],
      [2, D, 'rerank'],
    ],
  );
  assert.ok(Math.abs(summary.byStage[0].recallAt10 - firstStage / log.length) < 1e-12);
  assert.ok(Math.abs(summary.byStage[2].recallAt10 - summary.recallAt10!) < 1e-12);
  const dropped = summary.byStage.reduce((s, x) => s + x.dropped, 0);
  assert.equal(Math.round(dropped), Math.round(log.length * 10 * (1 - summary.recallAt10!)));
  const report = (await app.inject('/collections/a/quality?sample=50')).json();
  assert.equal(report.audit.searches, log.length);
  assert.equal(report.audit.recallAt10, summary.recallAt10);
  const metrics = (await app.inject('/metrics')).body;
  assert.match(metrics, new RegExp(`mrl_audit_searches_total\\{collection="a"\\} ${log.length}`));
  assert.match(metrics, /mrl_audit_recall_at_10_bucket\{le="1",collection="a"\} 25/);
  assert.match(metrics, /mrl_audit_dropped_neighbours_total\{collection="a",stage="0",source="exact",dims="8"\} \d+/);
  // Below the default target 0.99 after 20 searches: one warning.
  assert.equal(ctx.data.quality.warnings.filter((w) => w.includes("'a': audited recall")).length, 1);
});

test('MRL_AUDIT_RATE samples every 1/rate-th search; 0 audits none', async (t) => {
  const { ctx } = await buildTestApp(t, { MRL_AUDIT_RATE: '0.25' });
  ctx.createCollection({ name: 'a', dim: D });
  await ctx.engine.upsert(
    'a',
    vectors.slice(0, 200).map((vector, i) => ({ id: `v${i}`, vector })),
  );
  for (let i = 0; i < 20; i++) await ctx.search('a', { id: `v${i}` });
  await ctx.data.quality.audit.idle();
  assert.equal(ctx.data.quality.audit.summary('a').searches, 5);
  const off = await buildTestApp(t, { MRL_AUDIT_RATE: '0' });
  off.ctx.createCollection({ name: 'a', dim: D });
  await off.ctx.engine.upsert(
    'a',
    vectors.slice(0, 50).map((vector, i) => ({ id: `v${i}`, vector })),
  );
  await off.ctx.search('a', { id: 'v1' });
  await off.ctx.data.quality.audit.idle();
  assert.equal(off.ctx.data.quality.audit.summary('a').searches, 0);
});
