import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { buildTestApp, defer, mrlLikeVectors } from '../helpers.js';

const CHROMIUM = process.env.MRL_CHROMIUM ?? '/usr/bin/chromium';
const DIM = 16;

test('in Chromium: a filter box and a keyword switch; each result says which list found it', async (t) => {
  const { app } = await buildTestApp(t);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name: 'shoes', dim: DIM, indexDim: 8 } })).statusCode,
    201,
  );
  const { vectors, labels } = mrlLikeVectors(40, DIM, 3, 4);
  const items = vectors.map((v, i) => ({
    id: `s${i}`,
    vector: v,
    label: labels[i],
    payload: { n: i },
    text: i % 3 === 0 ? `red shoe ${i}` : `blue boot ${i}`,
  }));
  assert.equal((await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'shoes', items } })).statusCode, 200);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const filter = '{"payload.n": {"$lt": 20}}';
  const expected = (await (await fetch(`${url}/search?collection=shoes&text=red&k=10&filter=${encodeURIComponent(filter)}`)).json()) as {
    results: { id: string }[];
  };
  assert.equal(expected.results.length, 7); // 0, 3, …, 18

  if (!existsSync(CHROMIUM)) assert.fail(`no Chromium at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` or set MRL_CHROMIUM`);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  defer(t, () => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(`${url}/`);
  await page.locator('button.collection[data-name="shoes"]').click();
  assert.equal(await page.locator('#mode option[value="hybrid"]').isDisabled(), true, 'hybrid needs a text-encoder collection');

  await page.locator('#mode').selectOption('keyword');
  await page.locator('#query').fill('red');
  await page.locator('#filter').fill(filter);
  await page.locator('#search button[type="submit"]').click();
  await page.locator('#search-out').waitFor();
  const rows = page.locator('#results tbody tr');
  assert.deepEqual(
    await rows.locator('td:nth-child(2)').allInnerTexts(),
    expected.results.map((r) => r.id),
  );
  assert.deepEqual(
    await rows.locator('td.found').allInnerTexts(),
    expected.results.map((_r, i) => `keyword #${i + 1}`),
  );
  assert.match(await page.locator('#stages').innerText(), /keyword BM25 · 7 hits/);

  await page.locator('#mode').selectOption('vector');
  await page.locator('#query').fill('s0');
  await page.locator('#search button[type="submit"]').click();
  await page.locator('#stages .stage[data-source="filter"]').waitFor();
  assert.match(await page.locator('#stages .stage[data-source="filter"]').innerText(), /filter exact-filtered · 20 matched/);
  assert.deepEqual(await rows.locator('td.found').allInnerTexts(), Array(10).fill('vector'));

  await page.locator('#filter').fill('{"payload.n": {"$near": 3}}');
  await page.locator('#search button[type="submit"]').click();
  await page.locator('#search-error .error').waitFor();
  assert.match(await page.locator('#search-error .error').innerText(), /INVALID_FILTER[\s\S]*filter\.payload\.n\.\$near/);
  assert.deepEqual(errors, [], 'uncaught errors in the page');
});
