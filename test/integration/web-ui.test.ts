import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { EvalResult, LatencyFigures, SweepPoint, SweepResult } from '../../src/eval/types.js';
import { buildTestApp, defer, mrlLikeVectors } from '../helpers.js';
import { tickDecimals } from '../../public/chart-core.js';

// Debian's package (scripts/install-chromium.sh); never a downloaded browser.
const CHROMIUM = process.env.MRL_CHROMIUM ?? '/usr/bin/chromium';

const DIM = 32;
const { vectors, labels } = mrlLikeVectors(48, DIM, 7, 6);
const items = vectors.map((v, i) => ({ id: `v${i}`, vector: v, label: labels[i], payload: { n: i, title: `item ${i}` } }));

/** Top k ids by cosine over the full vectors, the query item left out: what the page must list. */
function bruteForceTop(queryIndex: number, k: number): string[] {
  const norm = (v: number[]) => Math.hypot(...v);
  const q = vectors[queryIndex];
  return vectors
    .map((v, i) => ({ id: `v${i}`, cos: v.reduce((s, x, j) => s + x * q[j], 0) / (norm(v) * norm(q)) }))
    .filter((r) => r.id !== `v${queryIndex}`)
    .sort((a, b) => b.cos - a.cos)
    .slice(0, k)
    .map((r) => r.id);
}

/** A 1280×800 page; `errors` collects what the page's scripts throw uncaught. */
async function launchPage(t: TestContext): Promise<{ page: Page; errors: string[] }> {
  if (!existsSync(CHROMIUM)) {
    assert.fail(
      `no Chromium at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` (installs Debian's chromium package), or set MRL_CHROMIUM to a Chromium binary`,
    );
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  defer(t, () => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  // The server's Content-Security-Policy: anything the page relies on that it blocks is an error here.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) errors.push(msg.text());
  });
  return { page, errors };
}

/** With MRL_SCREENSHOT set (to anything), a full-page screenshot goes to the OS temp dir. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.MRL_SCREENSHOT) return;
  await page.screenshot({ path: join(tmpdir(), name), fullPage: true });
}

test('the page and its files are served with their types; anything else is a coded 404, hidden from OpenAPI', async (t) => {
  const { app } = await buildTestApp(t);
  const index = await app.inject('/');
  assert.equal(index.statusCode, 200);
  assert.match(String(index.headers['content-type']), /^text\/html/);
  assert.match(index.body, /<script type="module" src="\/static\/app\.js">/);
  for (const [file, type] of [
    ['app.js', /^text\/javascript/],
    ['plot.js', /^text\/javascript/],
    ['chart-core.js', /^text\/javascript/],
    ['style.css', /^text\/css/],
  ] as const) {
    const r = await app.inject(`/static/${file}`);
    assert.equal(r.statusCode, 200, file);
    assert.match(String(r.headers['content-type']), type);
  }
  for (const url of [
    '/static/nope.js',
    '/static/..%2Fpackage.json',
    '/static/%2e%2e%2fpackage.json',
    '/static/../package.json',
    '/static/.gitignore',
    '/static/index.txt',
    '/index.html/../package.json',
  ]) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, 404, url);
    assert.equal(r.json().error.code, 'NOT_FOUND', url);
  }
  const doc = (await app.inject('/docs/json')).json<{ paths: Record<string, unknown> }>();
  assert.ok(!('/' in doc.paths) && !Object.keys(doc.paths).some((p) => p.startsWith('/static')), Object.keys(doc.paths).join(' '));
});

test('in Chromium: pick a collection, search by id, see the results, the stages and coded errors', async (t) => {
  const { app } = await buildTestApp(t);
  const created = await app.inject({
    method: 'POST',
    url: '/collections',
    payload: { name: 'shoes', dim: DIM, indexDim: 8, rerankDim: DIM },
  });
  assert.equal(created.statusCode, 201, created.body);
  const ingested = await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'shoes', items } });
  assert.equal(ingested.statusCode, 200, ingested.body);
  // A text-encoder collection: its box takes text (the model loads only on a search, not made here).
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name: 'notes', encoder: 'text-mrl' } })).statusCode,
    201,
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });

  // What the page must show: the API's own answer, which for 48 items (all in the shortlist,
  // reranked at full dims) is the brute-force cosine top 10.
  const expected = (await (await fetch(`${url}/search?collection=shoes&id=v5&k=10`)).json()) as {
    results: { id: string; score: number; label: string }[];
    stages: { dims: number; source: string; candidates: number }[];
  };
  assert.deepEqual(
    expected.results.map((r) => r.id),
    bruteForceTop(5, 10),
  );

  const { page, errors } = await launchPage(t);
  await page.goto(`${url}/`);
  const shoes = page.locator('button.collection[data-name="shoes"]');
  await shoes.waitFor();
  assert.match(await shoes.innerText(), /48 items/);
  assert.match(await page.locator('button.collection[data-name="notes"]').innerText(), /0 items[\s\S]*text-mrl \(text\)/);

  // The text box sends q=…; the request is stopped in the browser (loading the text model is
  // not this test's business), which the page reports as a network error.
  await page.locator('button.collection[data-name="notes"]').click();
  assert.equal(await page.locator('#query-label').innerText(), 'Text query');
  const sent: string[] = [];
  await page.route('**/search?*', (route) => {
    sent.push(route.request().url());
    return route.abort();
  });
  await page.locator('#query').fill('red shoes');
  await page.locator('#search button[type="submit"]').click();
  await page.locator('#search-error .error').waitFor();
  assert.match(await page.locator('#search-error .error').innerText(), /NETWORK/);
  assert.deepEqual(sent, [`${url}/search?collection=notes&q=red%20shoes&k=10`]);
  await page.unroute('**/search?*');
  await shoes.click();
  assert.equal(await page.locator('#query-label').innerText(), 'Item id');
  assert.equal(await shoes.getAttribute('aria-current'), 'true');

  await page.locator('#query').fill('v5');
  await page.locator('#search button[type="submit"]').click();
  const rows = page.locator('#results tbody tr');
  await page.locator('#search-out').waitFor();
  assert.deepEqual(
    await rows.locator('td:nth-child(2)').allInnerTexts(),
    expected.results.map((r) => r.id),
  );
  assert.deepEqual(
    await rows.locator('td.score').allInnerTexts(),
    expected.results.map((r) => r.score.toFixed(4)),
  );
  assert.deepEqual(
    await rows.locator('td.label').allInnerTexts(),
    expected.results.map((r) => r.label),
  );
  assert.deepEqual(
    await rows.locator('td.rank').allInnerTexts(),
    expected.results.map((_, i) => String(i + 1)),
  );
  const stages = await page.locator('#stages .stage').allInnerTexts();
  assert.equal(stages.length, expected.stages.length + 1);
  expected.stages.forEach((st, i) =>
    assert.match(stages[i], new RegExp(`${st.source} ${st.dims} dims · ${st.candidates} candidates · [\\d.]+ ms`)),
  );
  assert.match(stages.at(-1)!, /total [\d.]+ ms/);

  // The latest evaluation: none has been run (and the /eval routes may not exist yet).
  const evalNotice = page.locator('#eval-empty');
  await evalNotice.waitFor();
  assert.match(await evalNotice.innerText(), /no evaluation yet — run mrl eval --sweep --collection shoes or POST \/eval\/sweep/);
  await screenshot(page, 'web-ui.png');

  await page.locator('#query').fill('no-such-item');
  await page.locator('#search button[type="submit"]').click();
  const error = page.locator('#search-error .error');
  await error.waitFor();
  assert.match(await error.innerText(), /ITEM_NOT_FOUND[\s\S]*item 'no-such-item' not found in collection 'shoes'/);
  assert.equal(await page.locator('#search-out').isVisible(), false);
  await screenshot(page, 'web-ui-error.png');
  assert.deepEqual(errors, [], 'uncaught errors in the page');
});

