/**
 * Reproduces the MRL paper's comparisons on Fashion-MNIST (10k test queries against the 60k
 * training images) and writes docs/results.md, its charts (docs/results/*.svg) and every figure
 * as JSON (docs/results/results.json). Not part of `npm test`: the full run trains any missing
 * baseline (about an hour for all eight on 2 cores) and then takes tens of minutes.
 *
 *   npm run paper                   full run (trains what is missing under data/paper/runs)
 *   npm run paper -- --quick        1000 queries: a smoke run, writes to data/paper/quick/
 *   npm run paper -- --render-only  re-renders results.md and the charts from results.json
 *
 * Options: --parts a,b,d (a: quality per dim; b: adaptive retrieval and the funnel, i.e. (b) and
 * (c); d: adaptive classification; default all), --queries N, --no-train (skip methods whose
 * models are missing), --fresh (recompute the cached embeddings and kNN figures; embeddings are
 * also re-made whenever a model's files change), --out DIR.
 * Orchestration only: the parts live in src/report/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initTf } from '../src/encoders/tf-backend.js';
import { defaultNesting } from '../src/core/prefix.js';
import { FASHION_MNIST_DIR, loadSplit } from '../src/data/fashion-mnist.js';
import { loadHeads } from '../src/encoders/model-files.js';
import { disposeHeads, type HeadSet } from '../src/encoders/heads.js';
import { paperCharts } from '../src/report/charts.js';
import { classificationFigures } from '../src/report/classification.js';
import { cachedEmbeddings, ensureDataset, isComplete, modelHash, paperModels, trainModel, type PaperModel } from '../src/report/models.js';
import { prefixRows, svdRows, type SplitEmbeddings } from '../src/report/per-dim.js';
import { resultsMarkdown } from '../src/report/results-markdown.js';
import { retrievalFigures } from '../src/report/retrieval.js';
import type { MethodFigures, PaperResults } from '../src/report/types.js';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    queries: { type: 'string' },
    data: { type: 'string', default: FASHION_MNIST_DIR },
    shipped: { type: 'string', default: 'models/fashion-mrl' },
    runs: { type: 'string', default: 'data/paper/runs' },
    cache: { type: 'string', default: 'data/paper/cache' },
    out: { type: 'string' },
    'no-train': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    'render-only': { type: 'boolean', default: false },
    parts: { type: 'string', default: 'a,b,d' },
  },
  strict: true,
});

const parts = new Set(argv.parts.split(',').map((x) => x.trim()));
for (const p of parts) if (!['a', 'b', 'd'].includes(p)) throw new Error(`--parts: unknown part '${p}' (a, b, d)`);
const QUICK_QUERIES = 1000;
const LATENCY_SAMPLE = 1000;
const DIMS = defaultNesting(512);
const outDir = argv.out ?? (argv.quick ? 'data/paper/quick' : 'docs');
const resultsDir = join(outDir, 'results');
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[paper ${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`);

function writeOutputs(res: PaperResults): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(res, null, 1)}\n`);
  const charts = paperCharts(res);
  for (const c of charts) writeFileSync(join(resultsDir, c.file), c.svg);
  writeFileSync(
    join(outDir, 'results.md'),
    resultsMarkdown(
      res,
      charts.map((c) => ({ file: `results/${c.file}`, title: c.title })),
    ),
  );
  log(`wrote ${join(outDir, 'results.md')}, ${charts.length} charts and results.json under ${resultsDir}`);
}

async function main(): Promise<void> {
  if (argv['render-only']) {
    writeOutputs(JSON.parse(readFileSync(join(resultsDir, 'results.json'), 'utf8')) as PaperResults);
    return;
  }
  const loadAvgStart = loadavg();
  const timings: Record<string, number> = {};
  const notes: string[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = performance.now() - t;
    }
  };

  ensureDataset(argv.data, log);
  const models = paperModels(argv.shipped, argv.runs);
  const trainedNow = new Set<string>();
  await phase('train', () => {
    for (const m of models) {
      if (isComplete(m)) continue;
      if (argv['no-train'] || m.key === 'mrl') {
        notes.push(
          `${m.key}: no model at ${m.dir}${m.key === 'mrl' ? ' (the shipped model: restore it from git)' : ' (--no-train)'}; its figures are left out.`,
        );
        log(`missing ${m.dir}: skipped`);
        continue;
      }
      timings[`train ${m.key}`] = trainModel(m, argv.data, log);
      trainedNow.add(m.key);
    }
  });
  const present = models.filter(isComplete);
  const byKey = new Map(present.map((m) => [m.key, m]));

  const { backend } = await initTf();
  const train = loadSplit(argv.data, 'train');
  const nQ = argv.queries !== undefined ? Number(argv.queries) : argv.quick ? QUICK_QUERIES : Infinity;
  if (!(nQ === Infinity || (Number.isInteger(nQ) && nQ > 0)))
    throw new Error(`--queries must be a positive integer, got '${argv.queries}'`);
  const test = loadSplit(argv.data, 't10k', nQ);
  const labels = { db: train.labels, queries: test.labels };
  log(`backend ${backend}; ${train.count} database images, ${test.count} queries; models: ${present.map((m) => m.key).join(', ')}`);

  const sha = new Map(present.map((m) => [m.key, modelHash(m.dir)]));
  // --fresh: each model's embeddings are made once in this run, then read back from the cache.
  const fresh = new Set(argv.fresh ? present.map((m) => m.key) : []);
  const emb = async (m: PaperModel): Promise<SplitEmbeddings> => ({
    db: await cachedEmbeddings(m, sha.get(m.key) as string, 'train', train, argv.cache, log, fresh.has(m.key)),
    queries: await cachedEmbeddings(m, sha.get(m.key) as string, 't10k', test, argv.cache, log, fresh.has(m.key)),
    dim: m.dim,
  });
  await phase('embed', async () => {
    for (const m of present) {
      await emb(m);
      fresh.delete(m.key);
    }
  });

  // (a) exact prefix kNN per dim for every method.
  const perDim: MethodFigures[] = [];
  const cacheKey = (what: string, keys: string[]) =>
    `${what}-${keys.map((k) => (sha.get(k) as string).slice(0, 12)).join('-')}-${train.count}-${test.count}`;
  let hits: string[] = [];
  const method = async (
    id: MethodFigures['id'],
    name: string,
    source: string,
    run: () => Promise<MethodFigures['rows']>,
    wanted: number[],
  ) => {
    const t = performance.now();
    hits = [];
    const rows = await run();
    const cached = rows.length > 0 && hits.length > 0 && (id !== 'ff' || hits.length === rows.length);
    perDim.push({
      id,
      name,
      source,
      rows,
      missingDims: wanted.filter((d) => !rows.some((r) => r.dims === d)),
      cached,
      ms: performance.now() - t,
    });
    log(`(a) ${name}: ${rows.map((r) => `${r.dims}:${r.mapAt10.toFixed(4)}`).join(' ')}`);
  };
  const cache = (key: string) => ({ dir: argv.cache, key, fresh: argv.fresh, hits });
  let svdExplained: { dims: number; fraction: number }[] | undefined;
  if (parts.has('a'))
    await phase('per-dim', async () => {
      for (const [key, id, name] of [
        ['mrl', 'mrl', 'MRL'],
        ['mrl-e', 'mrl-e', 'MRL-E'],
      ] as const) {
        const m = byKey.get(key);
        await method(
          id,
          name,
          m?.dir ?? '-',
          async () => (m ? prefixRows(() => emb(m), labels, DIMS, cache(cacheKey(key, [key]))) : []),
          DIMS,
        );
      }
      await method(
        'ff',
        'fixed-feature (FF) at each dim',
        `${argv.runs}/ff-<dim>`,
        async () => {
          const rows = [];
          for (const d of DIMS) {
            const m = byKey.get(`ff-${d}`);
            if (m) rows.push(...(await prefixRows(() => emb(m), labels, [d], cache(cacheKey(m.key, [m.key])))));
          }
          return rows;
        },
        DIMS,
      );
      const ff512 = byKey.get('ff-512');
      await method(
        'ff512-trunc',
        'FF-512 truncated',
        ff512?.dir ?? '-',
        async () => (ff512 ? prefixRows(() => emb(ff512), labels, DIMS, cache(cacheKey('trunc', ['ff-512']))) : []),
        DIMS,
      );
      await method(
        'svd',
        'SVD of FF-512',
        `principal axes of ${ff512?.dir ?? '-'} (train embeddings)`,
        async () => {
          if (!ff512) return [];
          const svd = await svdRows(() => emb(ff512), labels, DIMS, cache(cacheKey('pca', ['ff-512'])));
          svdExplained = svd.explained;
          return svd.rows;
        },
        DIMS,
      );
    });

  // (b) + (c): adaptive retrieval and the funnel through the server's search path.
  const mrl = byKey.get('mrl');
  const retrieval =
    mrl && parts.has('b')
      ? await phase('retrieval', async () => {
          const e = await emb(mrl);
          const { figures, raw } = await retrievalFigures({
            db: e.db,
            dbLabels: train.labels,
            queries: e.queries,
            queryLabels: test.labels,
            dim: mrl.dim,
            log,
          });
          writeFileSync(join(argv.cache, `sweeps-${test.count}.json`), `${JSON.stringify(raw)}\n`);
          return figures;
        })
      : null;

  // (d): adaptive classification with the MRL model's heads; the fixed-feature heads alongside.
  const classification =
    mrl && parts.has('d')
      ? await phase('classification', async () => {
          const heads = loadHeads(mrl.dir);
          const fixed: { model: string; heads: HeadSet; queries: Float32Array; dim: number }[] = [];
          try {
            for (const d of DIMS) {
              const m = byKey.get(`ff-${d}`);
              if (m) fixed.push({ model: m.key, heads: loadHeads(m.dir), queries: (await emb(m)).queries, dim: m.dim });
            }
            return await classificationFigures({
              modelName: 'MRL',
              modelDir: mrl.dir,
              heads,
              queries: (await emb(mrl)).queries,
              dim: mrl.dim,
              labels: test.labels,
              images: test,
              fixed,
              latencySample: Math.min(LATENCY_SAMPLE, test.count),
            });
          } finally {
            disposeHeads(heads);
            for (const f of fixed) disposeHeads(f.heads);
          }
        })
      : null;

  timings.total = performance.now() - started;
  const res: PaperResults = {
    createdAt: new Date().toISOString(),
    quick: argv.quick,
    database: train.count,
    queries: test.count,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, tfBackend: backend, loadAvgStart },
    models: present.map((m) => ({ name: m.key, dir: m.dir, weightsSha256: sha.get(m.key) as string, trainedNow: trainedNow.has(m.key) })),
    perDim,
    svdExplained,
    retrieval,
    classification,
    timings,
    notes,
  };
  writeOutputs(res);
  log(`done in ${(timings.total / 60_000).toFixed(1)} min`);
}

if (!existsSync('package.json')) throw new Error('run from the repository root (npm run paper)');
main().catch((err: unknown) => {
  process.stderr.write(`paper: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
