/**
 * Fixed against adaptive shortlist K (src/search/widen.ts) on the hard synthetic shape: slow
 * decay along the dims (std 1/sqrt(1 + j/64)), 64 clusters, high noise; `--mixed` makes half
 * the clusters tight (noise 0.3) and half loose (1.5), so queries differ in difficulty.
 * Recall@10 against exact full-D, mean shortlist, p50 latency, as a markdown table.
 *
 *   npx tsx bench/adaptive-k.ts [--n 20000] [--d 128] [--queries 300] [--index-dim 16] [--mixed]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKernel } from '../src/compute/create-kernel.js';
import { mulberry32 } from '../src/core/rng.js';
import { median } from '../src/core/stats.js';
import { DataContext } from '../src/data-context.js';
import type { SearchOptions } from '../src/search/options.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    d: { type: 'string', default: '128' },
    queries: { type: 'string', default: '300' },
    'index-dim': { type: 'string', default: '16' },
    mixed: { type: 'boolean', default: false },
    seed: { type: 'string', default: '3' },
  },
});
const N = Number(a.n);
const D = Number(a.d);
const Q = Number(a.queries);
const r = mulberry32(Number(a.seed));
const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const std = Array.from({ length: D }, (_, j) => 1 / Math.sqrt(1 + j / 64));
const centres = Array.from({ length: 64 }, () => std.map((s) => s * g()));
const draw = () => {
  const c = Math.floor(r() * centres.length);
  const noise = a.mixed ? (c % 2 ? 1.5 : 0.3) : 1;
  return centres[c].map((x, j) => x + noise * std[j] * g());
};

const dir = mkdtempSync(join(tmpdir(), 'mrl-adaptive-'));
const kernel = await createKernel({ backend: 'auto', threads: 2 });
const data = await DataContext.open({ dataDir: dir, kernel, auditRate: 0 });
try {
  const e = data.engine;
  e.createCollection({ name: 'h', dim: D, indexDim: Number(a['index-dim']), rerankDim: D });
  for (let i = 0; i < N; i += 2000)
    await e.upsert(
      'h',
      Array.from({ length: Math.min(2000, N - i) }, (_, j) => ({ id: `v${i + j}`, vector: draw() })),
    );
  const qs = Array.from({ length: Q }, draw);
  const truth: Set<string>[] = [];
  for (const q of qs) truth.push(new Set((await e.search('h', { vector: q }, { exact: true })).results.map((h) => h.id)));
  const row = async (label: string, opts: SearchOptions) => {
    let recall = 0;
    let shortlist = 0;
    const ms: number[] = [];
    for (let i = 0; i < Q; i++) {
      const res = await e.search('h', { vector: qs[i] }, opts);
      ms.push(res.ms);
      recall += res.results.filter((h) => truth[i].has(h.id)).length / 10;
      shortlist += res.stages[0].candidates;
    }
    process.stdout.write(`| ${label} | ${(shortlist / Q).toFixed(0)} | ${(recall / Q).toFixed(3)} | ${median(ms).toFixed(3)} |\n`);
  };
  process.stdout.write(
    `\n${N} × ${D}, index ${a['index-dim']}d, ${a.mixed ? 'mixed' : 'uniform'} noise, ${Q} queries\n\n| shortlist | mean K | recall@10 | p50 ms |\n| --- | --- | --- | --- |\n`,
  );
  for (const k of [20, 40, 80, 160, 320, 640]) await row(`fixed ${k}`, { shortlist: k });
  for (const ratio of [0.25, 0.5, 1])
    await row(`adaptive from 20, ratio ${ratio}, cap 640`, { shortlist: 20, adaptive: { ratio, cap: 640 } });
} finally {
  await data.close();
  await kernel.close();
  rmSync(dir, { recursive: true, force: true });
}
