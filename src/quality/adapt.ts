import { rotate } from '../core/rotation.js';
import type { CollectionSpec } from '../engine/collection-spec.js';
import type { Engine } from '../engine/engine.js';
import { validateCollectionName } from '../core/validate.js';
import { MrlError, mrlError } from '../errors.js';
import type { StoredRotation } from '../store/quality.js';
import { principalRotationOffThread } from './off-thread.js';
import { rawPage } from './raw-pages.js';
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

/** Where an adapted collection is made: this node's engine, or in cluster mode every node (src/cluster/adapt-target.ts). */
export interface AdaptTarget {
  /** Creates the collection with `rotation` bound before it holds any item (the source names its shards and replicas). */
  create(source: string, spec: CollectionSpec & { name: string; dim: number }, rotation: StoredRotation): Promise<void>;
  /** Copies every item of `source` as given (ids, labels, payloads, text) into `target`; returns how many. */
  copy(source: string, target: string): Promise<number>;
  drop(target: string): Promise<void>;
}

export function localAdaptTarget(engine: Engine): AdaptTarget {
  return {
    async create(_source, spec, rotation) {
      engine.createCollection(spec);
      try {
        engine.bindRotation(spec.name, rotation);
      } catch (err) {
        await engine.dropCollection(spec.name).catch(() => undefined);
        throw err;
      }
    },
    async copy(source, target) {
      let copied = 0;
      for (let p = rawPage(engine, source, 0, COPY_PAGE); p.last !== null; p = rawPage(engine, source, p.last, COPY_PAGE))
        if (p.items.length) copied += (await engine.upsert(target, p.items)).upserted;
      return copied;
    },
    drop: (target) => engine.dropCollection(target),
  };
}

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

export async function adaptCollection(
  engine: Engine,
  source: string,
  opts: AdaptOptions,
  before?: AdaptedBefore,
  into: AdaptTarget = localAdaptTarget(engine),
): Promise<AdaptResult> {
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

  await into.create(
    source,
    {
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
    },
    { method: 'pca', dim, matrix, source, before },
  );
  let copied: number;
  try {
    copied = await into.copy(source, opts.target);
  } catch (err) {
    await into.drop(opts.target).catch(() => undefined);
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
