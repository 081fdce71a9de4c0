/**
 * npm run bench:filter — filtered search on seeded synthetic MRL-like data (not a test).
 * A payload field `u` uniform in 0..999 gives filters `u < t` of selectivity 0.1%, 1%, 10% and
 * 50%. For each: p50/p99 and recall@10 against the exact filtered search (at the funnel's
 * rerank dims) for the planner, for each plan forced, and for post-filtering an unfiltered
 * top-100 (the common pattern), with how often each returned fewer than k. Then (unless
 * --skip-text) keyword and hybrid latency on Brown paragraphs through `text-mrl`, and hybrid
 * vs vector-only mAP@10 with genres as labels.
 *
 *   npm run bench:filter -- --n 100000 --d 768 --queries 200 [--brown 2000] [--skip-text]
 *   npm run bench:filter -- --selectivities 0.02,0.05,0.1,0.2,0.3 --skip-text   (the plans' crossover)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKernel } from '../src/compute/create-kernel.js';
import { median, quantile } from '../src/core/stats.js';
import { DataContext } from '../src/data-context.js';
import { matchFilter } from '../src/search/filter/match.js';
import { parseFilter } from '../src/search/filter/parse.js';
import { compileFilter } from '../src/search/filter/sql.js';
import { generateSynthetic, Rng } from './synthetic.js';
import { textBench } from './filter-text.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    d: { type: 'string', default: '768' },
    queries: { type: 'string', default: '200' },
    k: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    brown: { type: 'string', default: '2000' },
    'skip-text': { type: 'boolean', default: false },
    selectivities: { type: 'string', default: '0.001,0.01,0.1,0.5' },
    'skip-vectors': { type: 'boolean', default: false },
  },
});
const N = Number(a.n),
  D = Number(a.d),
  NQ = Number(a.queries),
  K = Number(a.k);
const log = (s: string) => process.stderr.write(`${s}\n`);
const SELECTIVITIES = a.selectivities.split(',').map(Number);

interface Row {
  method: string;
  sel: number;
  min: number;
  p50: number;
  p99: number;
  recall: number;
  short: number;
}

async function main(): Promise<void> {
  if (!a['skip-vectors']) await vectorBench();
  if (!a['skip-text']) await textBench(Number(a.brown), K, log);
}

async function vectorBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-bench-filter-'));
  const kernel = await createKernel({ backend: a.backend as 'auto', threads: Number(a.threads) });
  const data = await DataContext.open({ dataDir: dir, kernel });
  try {
    const engine = data.engine;
    const rec = engine.createCollection({ name: 'bench', dim: D, indexDim: Math.min(32, D), indexedFields: ['u'] });
    const syn = generateSynthetic({ n: N, d: D, queries: NQ, clusters: 256, seed: 1, warmup: 20 });
    const rng = new Rng(7, 9);
    const u = Array.from({ length: N }, () => rng.int(1000));
    const t0 = performance.now();
    for (let i = 0; i < N; i += 5000) {
      await engine.upsert(
        'bench',
        Array.from({ length: Math.min(5000, N - i) }, (_, j) => ({ id: `v${i + j}`, vector: syn.row(i + j), payload: { u: u[i + j] } })),
      );
    }
    log(`ingested ${N} × ${D} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Index insertion runs behind the commits, back to back once writes stop: timed searches
    // would share the event loop with it.
    await engine.runtime('bench').settled();
    log(`indexed after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const rows: Row[] = [];
    const matchMs: Record<number, number> = {};
    const columnsMs: Record<number, number> = {};
    const tb = performance.now();
    data.items.filters.columns(rec.id, rec.indexedFields, rec.indexDim);
    const buildMs = performance.now() - tb;
    for (const sel of SELECTIVITIES) {
      const filter = { 'payload.u': { $lt: Math.round(sel * 1000) } };
      const keep = (p: unknown) => (p as { u: number }).u < Math.round(sel * 1000);
      // Matching after a write (a patch): from the columns, and from SQLite (a version never used: not cached).
      const fromSql: number[] = [];
      const fromColumns: number[] = [];
      for (let w = 0; w < 20; w++) {
        const tm = performance.now();
        data.items.matcher.matching(rec.id, compileFilter(parseFilter(filter), new Set(rec.indexedFields)), -1 - w - 100 * sel);
        fromSql.push(performance.now() - tm);
        engine.patchItem('bench', 'v0', { label: `patched ${w}` });
        const tc = performance.now();
        matchFilter(data.items, rec, parseFilter(filter));
        fromColumns.push(performance.now() - tc);
      }
      matchMs[sel] = median(fromSql);
      columnsMs[sel] = median(fromColumns);
      const truth: string[][] = [];
      for (let q = 0; q < NQ; q++)
        truth.push(
          (await engine.search('bench', { vector: syn.query(q) }, { k: K, exact: true, rerank: rec.rerankDim, filter })).results.map(
            (h) => h.id,
          ),
        );
      const methods: [string, (q: Float32Array) => Promise<string[]>][] = [
        ['planner', async (q) => (await engine.search('bench', { vector: q }, { k: K, filter })).results.map((h) => h.id)],
        [
          'exact-filtered (forced)',
          async (q) => (await engine.search('bench', { vector: q }, { k: K, filter, filterExactBelow: 2 })).results.map((h) => h.id),
        ],
        [
          'index-filtered (forced)',
          async (q) => (await engine.search('bench', { vector: q }, { k: K, filter, filterExactBelow: 0 })).results.map((h) => h.id),
        ],
        [
          'post-filter top-100',
          async (q) =>
            (await engine.search('bench', { vector: q }, { k: 100 })).results
              .filter((h) => keep(h.payload))
              .slice(0, K)
              .map((h) => h.id),
        ],
      ];
      for (const [method, run] of methods) {
        for (let w = 0; w < 20; w++) await run(syn.warmupQuery(w));
        const ms: number[] = [];
        let hit = 0,
          want = 0,
          short = 0;
        for (let q = 0; q < NQ; q++) {
          const s = performance.now();
          const ids = await run(syn.query(q));
          ms.push(performance.now() - s);
          const tset = new Set(truth[q]);
          hit += ids.filter((id) => tset.has(id)).length;
          want += truth[q].length;
          if (ids.length < truth[q].length) short++;
        }
        rows.push({
          method,
          sel,
          min: Math.min(...ms),
          p50: median(ms),
          p99: quantile(ms, 0.99),
          recall: hit / Math.max(1, want),
          short: short / NQ,
        });
        log(`${(sel * 100).toFixed(1)}% ${method}: p50 ${median(ms).toFixed(2)} ms`);
      }
    }
    console.log(`\n### Filtered search, ${N} × ${D}, ${NQ} queries, k = ${K}, first stage ${rec.indexDim} dims, rerank ${rec.rerankDim}\n`);
    console.log('| selectivity | method | min ms | p50 ms | p99 ms | recall@10 | fewer than k |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows)
      console.log(
        `| ${(r.sel * 100).toFixed(1)}% | ${r.method} | ${r.min.toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.recall.toFixed(3)} | ${(r.short * 100).toFixed(0)}% |`,
      );
    const per = (ms: Record<number, number>) => SELECTIVITIES.map((s) => `${(s * 100).toFixed(1)}% ${ms[s].toFixed(2)} ms`).join(', ');
    console.log(
      `\nMatching a filter after a write (median of 20; repeats until the next write are cached): from the in-memory columns ${per(columnsMs)}; from SQLite's field index ${per(matchMs)}. The columns were built from SQLite in ${buildMs.toFixed(0)} ms (once, at the first filtered search).`,
    );
  } finally {
    await data.close();
    await kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
