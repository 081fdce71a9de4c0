import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { buildTestApp, defer, mrlLikeVectors } from '../helpers.js';

const CHROMIUM = process.env.MRL_CHROMIUM ?? '/usr/bin/chromium';
const D = 32;
const { vectors } = mrlLikeVectors(1200, D, 7);

test('in Chromium: the quality chart, verdict and audit of a collection; a button computes a missing report', async (t) => {
  const { app, ctx } = await buildTestApp(t, { MRL_AUDIT_RATE: '1' });
  for (const name of ['mrl', 'fresh']) {
    ctx.createCollection({ name, dim: D, indexDim: 8, rerankDim: D });
    await ctx.engine.upsert(
      name,
      vectors.map((vector, i) => ({ id: `v${i}`, vector })),
    );
  }
  const report = await ctx.data.quality.report('mrl', { sample: 100 });
  for (let i = 0; i < 3; i++) await ctx.search('mrl', { id: `v${i}` });
  await ctx.data.quality.audit.idle();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });

  if (!existsSync(CHROMIUM)) assert.fail(`no Chromium at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\`, or set MRL_CHROMIUM`);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  defer(t, () => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(`${url}/#mrl`);
  await page.locator('#quality-body').waitFor();
  // One mark per prefix in each of the three series.
  for (const cls of ['series-a', 'series-muted', 'series-exact']) {
    assert.equal(await page.locator(`#chart-quality g.layer.${cls} .mark`).count(), report.prefixes.length, cls);
  }
  const summary = await page.locator('#quality-summary').innerText();
  assert.match(summary, new RegExp(`^${report.verdict} · largest gain at d ≤ D/4: ${report.maxGain.toFixed(2)}`));
  assert.match(summary, /Live audit: 3 searches, recall@10 \d\.\d{3}/);

  await page.locator('button.collection[data-name="fresh"]').click();
  const empty = page.locator('#quality-empty');
  await empty.waitFor();
  assert.match(await empty.innerText(), /No quality report yet/);
  await empty.locator('button').click();
  await page.locator('#quality-body').waitFor();
  assert.match(await page.locator('#quality-summary').innerText(), /leave-one-out queries over 1200 of 1200 items/);
  assert.ok(ctx.data.quality.verdict(ctx.engine.runtime('fresh').record.id), 'the click computed and stored a report');
  assert.deepEqual(errors, []);
});
