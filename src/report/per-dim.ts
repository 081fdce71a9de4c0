import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knnFigures } from '../train/evaluate.js';
import { fitPca, projectPca } from './svd-baseline.js';
import type { PerDimRow } from './types.js';

/** Embeddings of the database (train) and query (test) splits, `dim` values per row. */
export interface SplitEmbeddings {
  db: Float32Array;
  queries: Float32Array;
  dim: number;
}

/** Where kNN figures are cached; `hits` collects the keys answered from the cache. */
export interface KnnCache {
  dir: string;
  key: string;
  fresh: boolean;
  hits?: string[];
}

export interface Labels {
  db: ArrayLike<number>;
  queries: ArrayLike<number>;
}

/**
 * Exact cosine kNN figures at each prefix dim (truncate, then L2-normalise; knnFigures in
 * src/train/evaluate.ts), as rows. Cached as JSON under `cacheKey` (the figures are a pure
 * function of the embeddings, so the key names the embeddings' model hashes and counts).
 */
export async function prefixRows(
  get: () => Promise<SplitEmbeddings>,
  labels: Labels,
  dims: number[],
  cache: KnnCache,
): Promise<PerDimRow[]> {
  const file = join(cache.dir, `knn-${cache.key}.json`);
  if (!cache.fresh && existsSync(file)) {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as PerDimRow[];
    if (rows.length === dims.length && rows.every((r, i) => r.dims === dims[i])) {
      cache.hits?.push(cache.key);
      return rows;
    }
  }
  const e = await get();
  const f = await knnFigures({ db: e.db, dbLabels: labels.db, queries: e.queries, queryLabels: labels.queries, dim: e.dim }, dims);
  const rows = dims.map((d) => ({ dims: d, mapAt10: f.map10[d], mapAt10Hits: f.map10_hits[d], p10: f.p10[d], knn1: f.knn1[d] }));
  mkdirSync(cache.dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(rows, null, 1)}\n`);
  return rows;
}

/**
 * The SVD baseline's embeddings: principal axes fitted on the centred training embeddings of
 * the fixed-feature 512 model; both splits centred with the training mean and rotated onto the
 * axes, so the prefix m of a row is its projection on the top-m axes.
 */
export function svdEmbeddings(ff512: SplitEmbeddings, nDb: number, nQ: number): { emb: SplitEmbeddings; explained: number[] } {
  // explained[i]: share of the variance kept by the top i+1 axes.
  const fit = fitPca(ff512.db, nDb, ff512.dim);
  const total = fit.variances.reduce((a, b) => a + b, 0);
  let acc = 0;
  const explained = Array.from(fit.variances, (v) => (acc += v) / total);
  return {
    emb: { db: projectPca(fit, ff512.db, nDb), queries: projectPca(fit, ff512.queries, nQ), dim: ff512.dim },
    explained,
  };
}

/**
 * The SVD baseline's rows, with the variance its top-m axes keep; both cached (the PCA of 60k ×
 * 512 in plain JS takes tens of seconds, the kNN minutes).
 */
export async function svdRows(
  getFf512: () => Promise<SplitEmbeddings>,
  labels: Labels,
  dims: number[],
  cache: KnnCache,
): Promise<{ rows: PerDimRow[]; explained: { dims: number; fraction: number }[] }> {
  const file = join(cache.dir, `svd-explained-${cache.key}.json`);
  let explained: { dims: number; fraction: number }[] | undefined;
  if (!cache.fresh && existsSync(file)) explained = JSON.parse(readFileSync(file, 'utf8')) as { dims: number; fraction: number }[];
  const rows = await prefixRows(
    async () => {
      const ff = await getFf512();
      const svd = svdEmbeddings(ff, labels.db.length, labels.queries.length);
      explained = dims.map((d) => ({ dims: d, fraction: svd.explained[d - 1] }));
      mkdirSync(cache.dir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(explained)}\n`);
      return svd.emb;
    },
    labels,
    dims,
    { ...cache, key: `svd-${cache.key}`, fresh: cache.fresh || explained === undefined },
  );
  return { rows, explained: explained ?? [] };
}
