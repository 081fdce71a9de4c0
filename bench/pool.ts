/**
 * bench/search.ts --search-threads N: the same funnel settings through the engine's search pool
 * (worker threads over the shared matrix, src/engine/pool/) beside the in-thread engine, with one
 * client and with --pool-concurrency (default 8) queries in flight. A second engine opens the same
 * data dir from the snapshots the first one wrote, with N workers.
 */
import type { Kernel } from '../src/compute/kernel.js';
import type { LatencySummary } from '../src/core/stats.js';
import { DataContext } from '../src/data-context.js';
import type { Engine } from '../src/engine/engine.js';
import type { SearchOptions } from '../src/search/options.js';

type Result = { ids: string[] };
type Measured = Promise<{ lat: LatencySummary; results: Result[] }>;
export interface PoolBenchDeps {
  collection: string;
  measure(fn: (q: Float32Array) => Promise<Result>): Measured;
  measureConcurrent(inFlight: number, fn: (q: Float32Array) => Promise<Result>): Measured;
  recall(results: Result[], finalDims: number): number;
}
export interface PoolRow {
  setting: string;
  engine: string;
  clients: number;
  lat: LatencySummary;
  recall: number;
}

const ids = (r: Awaited<ReturnType<Engine['search']>>): Result => ({ ids: r.results.map((h) => h.id) });

/** Every setting in-thread and through a pool of `threads` workers, at 1 client and `inFlight` in flight. */
export async function poolRows(
  engine: Engine,
  dataDir: string,
  kernel: Kernel,
  threads: number,
  inFlight: number,
  settings: { label: string; opts: SearchOptions; finalDims: number }[],
  d: PoolBenchDeps,
  log: (s: string) => void,
): Promise<PoolRow[]> {
  engine.snapshotAll();
  const pooled = await DataContext.open({ dataDir, kernel, searchThreads: threads });
  const rows: PoolRow[] = [];
  try {
    const warm = pooled.engine;
    for (let i = 0; i < 200; i++)
      await warm.search(d.collection, { vector: new Float32Array(warm.runtime(d.collection).record.dim).fill(i + 1) });
    for (const st of settings) {
      for (const [name, e] of [
        ['in-thread', engine],
        [`pool of ${threads}`, pooled.engine],
      ] as const) {
        const run = (q: Float32Array) => e.search(d.collection, { vector: q }, st.opts).then(ids);
        for (const clients of [1, inFlight]) {
          log(`pool bench: ${st.label}, ${name}, ${clients} in flight`);
          const { lat, results } = clients === 1 ? await d.measure(run) : await d.measureConcurrent(clients, run);
          rows.push({ setting: st.label, engine: name, clients, lat, recall: d.recall(results, st.finalDims) });
        }
      }
    }
  } finally {
    await pooled.close();
  }
  return rows;
}

export function poolTable(rows: PoolRow[], k: number, ms: (x: number) => string): string[] {
  return [
    'The engine in this thread and through its search pool (worker threads over the shared matrix, MRL_SEARCH_THREADS), same data and settings, measured in this run:',
    '',
    `| setting | engine | in flight | p50 ms | p99 ms | QPS | recall@${k} |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.setting} | ${r.engine} | ${r.clients} | ${ms(r.lat.p50)} | ${ms(r.lat.p99)} | ${r.lat.qps.toFixed(0)} | ${r.recall.toFixed(3)} |`,
    ),
  ];
}
