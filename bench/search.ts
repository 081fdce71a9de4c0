/**
 * Search benchmark: the engine's funnel (prefix HNSW shortlist → rerank) against exact search
 * and single-stage graphs over the full vectors (hnswlib-node; usearch f32 and f16 unless
 * --skip-usearch), on seeded synthetic MRL-like data.
 * Prints markdown tables in the form of docs/design.md's "What to beat" to stdout; progress to stderr.
 * Then queries in flight at once (--concurrency) with and without the kernels' batching window
 * (--window-us, 0 = off), side by side; --concurrent-only runs just that part.
 *
 *   npm run bench:search -- --n 100000 --d 768 --queries 1000 [--json out.json]
 *   npm run bench:search -- --concurrent-only --concurrency 1,8,32 --window-us 0,200 [--backend gpu]
 *   npm run bench:search -- --resident-types f32,int8,f16 [--refine 40]   (quantised resident rows)
 *   npm run bench:search -- --search-threads 2 [--pool-concurrency 8]   (the engine through its search pool too, bench/pool.ts)
 * Every funnel setting is also run as an in-process sketch (bench/sketch.ts: the same index,
 * a plain JS rerank) in the same run, with the engine ÷ sketch ratio of their p50s.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import hnswlib from 'hnswlib-node';
import { BatchWindowKernel } from '../src/compute/gpu/batch-window.js';
import { createKernel } from '../src/compute/create-kernel.js';
import type { Backend, Kernel } from '../src/compute/kernel.js';
import { paperFunnel } from '../src/search/funnel-spec.js';
import type { FunnelStep, SearchOptions } from '../src/search/options.js';
import { normalizedPrefix } from '../src/core/prefix.js';
import { DataContext } from '../src/data-context.js';
import type { Engine } from '../src/engine/engine.js';
import { PrefixIndex } from '../src/index/prefix-index.js';
import { sweep } from '../src/eval/sweep.js';
import { median, summarise, type LatencySummary } from '../src/core/stats.js';
import { poolRows, poolTable, type PoolRow } from './pool.js';
import { FunnelSketch } from './sketch.js';
import { generateSynthetic, type SyntheticData } from './synthetic.js';
import { smallestEf, usearchGraph, usearchSearch } from './usearch-full.js';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    // Fixed against adaptive shortlist K on the hard shape (bench/adaptive-k.ts), printed last.
    'skip-adaptive': { type: 'boolean', default: false },
    d: { type: 'string', default: '768' },
    queries: { type: 'string', default: '1000' },
    k: { type: 'string', default: '10' },
    'index-dim': { type: 'string', default: '32' },
    shortlist: { type: 'string', default: '200,1000' },
    rerank: { type: 'string', default: '512,768' },
    clusters: { type: 'string', default: '256' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '2' },
    'hnsw-efs': { type: 'string', default: '16,32,64,128,256' },
    'skip-hnsw-full': { type: 'boolean', default: false },
    'skip-usearch': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '1,8,32' },
    'window-us': { type: 'string', default: '0,200' },
    'batch-max': { type: 'string', default: '64' },
    'concurrent-queries': { type: 'string', default: '300' },
    'concurrent-only': { type: 'boolean', default: false },
    'skip-tune': { type: 'boolean', default: false },
    'tune-queries': { type: 'string', default: '300' },
    'resident-types': { type: 'string', default: 'f32,int8' },
    refine: { type: 'string' },
    'search-threads': { type: 'string', default: '0' },
    'pool-concurrency': { type: 'string', default: '8' },
    json: { type: 'string' },
  },
  strict: true,
});

function posInt(s: string, name: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got '${s}'`);
  return v;
}
const intList = (s: string, name: string) =>
  s
    .split(',')
    .filter((x) => x.trim() !== '')
    .map((x) => posInt(x.trim(), name));

const N = posInt(argv.n, 'n');
const D = posInt(argv.d, 'd');
const NQ = posInt(argv.queries, 'queries');
const K = posInt(argv.k, 'k');
const INDEX_DIM = posInt(argv['index-dim'], 'index-dim');
const SHORTLISTS = intList(argv.shortlist, 'shortlist');
const RERANKS = [...new Set(intList(argv.rerank, 'rerank').filter((r) => r <= D))];
const CLUSTERS = posInt(argv.clusters, 'clusters');
const SEED = posInt(argv.seed, 'seed');
const THREADS = posInt(argv.threads, 'threads');
const EFS = intList(argv['hnsw-efs'], 'hnsw-efs');
const CONCURRENCY = intList(argv.concurrency, 'concurrency');
const WINDOWS = argv['window-us']
  .split(',')
  .filter((x) => x.trim() !== '')
  .map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--window-us must be non-negative integers, got '${x}'`);
    return v;
  })
  .sort((a, b) => a - b);
const BATCH_MAX = posInt(argv['batch-max'], 'batch-max');
const CONC_ONLY = argv['concurrent-only'];
const BACKEND = argv.backend as Backend;
if (!['auto', 'onnx', 'js', 'gpu'].includes(BACKEND)) throw new Error('--backend must be auto, onnx, js or gpu');
if (RERANKS.length === 0) RERANKS.push(D);
if (INDEX_DIM > D) throw new Error('--index-dim must be at most --d');
const RESIDENT = Math.max(...RERANKS);
const WARMUP = 50;
const COLLECTION = 'bench';
const RESIDENT_TYPES = argv['resident-types']
  .split(',')
  .map((x) => x.trim())
  .filter((x) => x !== '' && x !== 'f32');
for (const t of RESIDENT_TYPES) if (t !== 'f16' && t !== 'int8') throw new Error(`--resident-types takes f32, f16 and int8, got '${t}'`);
const REFINE = argv.refine === undefined ? undefined : Number(argv.refine);
if (REFINE !== undefined && (!Number.isInteger(REFINE) || REFINE < 0)) throw new Error('--refine must be a non-negative integer');

let loadStart: number[] = [];
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

interface Row {
  system: string;
  setting: string;
  finalDims: number;
  lat: LatencySummary;
  recall: number; // vs exact at finalDims
  recallFullD: number; // vs exact at D
  memory: string;
  build: string;
  engineMsP50?: number;
  stages?: { stage: string; p50: number; candidates: number }[];
  ef?: number;
  marks?: string[];
  note?: string;
}

type Result = { ids: string[]; engineMs?: number; stages?: { dims: number; source: string; candidates: number; ms: number }[] };

/** Runs every query sequentially (1 client) after WARMUP warm-up queries; per-query latency by performance.now(). */
async function measure(
  s: SyntheticData,
  fn: (q: Float32Array) => Result | Promise<Result>,
): Promise<{ lat: LatencySummary; results: Result[] }> {
  for (let i = 0; i < WARMUP; i++) {
    const r = fn(s.warmupQuery(i));
    if (r instanceof Promise) await r;
  }
  const lat = new Float64Array(NQ);
  const results = new Array<Result>(NQ);
  const start = performance.now();
  for (let i = 0; i < NQ; i++) {
    const q = s.query(i);
    const t0 = performance.now();
    let r = fn(q);
    if (r instanceof Promise) r = await r;
    lat[i] = performance.now() - t0;
    results[i] = r;
  }
  return { lat: summarise(lat, performance.now() - start), results };
}

