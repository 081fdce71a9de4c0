/**
 * Scale benchmark: one collection of N × D synthetic MRL-like vectors through the server's own
 * paths, side by side in one run — ingest rows/s (the CLI's file path and HTTP NDJSON, each
 * acknowledged after commit, and the time until the index has caught up), snapshot seconds,
 * restart-to-ready seconds, RSS and bytes per structure, then searches at recall@10 ≥ the target
 * against exact full-D: hnswlib-node full-D and usearch full-D f32 and f16 (each at the smallest
 * ef reaching the funnel's recall), the funnel f32, the funnel int8 + refine (a second
 * collection of the same rows; --int8-resident-dim R keeps only R int8 values a row resident, reranks
 * at R and rescores the best 4·k at D from the store), and the server tuned (--sweep-index-dims: the index dims
 * its sweep may pick, default the index's own) by its own sweep; p50, p99 and QPS with 1 and with --clients clients,
 * in-process and over HTTP. Markdown to stdout, progress to stderr.
 *
 *   npm run bench:scale                                 # N = 1M, D = 768 (long: the full-D graph alone takes ~30 min on 2 cores)
 *   npm run bench:scale -- --n 100000 --quick           # a check that it works, minutes
 *   npm run bench:scale -- --n 250000 --d 2048 --shape hard --clients 8 --json out.json
 *   npm run bench:scale -- --n 100000 --quick --int8-resident-dim 384   # int8 rows at half the dims
 *
 * Inputs that cost minutes are cached under .bench-cache/scale/<shape>-n<N>-d<D>-s<seed>/ (the
 * .fvecs and NDJSON files, the exact ground truth, the full-D hnswlib and usearch graphs); the server's data
 * dir is made fresh each run (its ingest is what is measured) and removed after.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKernel } from '../src/compute/create-kernel.js';
import { loadConfig } from '../src/config.js';
import { AppContext } from '../src/context.js';
import { sweep } from '../src/eval/sweep.js';
import { buildApp } from '../src/http/app.js';
import type { ItemInput } from '../src/inputs/embed.js';
import { ingestRecords } from '../src/io/ndjson-ingest.js';
import { fileRecords } from '../src/io/readers.js';
import { normalizedPrefix } from '../src/core/prefix.js';
import {
  folder,
  fullDIndex,
  fvecsFile,
  groundTruth,
  httpIngest,
  httpSearch,
  log,
  measure,
  ndjsonFiles,
  ordinal,
  type Measured,
} from './scale-lib.js';
import { generateSynthetic } from './synthetic.js';
import { closeUsearch, freeNativeGraphs, smallestEf, usearchGraph, usearchSearch } from './usearch-full.js';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    shape: { type: 'string', default: 'mrl' },
    clients: { type: 'string', default: '8' },
    queries: { type: 'string' },
    'index-dim': { type: 'string', default: '32' },
    'int8-resident-dim': { type: 'string' },
    'sweep-index-dims': { type: 'string' },
    'http-n': { type: 'string' },
    'tune-queries': { type: 'string' },
    'target-recall': { type: 'string', default: '0.99' },
    clusters: { type: 'string', default: '256' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: String(cpus().length) },
    cache: { type: 'string', default: '.bench-cache/scale' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
  strict: true,
});

function posInt(s: string | undefined, name: string, fallback?: number): number {
  const v = s === undefined ? fallback : Number(s);
  if (v === undefined || !Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got '${s}'`);
  return v;
}
const N = posInt(argv.n, 'n');
const D = posInt(argv.d, 'd');
const QUICK = argv.quick;
const NQ = posInt(argv.queries, 'queries', QUICK ? 200 : 500);
const CLIENTS = posInt(argv.clients, 'clients');
/** Resident dims of the int8 collection: below D its rerank reads R int8 values a row, then the best 4·k are rescored at D from the store. */
const R8 = Math.min(D, posInt(argv['int8-resident-dim'], 'int8-resident-dim', D));
const IDX = posInt(argv['index-dim'], 'index-dim');
/** Index dims the server's sweep may choose among (each one it lacks is built over all N rows: minutes at 1M); D among them adds the full-D single-stage index. */
const SWEEP_INDEX_DIMS = argv['sweep-index-dims']
  ? [...new Set(argv['sweep-index-dims'].split(',').map((x) => Math.min(D, posInt(x, 'sweep-index-dims'))))]
  : [IDX];