/** A latest-evaluation reply typed by the eval contract (src/eval/types.ts), for the charts. */
function evalFixture(collection: string): { eval: EvalResult; sweep: SweepResult } {
  const lat = (p50: number): LatencyFigures => ({ p50, p99: p50 * 2.5, mean: p50 * 1.2 });
  const perDim = [8, 16, 32, 64, 128, 256, 512].map((dims, i) => ({
    dims,
    mapAt10: 0.6 + 0.04 * i - 0.003 * i * i,
    top1: 0.7 + 0.03 * i,
    recallAt10VsExact: 0.3 + 0.1 * i,
    latencyMs: lat(0.2 * 2 ** i),
  }));
  const point = (indexDims: number, rerank: number, p50: number, mapAt10: number, pareto: boolean): SweepPoint => ({
    indexDims,
    search: { shortlist: 200, rerank },
    label: `index ${indexDims}d → rerank ${rerank}d`,
    mapAt10,
    mapAt10HitNormalized: mapAt10 + 0.05,
    recallAt10VsExact: mapAt10 / 0.83,
    latencyMs: lat(p50),
    qps: 1000 / p50,
    flopsPerQuery: 2 * 200 * rerank,
    indexBytes: 48 * indexDims * 4,
    pareto,
    paretoRecall: pareto,
  });
  const points = [
    point(8, 64, 0.4, 0.71, true),
    point(8, 128, 0.6, 0.76, true),
    point(16, 128, 0.9, 0.75, false),
    point(16, 256, 1.1, 0.8, true),
    point(32, 256, 1.6, 0.79, false),
    point(32, 512, 2.2, 0.82, true),
    point(64, 512, 3.1, 0.815, false),
  ];
  const exact = point(512, 512, 6.4, 0.83, false);
  const createdAt = '2025-01-02T03:04:05.000Z';
  return {
    eval: {
      collection,
      mapAt10: 0.8123,
      mapAt10HitNormalized: 0.8567,
      precisionAt10: 0.7981,
      top1: 0.8765,
      recallAt10VsExact: 0.9512,
      latencyMs: lat(1.234),
      qps: 810.4,
      flopsPerQuery: 1.5e6,
      queries: 48,
      config: {
        search: { k: 10, shortlist: 200, rerank: 256 },
        stages: [
          { dims: 16, keep: 200, source: 'index' },
          { dims: 256, keep: 10, source: 'rerank' },
        ],
        indexDims: 16,
      },
      unlabelledQueries: 0,
      ms: 120,
      createdAt,
    },
    sweep: {
      collection,
      queries: 48,
      labelledQueries: 48,
      exact,
      perDim,
      points,
      best: points[3],
      targetRecall: 0.95,
      tolerance: { recall: 0.05, mapAt10: 0.03 },
      applied: false,
      ms: 900,
      createdAt,
    },
  };
}