function recallAt(results: Result[], truth: string[][]): number {
  let sum = 0;
  for (let i = 0; i < results.length; i++) {
    const t = new Set(truth[i]);
    let hit = 0;
    for (const id of results[i].ids.slice(0, K)) if (t.has(id)) hit++;
    sum += hit / Math.min(K, truth[i].length);
  }
  return sum / results.length;
}

function stageMedians(results: Result[]): { stage: string; p50: number; candidates: number }[] {
  const first = results[0].stages ?? [];
  return first.map((st, j) => ({
    stage: `${st.source}@${st.dims}`,
    p50: median(results.map((r) => r.stages?.[j]?.ms ?? NaN)),
    candidates: median(results.map((r) => r.stages?.[j]?.candidates ?? NaN)),
  }));
}

/** Funnel starting at the index: indexDim→64→128→256→D keeping 200→100→50→25→10 (steps ≥ D dropped but the last). */
function indexFunnel(): FunnelStep[] {
  const mid = [
    { dims: 64, keep: 100 },
    { dims: 128, keep: 50 },
    { dims: 256, keep: 25 },
  ].filter((st) => st.dims > INDEX_DIM && st.dims < D);
  return [{ dims: INDEX_DIM, keep: 200 }, ...mid, { dims: D, keep: 10 }];
}

function hnswFileSize(dir: string): number {
  return readdirSync(dir)
    .filter((x) => x.endsWith('.hnsw'))
    .reduce((acc, x) => acc + statSync(join(dir, x)).size, 0);
}

async function main(dataDir: string): Promise<void> {
  loadStart = loadavg();
  const t0 = performance.now();
  log(`generating ${N}×${D} (+${NQ} queries), ${CLUSTERS} clusters, seed ${SEED}`);
  const s = generateSynthetic({ n: N, d: D, queries: NQ, clusters: CLUSTERS, seed: SEED, warmup: WARMUP });
  const genS = (performance.now() - t0) / 1000;
  log(`generated in ${genS.toFixed(1)} s`);

  const base = await createKernel({ backend: BACKEND, threads: THREADS });
  if (base.fallbackReason) log(`kernel fallback: ${base.fallbackReason}`);
  const kernel = new SwitchKernel(base);
  const data = await DataContext.open({ dataDir, kernel });
  try {
    await run(data.engine, s, genS, base.fallbackReason, dataDir, kernel);
  } finally {
    await data.close();
    await kernel.close();
  }
}

/** The engine's kernel, switched between the plain kernel and batching windows over it. */
class SwitchKernel implements Kernel {
  current: Kernel;
  constructor(readonly base: Kernel) {
    this.current = base;
  }
  get name(): string {
    return this.base.name;
  }
  topK(...a: Parameters<Kernel['topK']>) {
    return this.current.topK(...a);
  }
  rerank(...a: Parameters<Kernel['rerank']>) {
    return this.current.rerank(...a);
  }
  /** Reranks over quantised rows go where the engine's kernel sends them (a kernel without it leaves them to JS). */
  get rerankQuantized(): Kernel['rerankQuantized'] {
    const k = this.current.rerankQuantized ? this.current : this.base;
    return k.rerankQuantized?.bind(k);
  }
  close(): Promise<void> {
    return this.base.close();
  }
}

interface ConcRow {
  search: string;
  inFlight: number;
  windowUs: number;
  lat: LatencySummary;
  recall: number;
  meanBatch: number;
  sameIds: number;
  of: number;
}

/** `count` queries with `inFlight` of them outstanding at any time; latency per query, QPS over the whole run. */
async function measureConcurrent(
  s: SyntheticData,
  inFlight: number,
  count: number,
  fn: (q: Float32Array) => Promise<Result>,
): Promise<{ lat: LatencySummary; results: Result[] }> {
  const pool = async (n: number, q: (i: number) => Float32Array, each: (i: number, r: Result, ms: number) => void) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        const r = await fn(q(i));
        each(i, r, performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  };
  await pool(
    Math.min(WARMUP, 2 * inFlight + 10),
    (i) => s.warmupQuery(i % WARMUP),
    () => {},
  );
  const lat = new Float64Array(count);
  const results = new Array<Result>(count);
  const start = performance.now();
  await pool(
    count,
    (i) => s.query(i),
    (i, r, t) => {
      lat[i] = t;
      results[i] = r;
    },
  );
  return { lat: summarise(lat, performance.now() - start), results };
}