const HTTP_N = Math.min(N, posInt(argv['http-n'], 'http-n', QUICK ? 20_000 : 100_000));
const TUNE_Q = posInt(argv['tune-queries'], 'tune-queries', QUICK ? 100 : 300);
const TARGET = Number(argv['target-recall']);
const SHAPES: Record<string, number> = { mrl: 0.5, hard: 1.0 }; // noise relative to the clusters' spread
if (!(argv.shape in SHAPES)) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
const SHORTLISTS = QUICK ? [50, 100, 200, 400, 800] : [50, 100, 200, 400, 800, 1600];
const EFS = QUICK ? [16, 32, 64, 128, 256] : [16, 32, 64, 128, 256, 512];
const HNSW = { m: 16, efConstruction: 100 };
const NAME = 'scale';
const INT8 = 'scale-int8';

const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const s1 = (x: number) => x.toFixed(1);
const rss = () => process.memoryUsage().rss;
const since = (t0: number) => (performance.now() - t0) / 1000;
/** CPU seconds of this process since `c0`: on a shared machine rows per CPU-second say more than wall rates. */
const cpuSince = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

interface SearchRow {
  system: string;
  setting: string;
  recall: number;
  one: Measured;
  many: Measured;
  http1?: Measured;
  httpMany?: Measured;
  bytes: string;
}

/** What `mrl ingest` runs (src/cli/ingest.ts), without its progress bar: the ingest thread when there is one (MRL_INGEST_THREAD), else this thread. */
async function cliIngest(ctx: AppContext, name: string, file: string) {
  return (
    (await ctx.ingestLines(name, { file }, { batch: 1000, pendingCap: Infinity })) ??
    (await ingestRecords(fileRecords(file), {
      batch: 1000,
      check: (it) => ctx.checkItem(name, it as ItemInput),
      commit: async (batch) => (await ctx.upsert(name, batch)).upserted,
    }))
  );
}

