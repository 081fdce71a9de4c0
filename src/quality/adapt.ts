import { rotate, unrotate } from '../core/rotation.js';
import type { Engine } from '../engine/engine.js';
import { validateCollectionName } from '../core/validate.js';
import { MrlError, mrlError } from '../errors.js';
import { principalRotationOffThread } from './off-thread.js';
import { readRows, sampleSeqs } from './sample.js';
import type { AdaptedBefore } from './types.js';

export interface AdaptOptions {
  target: string;
  method?: string;
  sample?: number;
  seed?: number;
}

export interface AdaptResult {
  source: string;
  target: string;
  method: 'pca';
  copied: number;
  sampleRows: number;
  topEigenvalues: number[];
  ms: number;
}

export const DEFAULT_FIT_SAMPLE = 20_000;
const COPY_PAGE = 1000;

/**
 * `POST /collections/:c/adapt`, method "pca": the principal axes of the L2-normalised vectors'
 * second moment (a seeded sample; memory D×D float64 however many rows) become an orthogonal
 * rotation R that puts the axes of most variance first, so each prefix is the best linear code
 * of its length. A new collection of the same shape gets R bound to it and every item copied
 * (same ids, labels, payloads, text): the engine rotates raw vectors on the way in, items and queries
 * alike, so full-D cosine answers are unchanged and prefixes become Matryoshka-like.
 */
/** Checks an adapt request before any work (so a refused one changes nothing): method, sample, a free target name. */
export function checkAdapt(engine: Engine, source: string, opts: AdaptOptions): { method: 'pca'; sample: number } {
  const method = opts.method ?? 'pca';
  if (method !== 'pca') throw mrlError('INVALID_COLLECTION', `adapt method '${String(method)}' is not available: use "pca"`);
  const rt = engine.runtime(source);
  if (rt.count < 2) throw mrlError('INVALID_COLLECTION', `collection '${source}' needs items to fit a rotation`);
  const sample = opts.sample ?? DEFAULT_FIT_SAMPLE;
  if (!Number.isInteger(sample) || sample < 2) throw mrlError('INVALID_COLLECTION', 'sample must be an integer ≥ 2');
  const target = validateCollectionName(opts.target);
  if (engine.listCollections().some((c) => c.name === target)) throw new MrlError('COLLECTION_EXISTS', { collection: target });
  return { method, sample };
}

export async function adaptCollection(engine: Engine, source: string, opts: AdaptOptions, before?: AdaptedBefore): Promise<AdaptResult> {
  const t0 = performance.now();
  const { sample } = checkAdapt(engine, source, opts);
  const rec = engine.runtime(source).record;
  const dim = rec.dim;
  const prior = engine.rotation(rec);

  // Second moment of the stored vectors (already in the source's rotated space, if any).
  const second = new Float64Array(dim * dim);
  const { n } = await readRows(engine, source, sampleSeqs(engine, source, sample, opts.seed ?? 1), (v) => accumulate(second, v, dim));
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) second[i * dim + j] = second[j * dim + i];
  const { rotation: fitted, eigenvalues } = await principalRotationOffThread(second, dim);
  // Raw → target is raw → source space (prior) → principal axes (fitted).
  const matrix = prior ? composeRotations(prior, fitted, dim) : fitted;

  engine.createCollection({
    name: opts.target,
    dim,
    indexDim: rec.indexDim,
    rerankDim: rec.rerankDim,
    residentDim: rec.residentDim,
    nesting: rec.nesting,
    encoder: rec.encoder ?? undefined,
    hnsw: rec.hnsw,
    indexedFields: rec.indexedFields,
    storeText: rec.storeText,
  });
  let copied = 0;
  try {
    engine.bindRotation(opts.target, { method: 'pca', dim, matrix, source, before });
    for (
      let page = engine.items.page(rec.id, 0, COPY_PAGE);
      page.length;
      page = engine.items.page(rec.id, page[page.length - 1].seq, COPY_PAGE)
    ) {
      const rows = engine.items.getBySeqs(page.map((p) => p.seq));
      const batch = page.flatMap(({ seq, vector }) => {
        const row = rows.get(seq);
        const item = {
          id: row?.id,
          label: row?.label,
          payload: row?.payload,
          text: engine.items.text.textOf(seq),
          vector: prior ? unrotate(vector, prior, dim) : vector,
        };
        return row ? [item] : [];
      });
      copied += (await engine.upsert(opts.target, batch)).upserted;
    }
  } catch (err) {
    await engine.dropCollection(opts.target).catch(() => undefined);
    throw err;
  }
  return {
    source,
    target: opts.target,
    method: 'pca',
    copied,
    sampleRows: n,
    topEigenvalues: eigenvalues.slice(0, 8),
    ms: performance.now() - t0,
  };
}

/** Adds u uᵀ (upper triangle) of the unit vector along v. */
function accumulate(second: Float64Array, v: Float32Array, dim: number): void {
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[i] * v[i];
  if (s === 0) return;
  const inv = 1 / s;
  for (let i = 0; i < dim; i++) {
    const vi = v[i] * inv;
    if (vi === 0) continue;
    const off = i * dim;
    for (let j = i; j < dim; j++) second[off + j] += vi * v[j];
  }
}

/** A·B for D×D row-major matrices (rows of A rotated by B). */
function composeRotations(a: Float32Array, b: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++) out.set(rotate(a.subarray(i * dim, (i + 1) * dim), b, dim), i * dim);
  return out;
}