test('in Chromium: the latest evaluation is drawn as two SVG charts and a table of figures', async (t) => {
  // The reply of GET /eval/latest comes from a fixture typed by the eval contract, so the
  // drawing is checked whatever the eval routes' state; the search routes are the real ones.
  const { app } = await buildTestApp(t);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name: 'shoes', dim: DIM, indexDim: 8 } })).statusCode,
    201,
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const fixture = evalFixture('shoes');
  const { page, errors } = await launchPage(t);
  const asked: string[] = [];
  await page.route('**/eval/latest?*', (route) => {
    asked.push(new URL(route.request().url()).searchParams.get('collection') ?? '');
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fixture) });
  });
  await page.goto(`${url}/#shoes`);
  await page.locator('#chart-pareto svg.plot').waitFor();
  assert.deepEqual(asked, ['shoes']);

  // Chart 1: one mark per dims, joined by one line, log2 ticks labelled with the dims.
  const dims = page.locator('#chart-dims svg.plot');
  assert.equal(await dims.locator('.series-a .mark').count(), fixture.sweep.perDim.length);
  assert.equal(await dims.locator('.series-a polyline.line').count(), 1);
  assert.deepEqual(
    await dims.locator('text.tick.x').allTextContents(),
    fixture.sweep.perDim.map((p) => String(p.dims)),
  );
  // y tick labels come from chart-core.js, as the report's do: every tick with the decimals they all need.
  const yTicks = await dims.locator('text.tick.y').allTextContents();
  assert.ok(yTicks.length >= 2, yTicks.join(' '));
  assert.deepEqual(
    yTicks,
    yTicks.map((t) => Number(t).toFixed(tickDecimals(yTicks.map(Number)))),
  );
  assert.ok(
    yTicks.some((t) => /0$/.test(t)),
    `labels keep their trailing zeros: ${yTicks.join(' ')}`,
  );
  // Chart 2: every sweep point drawn; the pareto ones joined in latency order; exact and best marked.
  const pareto = page.locator('#chart-pareto svg.plot');
  const onFront = fixture.sweep.points.filter((p) => p.pareto);
  assert.equal(await pareto.locator('.series-muted .mark').count(), fixture.sweep.points.length - onFront.length);
  assert.equal(await pareto.locator('.series-a .mark').count(), onFront.length);
  const joined = (await pareto.locator('.series-a polyline.line').getAttribute('points'))!.split(' ').map((xy) => Number(xy.split(',')[0]));
  assert.equal(joined.length, onFront.length);
  assert.deepEqual(
    joined,
    [...joined].sort((a, b) => a - b),
  );
  assert.equal(await pareto.locator('.series-exact rect.mark').count(), 1);
  assert.equal(await pareto.locator('.series-exact .note').textContent(), 'exact');
  assert.equal(await pareto.locator('.series-best circle.ring').count(), 1);
  assert.match((await pareto.locator('.series-best title').textContent())!, /^index 16d → rerank 256d: mAP@10 0\.8000/);
  // The figures table.
  const figures = Object.fromEntries((await page.locator('#eval-figures tr').allInnerTexts()).map((row) => row.split('\t')));
  assert.equal(figures['mAP@10'], '0.8123');
  assert.equal(figures['recall@10 vs exact'], '0.9512');
  assert.equal(figures['latency p50'], '1.23 ms');
  assert.equal(figures.queries, '48');
  assert.match(await page.locator('.sweep-summary').innerText(), /best: index 16d → rerank 256d/);
  assert.equal(await page.locator('#eval-empty').isVisible(), false);
  await screenshot(page, 'web-ui-eval.png');
  assert.deepEqual(errors, [], 'uncaught errors in the page');
});

