/**
 * The keyword half of `npm run bench:filter`: Brown corpus paragraphs through the shipped
 * `text-mrl` encoder; keyword (BM25) and hybrid (RRF) latency, and mAP@10 of hybrid vs
 * vector-only search with the paragraph's genre as its label (each query is a stored
 * paragraph by id, left out of its own results; hybrid adds its text as the keyword query).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { AppContext } from '../src/context.js';
import { median, quantile } from '../src/core/stats.js';
import { readBrown } from '../src/data/brown.js';

/** AP@k of a ranked list of labels against the query's label (relevant: same label), over the hits found. */
function apAt(labels: (string | null)[], want: string, k: number): number {
  let hits = 0,
    sum = 0;
  labels.slice(0, k).forEach((l, i) => {
    if (l === want) sum += ++hits / (i + 1);
  });
  return hits === 0 ? 0 : sum / hits;
}

export async function textBench(n: number, k: number, log: (s: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mrl-bench-text-'));
  const ctx = await AppContext.fromConfig(loadConfig({ ...process.env, MRL_DATA_DIR: dir, MRL_DEFAULT_ENCODER: '' }));
  try {
    // Every (n/total)-th paragraph of at least 20 words: all genres, the documents in order.
    const all = readBrown().filter((p) => p.text.split(' ').length >= 20);
    const step = Math.max(1, Math.floor(all.length / n));
    const paras = all.filter((_p, i) => i % step === 0).slice(0, n);
    ctx.createCollection({ name: 'brown', encoder: 'text-mrl' });
    const t0 = performance.now();
    for (let i = 0; i < paras.length; i += 200) {
      await ctx.upsert(
        'brown',
        paras.slice(i, i + 200).map((p, j) => ({ id: `p${i + j}`, input: p.text, label: p.genre })),
      );
    }
    log(`embedded and ingested ${paras.length} Brown paragraphs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const queries = paras
      .map((_p, i) => i)
      .filter((i) => i % Math.max(1, Math.floor(paras.length / 200)) === 0)
      .slice(0, 200);
    const rows: string[] = [];
    const run = async (name: string, f: (i: number) => Promise<(string | null)[]>) => {
      const ms: number[] = [];
      let ap = 0;
      for (const i of queries) {
        const s = performance.now();
        const labels = await f(i);
        ms.push(performance.now() - s);
        ap += apAt(labels, paras[i].genre, k);
      }
      log(`${name}: p50 ${median(ms).toFixed(2)} ms`);
      rows.push(`| ${name} | ${median(ms).toFixed(2)} | ${quantile(ms, 0.99).toFixed(2)} | ${(ap / queries.length).toFixed(3)} |`);
    };
    // A keyword query: the paragraph's first 12 words (a long query, as a user pasting text).
    const words = (i: number) => paras[i].text.split(' ').slice(0, 12).join(' ');
    await run('vector only (by id)', async (i) => (await ctx.search('brown', { id: `p${i}` }, { k })).results.map((h) => h.label));
    await run('keyword only (first 12 words)', async (i) =>
      (await ctx.search('brown', {}, { k: k + 1, text: words(i) })).results
        .filter((h) => h.id !== `p${i}`)
        .slice(0, k)
        .map((h) => h.label),
    );
    await run('hybrid RRF (by id + first 12 words)', async (i) =>
      (await ctx.search('brown', { id: `p${i}` }, { k, text: words(i) })).results.map((h) => h.label),
    );
    await run('hybrid blend (by id + first 12 words)', async (i) =>
      (await ctx.search('brown', { id: `p${i}` }, { k, text: words(i), fusion: { method: 'blend' } })).results.map((h) => h.label),
    );
    console.log(
      `\n### Keyword and hybrid search, ${paras.length} Brown paragraphs through text-mrl, ${queries.length} queries, genres as labels\n`,
    );
    console.log('| search | p50 ms | p99 ms | mAP@10 |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