async function main(): Promise<void> {
  const cacheDir = folder(argv.cache, `${argv.shape}-n${N}-d${D}-s${argv.seed}`);
  log(`N=${N} D=${D} shape=${argv.shape} queries=${NQ} clients=${CLIENTS}${QUICK ? ' (quick)' : ''}; cache ${cacheDir}`);
  const s = generateSynthetic({
    n: N,
    d: D,
    queries: NQ,
    clusters: posInt(argv.clusters, 'clusters'),
    seed: posInt(argv.seed, 'seed'),
    noise: SHAPES[argv.shape],
    warmup: 50,
  });
  const fvecs = fvecsFile(cacheDir, s);
  // One request per file, each ≤ ~512 MB of decimal text (about 20 bytes a value), under the body limit.
  const perRequest = Math.max(1000, Math.min(100_000, Math.floor(2 ** 29 / (20 * D) / 1000) * 1000));
  const httpFiles = ndjsonFiles(cacheDir, s, 0, HTTP_N, perRequest);
  const http64Files = ndjsonFiles(cacheDir, s, 0, HTTP_N, perRequest, 'base64');
  const truthKernel = await createKernel({ backend: 'auto', threads: posInt(argv.threads, 'threads') });
  const truth = await groundTruth(cacheDir, s, NQ, truthKernel);
  await truthKernel.close();

  const dataDir = mkdtempSync(join(cacheDir, 'run-'));
  const env = {
    MRL_DATA_DIR: dataDir,
    MRL_THREADS: argv.threads,
    MRL_DEFAULT_ENCODER: '',
    MRL_LOG_LEVEL: 'warn',
    MRL_INGEST_BODY_LIMIT: String(2 ** 31 - 1),
    MRL_RATE_LIMIT: '0', // the load generator is the only client
  };
  try {
    await run(s, truth, { cacheDir, fvecs, httpFiles, http64Files, dataDir }, env);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Paths {
  cacheDir: string;
  fvecs: string;
  httpFiles: string[];
  http64Files: string[];
  dataDir: string;
}

async function run(
  s: ReturnType<typeof generateSynthetic>,
  truth: number[][],
  { cacheDir, fvecs, httpFiles, http64Files, dataDir }: Paths,
  env: Record<string, string>,
): Promise<void> {
  const open = async () => AppContext.fromConfig(loadConfig(env));
  const spec = { dim: D, indexDim: IDX, rerankDim: D, residentDim: D, hnsw: HNSW };
  let ctx = await open();
  ctx.createCollection({ name: NAME, ...spec });

  // Ingest: the CLI's file path, then HTTP NDJSON into a second collection.
  log(`ingest ${N} rows from ${fvecs}`);
  let t0 = performance.now();
  const c0 = process.cpuUsage();
  const fed = await cliIngest(ctx, NAME, fvecs);
  const cli = { rows: fed.upserted, seconds: since(t0), rowsPerSecond: fed.upserted / since(t0), cpuS: cpuSince(c0) };
  t0 = performance.now();
  await ctx.engine.drain();
  const cliIndexS = since(t0);
  let app = await buildApp(ctx, { logger: false });
  let base = await app.listen({ host: '127.0.0.1', port: 0 });
  /** Rows of `files` over HTTP into a collection of their own (dropped after): rows/s, CPU, catch-up. */
  const overHttp = async (name: string, files: string[], what: string) => {
    ctx.createCollection({ name, ...spec });
    log(`ingest ${HTTP_N} rows over HTTP NDJSON${what}`);
    const c = process.cpuUsage();
    const sent = { ...(await httpIngest(base, name, files)), cpuS: cpuSince(c) };
    const t = performance.now();
    await ctx.engine.drain();
    const indexS = since(t);
    await ctx.engine.dropCollection(name);
    return { sent, indexS };
  };
  const { sent: http, indexS: httpIndexS } = await overHttp('http', httpFiles, '');
  const { sent: http64, indexS: http64IndexS } = await overHttp('http64', http64Files, ' with base64 vectors');

  // Snapshots, then a restart from them.
  t0 = performance.now();
  ctx.engine.snapshotAll();
  const snapshotS = since(t0);
  const snapDir = join(dataDir, 'index');
  const fileBytes = (pre: string) =>
    readdirSync(snapDir)
      .filter((f) => f.startsWith(pre) && !f.endsWith('.json'))
      .reduce((a, f) => a + statSync(join(snapDir, f)).size, 0);
  const snapBytes = { index: fileBytes('c'), matrix: fileBytes('m') };
  const rssLoaded = rss();
  await app.close();
  await ctx.close();
  t0 = performance.now();
  ctx = await open();
  const restartS = since(t0);
  const rt = ctx.engine.runtime(NAME);
  const lastOpen = rt.lastOpen!;
  app = await buildApp(ctx, { logger: false });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const sqliteBytes = statSync(join(dataDir, 'mrl.sqlite')).size;
  const engine = ctx.engine;
  const bySearch =
    (opts: object, name = NAME) =>
    async (q: Float32Array) =>
      (await engine.search(name, { vector: q }, opts)).results.map((r) => ordinal(r.id));
  const rows: SearchRow[] = [];
  const serverRow = async (system: string, setting: string, opts: object, one: Measured, bytes: string, name = NAME) => {
    rows.push({
      system,
      setting,
      recall: one.recall,
      one,
      many: await measure(s, truth, CLIENTS, bySearch(opts, name)),
      http1: await measure(s, truth, 1, httpSearch(base, name, opts)),
      httpMany: await measure(s, truth, CLIENTS, httpSearch(base, name, opts)),
      bytes,
    });
  };
  /** The smallest shortlist of a collection's funnel reaching the target. */
  const smallestShortlist = async (name: string, label: string, optsFor = (k: number): object => ({ shortlist: k, rerank: D })) => {
    let funnel: { k: number; m: Measured; opts: object } | null = null;
    for (const k of SHORTLISTS) {
      const opts = optsFor(k);
      const m = await measure(s, truth, 1, bySearch(opts, name));
      log(`${label} ${IDX}d → ${k} → ${D}d: recall ${m.recall.toFixed(4)}, p50 ${ms(m.lat.p50)} ms`);
      funnel = { k, m, opts };
      if (m.recall >= TARGET) break;
    }
    return funnel!;
  };

  /** The hnswlib full-D row; its graph (gigabytes) is unreachable once this returns. */
  async function hnswlibRow(want: number): Promise<SearchRow> {
    const full = fullDIndex(cacheDir, s, HNSW.m, HNSW.efConstruction);
    let hn: { ef: number; m: Measured } | null = null;
    for (const ef of EFS) {
      full.index.setEf(ef);
      const m = await measure(s, truth, 1, (q) => full.index.searchKnn(Array.from(normalizedPrefix(q, D)), 10).neighbors);
      log(`hnswlib full-D ef ${ef}: recall ${m.recall.toFixed(4)}, p50 ${ms(m.lat.p50)} ms`);
      hn = { ef, m };
      if (m.recall >= want) break;
    }
    full.index.setEf(hn!.ef);
    return {
      system: 'hnswlib-node full-D',
      setting: `M=${HNSW.m}, ef=${hn!.ef}${full.buildS === null ? ' (graph cached)' : `, build ${s1(full.buildS)} s`}`,
      recall: hn!.m.recall,
      one: hn!.m,
      many: await measure(s, truth, CLIENTS, (q) => full.index.searchKnn(Array.from(normalizedPrefix(q, D)), 10).neighbors),
      bytes: mb(full.bytes),
    };
  }

  // (c) the funnel f32: the smallest shortlist reaching the target.
  const funnel = await smallestShortlist(NAME, 'funnel f32');
  const funnelBytes = `index ${mb(rt.index.bytes)} + matrix ${mb(rt.matrix.bytes)}`;
  await serverRow(
    'funnel f32 (engine)',
    `${IDX}d index → ${funnel.k} → rerank ${D}d`,
    { shortlist: funnel.k, rerank: D },
    funnel.m,
    funnelBytes,
  );

  // (a) hnswlib-node full-D: the smallest ef reaching the funnel's recall (or the target).
  const want = Math.min(TARGET, funnel.m.recall);
  rows.push(await hnswlibRow(want));
  await freeNativeGraphs(); // the full-D graph, before usearch's are loaded
  // (b) usearch full-D, f32 and f16: the smallest ef reaching the funnel's recall, as for hnswlib.
  for (const quant of ['f32', 'f16'] as const) {
    const graph = usearchGraph(
      join(cacheDir, `usearch-full-${quant}-m${HNSW.m}-ef${HNSW.efConstruction}.usearch`),
      s,
      quant,
      HNSW.m,
      HNSW.efConstruction,
      log,
    );
    const at = (ef: number) => usearchSearch(graph, D, quant, HNSW.m, HNSW.efConstruction, ef);
    const best = await smallestEf(EFS, want, async (ef) => {
      const m = await measure(s, truth, 1, await at(ef));
      log(`usearch full-D ${quant} ef ${ef}: recall ${m.recall.toFixed(4)}, p50 ${ms(m.lat.p50)} ms`);
      return m;
    });
    rows.push({
      system: `usearch full-D ${quant}`,
      setting: `M=${HNSW.m}, ef=${best.ef}${graph.buildS === null ? ' (graph cached)' : `, build ${s1(graph.buildS)} s (all cores)`}`,
      recall: best.m.recall,
      one: best.m,
      many: await measure(s, truth, CLIENTS, await at(best.ef)),
      bytes: mb(graph.bytes),
    });
  }

  await closeUsearch();

  // (e) the server tuned by its own sweep (leave-one-out queries from the collection), applied.
  log(`sweep over ${TUNE_Q} queries`);
  t0 = performance.now();
  const tuned = await sweep(engine, {
    collection: NAME,
    queries: { sample: TUNE_Q },
    perDim: false,
    apply: true,
    targetRecall: TARGET,
    grid: {
      indexDims: SWEEP_INDEX_DIMS,
      shortlists: [10, 20, ...SHORTLISTS],
      rerankDims: [...new Set([256, 512, D].filter((x) => x <= D && x > IDX))],
      funnels: [],
    },
  });
  const sweepS = since(t0);
  const tunedOne = await measure(s, truth, 1, bySearch({}));
  await serverRow(
    'server tuned by its sweep',
    `${tuned.best?.label ?? 'nothing reached the target: defaults'} (sweep ${s1(sweepS)} s)`,
    {},
    tunedOne,
    // The sweep may have retuned the collection to another index: its bytes as it is now.
    `index ${mb(engine.runtime(NAME).index.bytes)} + matrix ${mb(engine.runtime(NAME).matrix.bytes)}`,
  );

  // (d) the funnel int8 + refine: the same rows in a collection of int8 resident rows (the CLI's path again).
  ctx.createCollection({ name: INT8, ...spec, residentDim: R8, residentType: 'int8' });
  log(`ingest ${N} rows into an int8 collection (${R8} resident dims)`);
  t0 = performance.now();
  await cliIngest(ctx, INT8, fvecs);
  await engine.drain();
  const int8S = since(t0);
  // The quality report this ingest made due (it starts once the writes pause) runs before the timed searches, not beside them.
  await ctx.data.quality.idle();
  // Below D resident dims: rerank at R8 on the int8 rows keeping 4·k, then exact at D from the store.
  const q8 = await smallestShortlist(INT8, 'funnel int8 + refine', (k) =>
    R8 < D
      ? {
          funnel: [
            { dims: IDX, keep: k },
            { dims: R8, keep: 40 },
            { dims: D, keep: 10 },
          ],
        }
      : { shortlist: k, rerank: D },
  );
  const m8 = engine.runtime(INT8);
  await serverRow(
    'funnel int8 + refine (engine)',
    R8 < D
      ? `${IDX}d index → ${q8.k} → rerank ${R8}d on int8 rows → 40 → ${D}d from the store (ingest + index ${s1(int8S)} s)`
      : `${IDX}d index → ${q8.k} → rerank ${D}d on int8 rows → refine ${4 * 10} (default) (ingest + index ${s1(int8S)} s)`,
    q8.opts,
    q8.m,
    `index ${mb(m8.index.bytes)} + matrix ${mb(m8.matrix.bytes)}`,
    INT8,
  );
  await engine.dropCollection(INT8);

  report({
    cli,
    cliIndexS,
    http,
    httpIndexS,
    http64,
    http64IndexS,
    snapshotS,
    snapBytes,
    restartS,
    lastOpen,
    rssLoaded,
    rssRestarted: rss(),
    sqliteBytes,
    rows,
    tunedBest: tuned.best?.label ?? null,
  });
  await app.close();
  await ctx.close();
}

function latCells(m?: Measured): string[] {
  return m ? [ms(m.lat.p50), ms(m.lat.p99), Math.round(m.lat.qps).toLocaleString('en-US')] : ['–', '–', '–'];
}

function report(r: {
  cli: { rows: number; seconds: number; rowsPerSecond: number; cpuS: number };
  cliIndexS: number;
  http: { rows: number; seconds: number; cpuS: number };
  httpIndexS: number;
  http64: { rows: number; seconds: number; cpuS: number };
  http64IndexS: number;
  snapshotS: number;
  snapBytes: { index: number; matrix: number };
  restartS: number;
  lastOpen: object;
  rssLoaded: number;
  rssRestarted: number;
  sqliteBytes: number;
  rows: SearchRow[];
  tunedBest: string | null;
}): void {
  const out: string[] = [];
  out.push(
    `## bench:scale — N = ${N.toLocaleString('en-US')}, D = ${D}, shape ${argv.shape}, ${NQ} queries, recall target ${TARGET}${QUICK ? ' (--quick)' : ''}`,
    '',
  );
  out.push('| ingest | rows | acknowledged rows/s | rows per CPU-second | index caught up after |', '| --- | --- | --- | --- | --- |');
  out.push(
    `| CLI file path (mrl ingest, .fvecs) | ${r.cli.rows.toLocaleString('en-US')} | ${Math.round(r.cli.rowsPerSecond).toLocaleString('en-US')} | ${Math.round(r.cli.rows / r.cli.cpuS).toLocaleString('en-US')} | +${s1(r.cliIndexS)} s |`,
  );
  out.push(
    `| HTTP NDJSON | ${r.http.rows.toLocaleString('en-US')} | ${Math.round(r.http.rows / r.http.seconds).toLocaleString('en-US')} | ${Math.round(r.http.rows / r.http.cpuS).toLocaleString('en-US')} | +${s1(r.httpIndexS)} s |`,
    `| HTTP NDJSON, base64 vectors | ${r.http64.rows.toLocaleString('en-US')} | ${Math.round(r.http64.rows / r.http64.seconds).toLocaleString('en-US')} | ${Math.round(r.http64.rows / r.http64.cpuS).toLocaleString('en-US')} | +${s1(r.http64IndexS)} s |`,
    '',
  );
  out.push('| structure | bytes |', '| --- | --- |');
  out.push(
    `| SQLite file | ${mb(r.sqliteBytes)} |`,
    `| index snapshot | ${mb(r.snapBytes.index)} |`,
    `| matrix snapshot | ${mb(r.snapBytes.matrix)} |`,
  );
  out.push(`| RSS loaded (before restart) / after restart | ${mb(r.rssLoaded)} / ${mb(r.rssRestarted)} |`, '');
  out.push(`Snapshot (index + matrix): ${s1(r.snapshotS)} s. Restart to ready: ${s1(r.restartS)} s (${JSON.stringify(r.lastOpen)}).`, '');
  out.push(
    `| search | setting | recall@10 | p50 ms | p99 ms | QPS | ${CLIENTS} clients p50 | p99 | QPS | HTTP p50 | p99 | QPS | HTTP ${CLIENTS} clients p50 | p99 | QPS | memory |`,
  );
  out.push(`|${' --- |'.repeat(16)}`);
  for (const row of r.rows)
    out.push(
      `| ${row.system} | ${row.setting} | ${row.recall.toFixed(4)} | ${[...latCells(row.one), ...latCells(row.many), ...latCells(row.http1), ...latCells(row.httpMany)].join(' | ')} | ${row.bytes} |`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
  if (argv.json) writeFileSync(argv.json, JSON.stringify({ n: N, d: D, shape: argv.shape, queries: NQ, ...r }, null, 2));
}

await main();