/**
 * Each search at each number of queries in flight, once per window (0 = the plain kernel), the
 * windows side by side. "same ids" counts queries whose result ids equal the window-off run's.
 */
async function concurrencyRows(
  engine: Engine,
  s: SyntheticData,
  kernel: SwitchKernel,
  truth: Map<number, string[][]>,
  funnelOpts: SearchOptions,
  funnelLabel: string,
  finalDims: number,
): Promise<ConcRow[]> {
  const count = Math.min(NQ, posInt(argv['concurrent-queries'], 'concurrent-queries'));
  const shared: Kernel = {
    name: kernel.base.name,
    topK: kernel.base.topK.bind(kernel.base),
    rerank: kernel.base.rerank.bind(kernel.base),
    close: async () => {}, // the base kernel outlives the windows
  };
  const searches: [string, SearchOptions, number][] = [
    [funnelLabel, funnelOpts, finalDims],
    [`exact ${D} dims`, { k: K, exact: true, rerank: D }, D],
  ];
  const rows: ConcRow[] = [];
  for (const [label, opts, dims] of searches) {
    for (const inFlight of CONCURRENCY) {
      let offIds: string[] | null = null;
      for (const windowUs of WINDOWS) {
        const win = windowUs > 0 ? new BatchWindowKernel(shared, { windowUs, maxBatch: BATCH_MAX }) : null;
        kernel.current = win ?? kernel.base;
        log(`concurrency: ${label}, ${inFlight} in flight, window ${windowUs} µs`);
        const { lat, results } = await measureConcurrent(s, inFlight, count, (q) =>
          engine.search(COLLECTION, { vector: q }, opts).then((r) => ({ ids: r.results.map((h) => h.id) })),
        );
        const st = win?.stats();
        await win?.close();
        kernel.current = kernel.base;
        const ids = results.map((r) => r.ids.join());
        if (windowUs === 0) offIds = ids; // WINDOWS is sorted: 0 comes first
        const sameIds = offIds && windowUs > 0 ? ids.filter((x, i) => x === offIds![i]).length : NaN;
        // Warm-up calls are in the window's stats too; the mean is over all of them.
        const row = {
          search: label,
          inFlight,
          windowUs,
          lat,
          recall: recallAt(results, truth.get(dims)!.slice(0, count)),
          meanBatch: st ? st.meanBatchSize : 1,
          sameIds,
          of: count,
        };
        rows.push(row);
        log(`  p50 ${ms(lat.p50)} ms, p99 ${ms(lat.p99)} ms, QPS ${lat.qps.toFixed(0)}, mean batch ${row.meanBatch.toFixed(1)}`);
      }
    }
  }
  return rows;
}

function concurrencyTable(rows: ConcRow[], kernelName: string): string[] {
  const out = [
    `Queries in flight (${rows[0]?.of ?? 0} queries each, after a warm-up; latency per query from its start; QPS over the run). Kernel ${kernelName}; window = the batching window over it (0 = off), at most ${BATCH_MAX} queries per launch:`,
    '',
    `| search | in flight | window µs | p50 ms | p99 ms | QPS | mean queries per launch | recall@${K} vs exact | same ids as window off |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.search} | ${r.inFlight} | ${r.windowUs} | ${ms(r.lat.p50)} | ${ms(r.lat.p99)} | ${r.lat.qps.toFixed(0)} | ${r.windowUs ? r.meanBatch.toFixed(1) : '1 (no window)'} | ${f(r.recall)} | ${Number.isNaN(r.sameIds) ? '–' : `${r.sameIds}/${r.of}`} |`,
    );
  }
  return out;
}