test('in Chromium: a real sweep and evaluation run through the API are the ones charted', async (t) => {
  const { app } = await buildTestApp(t);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', payload: { name: 'shoes', dim: DIM, indexDim: 8, nesting: [8, 16, 32] } }))
      .statusCode,
    201,
  );
  assert.equal((await app.inject({ method: 'POST', url: '/ingest', payload: { collection: 'shoes', items } })).statusCode, 200);
  const sweep = await app.inject({
    method: 'POST',
    url: '/eval/sweep',
    payload: {
      collection: 'shoes',
      queries: { sample: 1 },
      grid: { indexDims: [8, 32], shortlists: [10, 20], rerankDims: [32], funnels: [] },
    },
  });
  assert.equal(sweep.statusCode, 200, sweep.body);
  const ran = await app.inject('/eval?collection=shoes&sample=1');
  assert.equal(ran.statusCode, 200, ran.body);
  const s = sweep.json<SweepResult>();
  const e = ran.json<EvalResult>();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const { page, errors } = await launchPage(t);
  await page.goto(`${url}/#shoes`);
  await page.locator('#chart-pareto svg.plot').waitFor();
  assert.equal(await page.locator('#chart-dims svg.plot .series-a .mark').count(), s.perDim.length);
  const onFront = s.points.filter((p) => p.pareto).length;
  assert.equal(await page.locator('#chart-pareto svg.plot .series-a .mark').count(), onFront);
  assert.equal(await page.locator('#chart-pareto svg.plot .series-muted .mark').count(), s.points.length - onFront);
  for (const chart of ['#chart-dims', '#chart-pareto']) {
    const ticks = await page.locator(`${chart} svg.plot text.tick.y`).allTextContents();
    assert.equal(new Set(ticks).size, ticks.length, `${chart}: y tick labels must differ (${ticks.join(' ')})`);
  }
  const figures = Object.fromEntries((await page.locator('#eval-figures tr').allInnerTexts()).map((row) => row.split('\t')));
  assert.equal(figures['mAP@10'], e.mapAt10!.toFixed(4));
  assert.equal(figures.queries, String(e.queries));
  await screenshot(page, 'web-ui-real.png');
  assert.deepEqual(errors, [], 'uncaught errors in the page');
});

test('in Chromium with API keys: the page asks for a key on 401, keeps it in sessionStorage for the tab, asks again for a bad one', async (t) => {
  const { app, ctx } = await buildTestApp(t, { MRL_ADMIN_KEY: 'web-ui-admin-key-0123456789' });
  const reader = ctx.keys.create({ name: 'viewer', role: 'read' }).secret;
  const admin = { authorization: 'Bearer web-ui-admin-key-0123456789' };
  assert.equal(
    (await app.inject({ method: 'POST', url: '/collections', headers: admin, payload: { name: 'shoes', dim: DIM, indexDim: 8 } }))
      .statusCode,
    201,
  );
  assert.equal(
    (await app.inject({ method: 'POST', url: '/ingest', headers: admin, payload: { collection: 'shoes', items } })).statusCode,
    200,
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });

  const { page, errors } = await launchPage(t);
  await page.goto(`${url}/`);
  const form = page.locator('#key-form');
  await form.waitFor();
  assert.match(await page.locator('#key-reason').innerText(), /needs an API key/);
  await page.locator('#key-input').fill('mrl_not-a-key');
  await page.locator('#key-form button[type="submit"]').click();
  await page.waitForFunction(() => /not accepted/.test(document.getElementById('key-reason')!.textContent ?? ''));
  assert.equal(await form.isVisible(), true);
  await page.locator('#key-input').fill(reader);
  await page.locator('#key-form button[type="submit"]').click();
  const shoes = page.locator('button.collection[data-name="shoes"]');
  await shoes.waitFor();
  assert.match(await shoes.innerText(), /48 items/);
  assert.equal(await form.isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mrl-api-key')), reader);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the key is kept for the tab only');
  // A search with the kept key, then a reload: no second prompt.
  await shoes.click();
  await page.locator('#query').fill('v5');
  await page.locator('#search button[type="submit"]').click();
  await page.locator('#search-out').waitFor();
  assert.equal(await page.locator('#results tbody tr').count(), 10);
  await page.reload();
  await shoes.waitFor();
  assert.equal(await form.isVisible(), false);
  // The API docs render under their own policy (Swagger UI sets inline styles).
  await page.goto(`${url}/docs`);
  await page.locator('.swagger-ui .info').waitFor();
  assert.deepEqual(errors, [], 'uncaught errors or CSP violations in the page');
});