async function run(
  engine: Engine,
  s: SyntheticData,
  genS: number,
  fallback: string | undefined,
  dataDir: string,
  switchKernel: SwitchKernel,
): Promise<void> {
  const rec = engine.createCollection({ name: COLLECTION, dim: D, indexDim: INDEX_DIM, rerankDim: RESIDENT, residentDim: RESIDENT });

  // Ingest through the engine: validate, SQLite transaction per batch, resident matrix, prefix index.
  let t = performance.now();
  for (let b = 0; b < N; b += 1000) {
    const items = [];
    for (let i = b; i < Math.min(N, b + 1000); i++) items.push({ id: `v${i}`, vector: s.row(i), label: String(s.labels[i]) });
    await engine.upsert(COLLECTION, items);
    if ((b / 1000) % 10 === 9) log(`ingested ${b + 1000}/${N}`);
  }
  const ingestS = (performance.now() - t) / 1000;
  log(`ingest ${ingestS.toFixed(1)} s (${(N / ingestS).toFixed(0)} rows/s)`);

  // Index build alone: a fresh PrefixIndex over the N prefixes.
  t = performance.now();
  const fresh = PrefixIndex.create(INDEX_DIM, rec.hnsw, N);
  for (let i = 0; i < N; i++) fresh.add(i + 1, s.row(i));
  const indexBuildS = (performance.now() - t) / 1000;
  log(`prefix index build ${indexBuildS.toFixed(1)} s`);

  t = performance.now();
  engine.snapshotAll();
  const snapshotS = (performance.now() - t) / 1000;
  const snapshotBytes = hnswFileSize(join(dataDir, 'index'));
  const desc = engine.describe(COLLECTION);
  const rssAfterIngest = process.memoryUsage().rss;
  log(`snapshot ${mb(snapshotBytes)} in ${snapshotS.toFixed(2)} s; matrix ${mb(desc.memory.matrixBytes)}; rss ${mb(rssAfterIngest)}`);

  // Ground truth: exact top-k at every final dims, batched through the kernel over the resident matrix.
  const rt = engine.runtime(COLLECTION);
  const idCache = new Map<number, string>();
  const idOf = (seq: number): string => {
    let id = idCache.get(seq);
    if (id === undefined) {
      id = engine.items.getBySeq(seq)?.id ?? `?${seq}`;
      idCache.set(seq, id);
    }
    return id;
  };
  const truthDims = [...new Set([D, ...RERANKS])];
  const truth = new Map<number, string[][]>();
  t = performance.now();
  for (const dims of truthDims) {
    const out: string[][] = [];
    const m = rt.matrix;
    if (dims <= m.width) {
      const slotSeq = m.slotSeq.slice(0, m.size);
      const scale = m.scaleAll(dims);
      for (let b = 0; b < NQ; b += 64) {
        const B = Math.min(64, NQ - b);
        const qs = new Float32Array(B * dims);
        for (let i = 0; i < B; i++) qs.set(normalizedPrefix(s.query(b + i), dims), i * dims);
        const tops = await engine.kernel.topK(qs, B, m.data, m.size, m.width, dims, scale, K);
        for (const top of tops) out.push(Array.from(top.indices, (slot) => idOf(slotSeq[slot])));
      }
    } else {
      for (let i = 0; i < NQ; i++) out.push((await engine.exact(COLLECTION, s.query(i), dims, K)).seqs.map(idOf));
    }
    truth.set(dims, out);
  }
  const truthS = (performance.now() - t) / 1000;
  log(`ground truth at ${truthDims.join(', ')} dims in ${truthS.toFixed(1)} s`);

  // Cross-check the kernel's ground truth on a few queries with a float64 JS scan of the raw data.
  const checkQ = Math.min(3, NQ);
  let agree = 0;
  for (let qi = 0; qi < checkQ; qi++) {
    const q = normalizedPrefix(s.query(qi), D);
    const scores = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let dot = 0;
      let nn = 0;
      const o = i * D;
      for (let j = 0; j < D; j++) {
        const x = s.data[o + j];
        dot += q[j] * x;
        nn += x * x;
      }
      scores[i] = nn > 0 ? dot / Math.sqrt(nn) : 0;
    }
    const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
    const mine = new Set(order.slice(0, K).map((i) => `v${i}`));
    if (truth.get(D)![qi].every((id) => mine.has(id))) agree++;
  }
  log(`ground-truth cross-check (float64 JS scan): ${agree}/${checkQ} queries agree`);

  // The funnel the concurrency rows use: the headline one (K=1000, D_r=512) where asked for.
  const concShortlist = SHORTLISTS.includes(1000) ? 1000 : SHORTLISTS[0];
  const concRerank = RERANKS.includes(512) ? 512 : RERANKS[0];
  const concurrency = () =>
    concurrencyRows(
      engine,
      s,
      switchKernel,
      truth,
      { k: K, shortlist: concShortlist, rerank: concRerank },
      `funnel D_s=${INDEX_DIM}, K=${concShortlist}, D_r=${concRerank}`,
      concRerank,
    );
  if (CONC_ONLY) {
    const conc = await concurrency();
    const out = [
      `## Concurrent queries: ${N} × ${D} synthetic clustered MRL-like vectors (${CLUSTERS} clusters, seed ${SEED}), k=${K}`,
      '',
      `kernel: ${engine.kernel.name}${fallback ? ` (fallback: ${fallback})` : ''}, ${THREADS} threads; index D_s=${INDEX_DIM}, efSearch=${rec.hnsw.efSearch}; resident R=${RESIDENT}; ${cpus().length} CPUs, load average at start ${loadStart.map((x) => x.toFixed(2)).join('/')}, at end ${loadavg()
        .map((x) => x.toFixed(2))
        .join('/')}.`,
      '',
      ...concurrencyTable(conc, engine.kernel.name),
    ];
    console.log(out.join('\n'));
    if (argv.json)
      writeFileSync(
        argv.json,
        JSON.stringify(
          {
            config: {
              n: N,
              d: D,
              k: K,
              backend: BACKEND,
              kernel: engine.kernel.name,
              fallback: fallback ?? null,
              threads: THREADS,
              concurrency: CONCURRENCY,
              windowsUs: WINDOWS,
              batchMax: BATCH_MAX,
            },
            loadStart,
            loadEnd: loadavg(),
            concurrency: conc,
          },
          null,
          2,
        ),
      );
    return;
  }

  const rows: Row[] = [];
  const matrixMem = `resident matrix ${mb(desc.memory.matrixBytes)}`;
  const funnelMem = `index ${mb(snapshotBytes)} (snapshot) + ${matrixMem}`;
  const fromEngine = (r: Awaited<ReturnType<Engine['search']>>): Result => ({
    ids: r.results.map((h) => h.id),
    engineMs: r.ms,
    stages: r.stages,
  });
  const addEngineRow = async (
    system: string,
    setting: string,
    opts: SearchOptions,
    finalDims: number,
    memory: string,
    build: string,
    note?: string,
    collection = COLLECTION,
  ) => {
    log(`measuring ${system} ${setting}`);
    const { lat, results } = await measure(s, (q) => engine.search(collection, { vector: q }, opts).then(fromEngine));
    const row: Row = {
      system,
      setting,
      finalDims,
      lat,
      memory,
      build,
      note,
      recall: recallAt(results, truth.get(finalDims)!),
      recallFullD: recallAt(results, truth.get(D)!),
      engineMsP50: median(results.map((r) => r.engineMs ?? NaN)),
      stages: stageMedians(results),
    };
    rows.push(row);
    log(`  p50 ${ms(lat.p50)} ms, QPS ${lat.qps.toFixed(0)}, recall@${K} ${f(row.recall)} (full-D ${f(row.recallFullD)})`);
    return row;
  };

  // (a) exact full-D
  await addEngineRow(
    `exact, engine (${engine.kernel.name})`,
    `${THREADS} threads, ${D} dims`,
    { k: K, exact: true, rerank: D },
    D,
    `${matrixMem} (shared)`,
    '–',
  );

  // (c) funnel: shortlist × rerank, the paper's funnel, a funnel from the index
  const funnelRows: Row[] = [];
  for (const sl of SHORTLISTS) {
    for (const r of RERANKS) {
      funnelRows.push(
        await addEngineRow(
          'funnel: prefix HNSW → rerank',
          `D_s=${INDEX_DIM}, K=${sl}, D_r=${r}`,
          { k: K, shortlist: sl, rerank: r },
          r,
          funnelMem,
          `${indexBuildS.toFixed(1)} s`,
        ),
      );
    }
  }
  // The same settings as an in-process sketch (the index built above, a plain JS rerank).
  const sketch = new FunnelSketch(fresh, s.data, N, D);
  const sketchRows: { setting: string; engine: Row; lat: LatencySummary; recall: number }[] = [];
  let fi = 0;
  for (const sl of SHORTLISTS) {
    for (const r of RERANKS) {
      sketch.prepare(r);
      log(`measuring the sketch K=${sl}, D_r=${r}`);
      const { lat, results } = await measure(s, (q) => ({ ids: sketch.search(q, sl, r, K, rec.hnsw.efSearch).map((i) => `v${i}`) }));
      sketchRows.push({
        setting: `D_s=${INDEX_DIM}, K=${sl}, D_r=${r}`,
        engine: funnelRows[fi++],
        lat,
        recall: recallAt(results, truth.get(r)!),
      });
      log(`  p50 ${ms(lat.p50)} ms; engine ÷ sketch ${(funnelRows[fi - 1].lat.p50 / lat.p50).toFixed(2)}`);
    }
  }

  // The same settings through the search pool (worker threads), beside the in-thread engine.
  let pooled: PoolRow[] = [];
  const searchThreads = Number(argv['search-threads']);
  if (searchThreads > 0) {
    const settings = SHORTLISTS.flatMap((sl) =>
      RERANKS.map((r) => ({ label: `D_s=${INDEX_DIM}, K=${sl}, D_r=${r}`, opts: { k: K, shortlist: sl, rerank: r }, finalDims: r })),
    );
    pooled = await poolRows(
      engine,
      dataDir,
      switchKernel.base,
      searchThreads,
      posInt(argv['pool-concurrency'], 'pool-concurrency'),
      settings,
      {
        collection: COLLECTION,
        measure: (fn) => measure(s, fn),
        measureConcurrent: (n, fn) => measureConcurrent(s, n, Math.min(NQ, posInt(argv['concurrent-queries'], 'concurrent-queries')), fn),
        recall: (results, dims) => recallAt(results, truth.get(dims)!.slice(0, results.length)),
      },
      log,
    );
  }

  // Quantised resident rows: the same data in a collection per type, the same settings.
  const quantRows: { type: string; row: Row; rowBytes: number; normBytes: number }[] = [];
  const f32Mem = engine.describe(COLLECTION).memory;
  for (const type of RESIDENT_TYPES) {
    const name = `${COLLECTION}-${type}`;
    engine.createCollection({ name, dim: D, indexDim: INDEX_DIM, rerankDim: RESIDENT, residentDim: RESIDENT, residentType: type });
    t = performance.now();
    for (let b = 0; b < N; b += 1000) {
      const items = [];
      for (let i = b; i < Math.min(N, b + 1000); i++) items.push({ id: `v${i}`, vector: s.row(i), label: String(s.labels[i]) });
      await engine.upsert(name, items);
    }
    await engine.drain(); // measured once its index holds every row, as the float32 collection is
    log(`ingested and indexed ${name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const mem = engine.describe(name).memory;
    for (const sl of SHORTLISTS) {
      for (const r of RERANKS) {
        const opts: SearchOptions = { k: K, shortlist: sl, rerank: r, ...(REFINE === undefined ? {} : { refine: REFINE }) };
        const row = await addEngineRow(
          `funnel, ${type} rows`,
          `D_s=${INDEX_DIM}, K=${sl}, D_r=${r}, refine ${REFINE ?? `${4 * K} (default)`}`,
          opts,
          r,
          `rows ${mb(mem.rowBytes)}`,
          '–',
          undefined,
          name,
        );
        rows.pop();
        quantRows.push({ type, row, rowBytes: mem.rowBytes, normBytes: mem.normBytes });
      }
    }
    await engine.dropCollection(name);
  }

  const pf = paperFunnel(D);
  funnelRows.push(
    await addEngineRow(
      'paper funnel',
      pf.map((st) => `${st.dims}:${st.keep}`).join('→'),
      { k: K, funnel: pf },
      D,
      matrixMem,
      '–',
      `first stage at ${pf[0].dims} dims is an exact scan (the index is at ${INDEX_DIM})`,
    ),
  );
  const xf = indexFunnel();
  funnelRows.push(
    await addEngineRow(
      'funnel from the index',
      xf.map((st) => `${st.dims}:${st.keep}`).join('→'),
      { k: K, funnel: xf },
      D,
      funnelMem,
      `${indexBuildS.toFixed(1)} s`,
    ),
  );

  // (b) hnswlib-node over the full, L2-normalised vectors
  let hnswFull: { buildS: number; fileBytes: number } | null = null;
  const hnswRows: Row[] = [];
  if (!argv['skip-hnsw-full']) {
    log(`building hnswlib-node full-D (${D} dims, M=${rec.hnsw.m}, efConstruction=${rec.hnsw.efConstruction})`);
    t = performance.now();
    const h = new hnswlib.HierarchicalNSW('ip', D);
    h.initIndex({ maxElements: N, m: rec.hnsw.m, efConstruction: rec.hnsw.efConstruction, randomSeed: 100 });
    for (let i = 0; i < N; i++) {
      h.addPoint(Array.from(normalizedPrefix(s.row(i), D)), i);
      if (i % 10000 === 9999) log(`  added ${i + 1}/${N}`);
    }
    const buildS = (performance.now() - t) / 1000;
    const file = join(dataDir, 'hnsw-full.bin');
    h.writeIndexSync(file);
    const fileBytes = statSync(file).size;
    rmSync(file);
    hnswFull = { buildS, fileBytes };
    log(`hnswlib full-D build ${buildS.toFixed(1)} s, file ${mb(fileBytes)}`);
    for (const ef of EFS) {
      h.setEf(ef);
      log(`measuring hnswlib full-D ef=${ef}`);
      const { lat, results } = await measure(s, (q) => ({
        ids: h.searchKnn(Array.from(normalizedPrefix(q, D)), K).neighbors.map((i) => `v${i}`),
      }));
      const recall = recallAt(results, truth.get(D)!);
      const row: Row = {
        system: 'hnswlib-node, full D',
        setting: `M=${rec.hnsw.m}, ef=${ef}`,
        finalDims: D,
        lat,
        recall,
        recallFullD: recall,
        memory: `${mb(fileBytes)} (file)`,
        build: `${buildS.toFixed(1)} s`,
        ef,
        marks: [],
      };
      hnswRows.push(row);
      log(`  p50 ${ms(lat.p50)} ms, QPS ${lat.qps.toFixed(0)}, recall@${K} ${f(recall)}`);
    }
    for (const target of [0.95, 0.99]) {
      const first = hnswRows.find((r) => r.recall >= target);
      if (first) first.marks!.push(`smallest ef with recall ≥ ${target}`);
    }
  }
  // (b') usearch full-D, f32 and f16, each at the smallest ef reaching the funnel's recall.
  const usearchRows: Row[] = [];
  if (!argv['skip-usearch']) {
    for (const quant of ['f32', 'f16'] as const) {
      const graph = usearchGraph(join(dataDir, `usearch-${quant}.usearch`), s, quant, rec.hnsw.m, rec.hnsw.efConstruction, log);
      log(`usearch full-D ${quant} build ${graph.buildS!.toFixed(1)} s (all cores), file ${mb(graph.bytes)}`);
      const best = await smallestEf(EFS, funnelRows[0].recall, async (ef) => {
        const search = await usearchSearch(graph, D, quant, rec.hnsw.m, rec.hnsw.efConstruction, ef);
        const { lat, results } = await measure(s, (q) => ({ ids: search(q).map((i) => `v${i}`) }));
        const recall = recallAt(results, truth.get(D)!);
        log(`  usearch ${quant} ef=${ef}: p50 ${ms(lat.p50)} ms, recall@${K} ${f(recall)}`);
        return { lat, recall };
      });
      usearchRows.push({
        system: `usearch, full D, ${quant}`,
        setting: `M=${rec.hnsw.m}, ef=${best.ef}`,
        finalDims: D,
        lat: best.m.lat,
        recall: best.m.recall,
        recallFullD: best.m.recall,
        memory: `${mb(graph.bytes)} (file)`,
        build: `${graph.buildS!.toFixed(1)} s (all cores)`,
        ef: best.ef,
        marks: [`smallest ef reaching the funnel's recall ${f(funnelRows[0].recall)}`],
      });
      rmSync(graph.file);
    }
  }
  const conc = await concurrency();

  // (d) the server tuned by its own sweep (leave-one-out on items of the collection, not the
  // benchmark's queries), applied, then measured on the same queries as every other row.
  const tunedRows: Row[] = [];
  let tuning: Awaited<ReturnType<typeof sweep>> | null = null;
  if (!argv['skip-tune']) {
    log('tuning: sweep over index dims × shortlists (temporary indexes), --apply');
    t = performance.now();
    tuning = await sweep(engine, {
      collection: COLLECTION,
      queries: { sample: posInt(argv['tune-queries'], 'tune-queries'), seed: SEED },
      perDim: false,
      apply: true,
    });
    const tuneS = (performance.now() - t) / 1000;
    const best = tuning.best;
    log(`tuned in ${tuneS.toFixed(0)} s: ${best ? best.label : 'nothing within tolerance'}`);
    if (best) {
      const d2 = engine.describe(COLLECTION);
      tunedRows.push(
        await addEngineRow(
          '**server, tuned by its sweep**',
          `${best.label} (defaults, no options)`,
          { k: K },
          D,
          `index ${mb(d2.memory.indexBytes)} (estimate) + ${matrixMem}`,
          `sweep ${tuneS.toFixed(0)} s`,
        ),
      );
    }
  }
  const rssEnd = process.memoryUsage().rss;
  const maxRss = process.resourceUsage().maxRSS * 1024;

  // Output
  const exactRow = rows[0];
  const ordered = [exactRow, ...hnswRows, ...usearchRows, ...funnelRows, ...tunedRows];
  const out: string[] = [];
  out.push(
    `## Search benchmark: ${N} × ${D} synthetic clustered MRL-like vectors (${CLUSTERS} clusters, seed ${SEED}), ${NQ} queries, k=${K}, 1 client`,
  );
  out.push('');
  out.push(
    `kernel: ${engine.kernel.name}${fallback ? ` (fallback: ${fallback})` : ''}, ${THREADS} threads; index D_s=${INDEX_DIM}, M=${rec.hnsw.m}, efConstruction=${rec.hnsw.efConstruction}, efSearch=${rec.hnsw.efSearch}; resident R=${RESIDENT}; warm-up ${WARMUP} queries per row. MB = 10^6 bytes.`,
  );
  out.push('');
  out.push('| setup | value |');
  out.push('| --- | --- |');
  out.push(
    `| machine | ${cpus().length} CPUs, load average (1/5/15 min) at start ${loadStart.map((x) => x.toFixed(2)).join('/')}, at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join('/')} |`,
  );
  if (Math.max(loadStart[0], loadavg()[0]) > cpus().length / 2)
    out.push(`| note | the machine was busy with other work (load average above half the CPUs): latencies and tails are noisy |`);
  out.push(`| data generation | ${genS.toFixed(1)} s |`);
  out.push(`| ingest (engine.upsert, batches of 1000) | ${(N / ingestS).toFixed(0)} rows/s (${ingestS.toFixed(1)} s) |`);
  out.push(`| prefix index build alone (${N} × ${INDEX_DIM}) | ${indexBuildS.toFixed(1)} s |`);
  out.push(`| snapshot (.hnsw on disk) | ${mb(snapshotBytes)} (written in ${snapshotS.toFixed(2)} s) |`);
  out.push(`| resident matrix (describe().memory.matrixBytes) | ${mb(desc.memory.matrixBytes)} (width ${desc.memory.residentDim}) |`);
  out.push(`| index estimate (describe().memory.indexBytes) | ${mb(desc.memory.indexBytes)} |`);
  out.push(`| RSS after ingest / at end / max | ${mb(rssAfterIngest)} / ${mb(rssEnd)} / ${mb(maxRss)} |`);
  out.push(
    `| ground truth (kernel, B=64) at ${truthDims.join(', ')} dims | ${truthS.toFixed(1)} s; float64 cross-check ${agree}/${checkQ} agree |`,
  );
  if (hnswFull) out.push(`| hnswlib-node full-D build / file | ${hnswFull.buildS.toFixed(1)} s / ${mb(hnswFull.fileBytes)} |`);
  out.push('');
  out.push(
    `| system | setting | p50 ms | p99 ms | QPS (1 client) | recall@${K} vs exact at final dims | recall@${K} vs exact full-D | index / extra memory | build |`,
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of ordered) {
    const extra = [...(r.marks ?? []), ...(r.note ? [r.note] : [])];
    out.push(
      `| ${r.system} | ${r.setting}${extra.length ? ` (${extra.join('; ')})` : ''} | ${ms(r.lat.p50)} | ${ms(r.lat.p99)} | ${r.lat.qps.toFixed(0)} | ${f(r.recall)} (@${r.finalDims}) | ${f(r.recallFullD)} | ${r.memory} | ${r.build} |`,
    );
  }
  out.push('');
  out.push(
    'The engine beside an in-process sketch of the same stages (bench/sketch.ts: the same prefix index, then a plain JS rerank over a Float32Array), measured in this run:',
  );
  out.push('');
  out.push(`| setting | engine p50 ms | sketch p50 ms | engine ÷ sketch | engine recall@${K} | sketch recall@${K} |`);
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const x of sketchRows)
    out.push(
      `| ${x.setting} | ${ms(x.engine.lat.p50)} | ${ms(x.lat.p50)} | ${(x.engine.lat.p50 / x.lat.p50).toFixed(2)} | ${f(x.engine.recall)} | ${f(x.recall)} |`,
    );
  if (pooled.length) out.push('', ...poolTable(pooled, K, ms));
  if (quantRows.length) {
    out.push('');
    out.push(
      `Resident rows: float32 against quantised (same data, same settings; refine = the best few rescored from SQLite's full vectors). Rows / norms+scales of the f32 matrix: ${mb(f32Mem.rowBytes)} / ${mb(f32Mem.normBytes)}.`,
    );
    out.push('');
    out.push(
      `| rows | setting | p50 ms | p99 ms | recall@${K} vs exact at final dims | same vs f32 | rows | norms + scales | stages p50 |`,
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const fr of funnelRows.slice(0, SHORTLISTS.length * RERANKS.length)) {
      out.push(
        `| f32 | ${fr.setting} | ${ms(fr.lat.p50)} | ${ms(fr.lat.p99)} | ${f(fr.recall, 4)} | – | ${mb(f32Mem.rowBytes)} | ${mb(f32Mem.normBytes)} | ${(fr.stages ?? []).map((st) => `${st.stage} ${ms(st.p50)}`).join(' → ')} |`,
      );
    }
    quantRows.forEach((q, i) => {
      const base = funnelRows[i % (SHORTLISTS.length * RERANKS.length)];
      out.push(
        `| ${q.type} | ${q.row.setting} | ${ms(q.row.lat.p50)} | ${ms(q.row.lat.p99)} | ${f(q.row.recall, 4)} | ${(q.row.recall - base.recall >= 0 ? '+' : '') + (q.row.recall - base.recall).toFixed(4)} | ${mb(q.rowBytes)} (÷${(f32Mem.rowBytes / q.rowBytes).toFixed(1)}) | ${mb(q.normBytes)} | ${(q.row.stages ?? []).map((st) => `${st.stage} ${ms(st.p50)}`).join(' → ')} |`,
      );
    });
  }
  out.push('');
  out.push('Engine path only (the `ms` search returns) and per-stage medians (ms; candidates in):');
  out.push('');
  const atLeast = (recall: number) => hnswRows.find((r) => r.recall >= recall);
  const vsHnsw = (r: Row) => {
    if (!hnswFull) return 'skipped';
    const hb = atLeast(r.recallFullD);
    return hb
      ? `ef=${hb.ef} (${f(hb.recall, 4)} ≥ ${f(r.recallFullD, 4)}): ${(r.lat.qps / hb.lat.qps).toFixed(2)}×`
      : `none reaches ${f(r.recallFullD, 4)}`;
  };
  out.push('| system | setting | engine ms p50 | stages p50 | QPS vs hnswlib full-D at ≥ the same full-D recall |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const r of [exactRow, ...funnelRows, ...tunedRows]) {
    out.push(
      `| ${r.system} | ${r.setting} | ${ms(r.engineMsP50 ?? NaN)} | ${(r.stages ?? []).map((st) => `${st.stage} ${ms(st.p50)} (${st.candidates})`).join(' → ')} | ${vsHnsw(r)} |`,
    );
  }

  // Summary against the targets
  const headline = funnelRows.find((r) => r.setting === `D_s=${INDEX_DIM}, K=1000, D_r=512`) ?? funnelRows[0];
  const fullD = funnelRows.find((r) => r.setting === `D_s=${INDEX_DIM}, K=1000, D_r=${D}`);
  const summary: Record<string, unknown> = {};
  out.push('');
  out.push(`Summary (funnel = ${headline.setting}):`);
  out.push('');
  const speedup = headline.lat.qps / exactRow.lat.qps;
  summary.speedupVsExact = speedup;
  out.push(
    `- recall@${K}: ${f(headline.recall, 4)} vs exact at ${headline.finalDims} dims (target ≥ 0.99: ${headline.recall >= 0.99 ? 'PASS' : 'FAIL'}); ${f(headline.recallFullD, 4)} vs exact full-D ${D}.`,
  );
  out.push(
    `- vs (a) exact full-D: ${speedup.toFixed(1)}× the QPS, p50 ${ms(headline.lat.p50)} vs ${ms(exactRow.lat.p50)} ms (target ≥ 20×: ${speedup >= 20 ? 'PASS' : 'FAIL'}).`,
  );
  const compare = (fr: Row, label: string) => {
    if (!hnswFull) return out.push(`- vs (b) ${label}: hnswlib full-D skipped (--skip-hnsw-full).`);
    const hb = atLeast(fr.recall);
    if (!hb)
      return out.push(
        `- vs (b) ${label}: no hnswlib ef reached recall ${f(fr.recall, 4)} (best ${f(Math.max(...hnswRows.map((r) => r.recall)), 4)}); funnel ${fr.lat.qps.toFixed(0)} QPS.`,
      );
    const ratio = fr.lat.qps / hb.lat.qps;
    summary[`vsHnsw ${label}`] = { hnswEf: hb.ef, ratio };
    out.push(
      `- vs (b) ${label}: hnswlib ${hb.setting} reaches ${f(hb.recall, 4)} ≥ ${f(fr.recall, 4)} at ${hb.lat.qps.toFixed(0)} QPS (p50 ${ms(hb.lat.p50)} ms); funnel ${fr.lat.qps.toFixed(0)} QPS (p50 ${ms(fr.lat.p50)} ms) = ${ratio.toFixed(2)}× (target > 1: ${ratio > 1 ? 'PASS' : 'FAIL'}).`,
    );
  };
  compare(headline, `at the funnel's recall vs exact@${headline.finalDims}`);
  if (tunedRows[0]) compare(tunedRows[0], 'for the tuned server (recall vs exact full-D)');
  else if (tuning) out.push('- tuned server: no sweep point was within tolerance of exact full-D.');
  if (fullD && fullD !== headline) compare(fullD, `for ${fullD.setting} (recall vs exact full-D)`);
  if (hnswFull) {
    const memRatio = snapshotBytes / hnswFull.fileBytes;
    summary.indexMemoryRatio = memRatio;
    out.push(
      `- index memory: funnel snapshot ${mb(snapshotBytes)} vs hnswlib full-D file ${mb(hnswFull.fileBytes)} = 1/${(1 / memRatio).toFixed(1)} (target ≤ 1/10: ${memRatio <= 0.1 ? 'PASS' : 'FAIL'}); the funnel also keeps the resident matrix (${mb(desc.memory.matrixBytes)}), which exact search needs too.`,
    );
  }
  out.push(
    `- targets: funnel recall@${K} ≥ 0.99; ≥ 20× faster than exact full-D; faster than hnswlib full-D at equal recall; index memory ≤ 1/10 of hnswlib full-D.`,
  );
  out.push('');
  out.push(...concurrencyTable(conc, engine.kernel.name));
  console.log(out.join('\n'));

  if (argv.json) {
    const json = {
      config: {
        n: N,
        d: D,
        queries: NQ,
        k: K,
        indexDim: INDEX_DIM,
        shortlist: SHORTLISTS,
        rerank: RERANKS,
        clusters: CLUSTERS,
        seed: SEED,
        backend: BACKEND,
        kernel: engine.kernel.name,
        fallback: fallback ?? null,
        threads: THREADS,
        hnswEfs: EFS,
        residentDim: RESIDENT,
        hnsw: rec.hnsw,
        warmup: WARMUP,
      },
      setup: {
        cpus: cpus().length,
        loadStart,
        loadEnd: loadavg(),
        generateS: genS,
        ingestS,
        ingestRowsPerS: N / ingestS,
        indexBuildS,
        snapshotS,
        snapshotBytes,
        memory: desc.memory,
        rssAfterIngest,
        rssEnd,
        maxRss,
        truthS,
        truthCrossCheck: { agree, of: checkQ },
        hnswFull,
      },
      rows: ordered,
      sketch: sketchRows.map((x) => ({
        setting: x.setting,
        engineP50: x.engine.lat.p50,
        sketchP50: x.lat.p50,
        ratio: x.engine.lat.p50 / x.lat.p50,
        sketchRecall: x.recall,
      })),
      resident: quantRows.map((q) => ({
        type: q.type,
        setting: q.row.setting,
        lat: q.row.lat,
        recall: q.row.recall,
        rowBytes: q.rowBytes,
        normBytes: q.normBytes,
      })),
      tuning: tuning && { best: tuning.best, points: tuning.points.length, tolerance: tuning.tolerance },
      concurrency: conc,
      summary: { funnel: headline.setting, ...summary },
    };
    writeFileSync(argv.json, JSON.stringify(json, null, 2));
    log(`wrote ${argv.json}`);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'mrl-bench-'));
const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(sig, () => {
    cleanup();
    process.exit(code);
  });
}
try {
  await main(dataDir);
  if (!argv['skip-adaptive']) {
    const script = fileURLToPath(new URL('./adaptive-k.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, '--mixed'], { stdio: 'inherit' });
    if (run.status !== 0) process.exitCode = 1;
  }
} catch (err) {
  process.exitCode = 1;
  console.error(err);
} finally {
  cleanup();
}
