import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKernel } from '../compute/create-kernel.js';
import { paperFunnel } from '../search/funnel-spec.js';
import { DataContext } from '../data-context.js';
import type { Engine } from '../engine/engine.js';
import { FASHION_CLASSES } from '../data/fashion-mnist.js';
import { sweep } from '../eval/sweep.js';
import type { SweepPoint, SweepResult } from '../eval/types.js';
import type { RetrievalFigures, RetrievalPoint } from './types.js';

export const TRAIN_COLLECTION = 'fashion-train';
export const TEST_COLLECTION = 'fashion-test';
export const SHORTLIST_DIMS = [8, 16, 32];
export const SHORTLISTS = [100, 200, 500, 1000];
/** Beam widths of the single-stage full-D HNSW reference. */
export const FULL_HNSW_EFS = [16, 32, 64, 128];
/** The sweep's "best": the lowest p50 with mAP@10 within 0.001 of exact and recall@10 ≥ 0.99. */
const TOLERANCE = { mapAt10: 0.001, recall: 0.01 };
const BATCH = 1000;

export interface RetrievalInput {
  db: Float32Array;
  dbLabels: ArrayLike<number>;
  queries: Float32Array;
  queryLabels: ArrayLike<number>;
  dim: number;
  log: (s: string) => void;
}

async function ingest(
  engine: Engine,
  name: string,
  z: Float32Array,
  labels: ArrayLike<number>,
  dim: number,
  prefix: string,
): Promise<void> {
  for (let s = 0; s < labels.length; s += BATCH) {
    const items = [];
    for (let i = s; i < Math.min(labels.length, s + BATCH); i++) {
      items.push({ id: `${prefix}-${i}`, vector: z.subarray(i * dim, (i + 1) * dim), label: FASHION_CLASSES[labels[i]] });
    }
    await engine.upsert(name, items);
  }
}

function toPoint(p: SweepPoint, dim: number): RetrievalPoint {
  const s = p.search;
  const kind: RetrievalPoint['kind'] = s.exact ? 'exact' : s.funnel ? 'funnel' : p.indexDims === dim ? 'hnsw' : 'adaptive';
  return {
    label: p.label,
    kind,
    indexDims: kind === 'exact' || s.firstStage === 'exact' ? 0 : p.indexDims,
    search: s,
    shortlist: s.shortlist,
    rerankDims: s.rerank,
    funnel: s.funnel,
    mapAt10: p.mapAt10 ?? NaN, // the report's queries are labelled
    mapAt10Hits: p.mapAt10HitNormalized ?? NaN,
    recallAt10VsExact: p.recallAt10VsExact,
    latencyMs: p.latencyMs,
    qps: p.qps,
    flopsPerQuery: p.flopsPerQuery,
    indexBytes: kind === 'exact' || s.firstStage === 'exact' ? undefined : p.indexBytes,
  };
}

/**
 * Adaptive retrieval (b) and the paper's funnel (c) through the server's own search path: the
 * 60k training embeddings in a collection of a fresh engine (temp data dir, the auto kernel),
 * the test embeddings in a second collection used as the query set, and the sweep of
 * src/eval/sweep.ts over shortlist dims × shortlist sizes (rerank at full D) and the funnel.
 */
export async function retrievalFigures(inp: RetrievalInput): Promise<{ figures: RetrievalFigures; raw: SweepResult[] }> {
  const t0 = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'mrl-paper-'));
  const kernel = await createKernel({ backend: 'auto', threads: 2 });
  if (kernel.fallbackReason) inp.log(`kernel fallback: ${kernel.fallbackReason}`);
  const data = await DataContext.open({ dataDir, kernel });
  const engine = data.engine;
  try {
    const rec = engine.createCollection({ name: TRAIN_COLLECTION, dim: inp.dim, indexDim: 32, rerankDim: inp.dim, residentDim: inp.dim });
    engine.createCollection({ name: TEST_COLLECTION, dim: inp.dim, indexDim: 8, rerankDim: 8, residentDim: 8 });
    const ti = performance.now();
    await ingest(engine, TRAIN_COLLECTION, inp.db, inp.dbLabels, inp.dim, 'train');
    const ingestMs = performance.now() - ti;
    await ingest(engine, TEST_COLLECTION, inp.queries, inp.queryLabels, inp.dim, 'test');
    inp.log(`ingested ${inp.dbLabels.length} train vectors in ${(ingestMs / 1000).toFixed(1)} s, ${inp.queryLabels.length} queries`);

    const queries = { collection: TEST_COLLECTION };
    const progress = (what: string) => {
      let last = 0;
      return (done: number, total: number) => {
        const now = performance.now();
        if (now - last > 15_000 || done === total) {
          last = now;
          inp.log(`${what}: ${done}/${total}`);
        }
      };
    };
    // Sweep 1: shortlist dims × K, rerank at D, and the paper's funnel on the 16-d index.
    const adaptive = await sweep(engine, {
      collection: TRAIN_COLLECTION,
      queries,
      grid: { indexDims: SHORTLIST_DIMS, shortlists: SHORTLISTS, rerankDims: [inp.dim], funnels: [paperFunnel(inp.dim)] },
      tolerance: TOLERANCE,
      onProgress: progress('sweep 1/2 (exact per dim, adaptive, funnel)'),
    });
    // Sweep 2: references — a single-stage HNSW over the full vectors, and the funnel with an
    // exact first stage (no 16-d index in this grid, so the sweep scans the 16-d prefixes).
    const reference = await sweep(engine, {
      collection: TRAIN_COLLECTION,
      queries,
      grid: { indexDims: [inp.dim], rerankDims: [inp.dim], efs: FULL_HNSW_EFS, funnels: [paperFunnel(inp.dim)] },
      tolerance: TOLERANCE,
      perDim: false,
      onProgress: progress('sweep 2/2 (full-D HNSW, exact-first funnel)'),
    });
    const points = [...adaptive.points, ...reference.points].map((p) => toPoint(p, inp.dim));
    const figures: RetrievalFigures = {
      collection: TRAIN_COLLECTION,
      database: inp.dbLabels.length,
      queries: adaptive.queries,
      kernel: kernel.name,
      hnsw: rec.hnsw,
      ingestMs,
      exact: toPoint(adaptive.exact, inp.dim),
      exactRepeat: toPoint(reference.exact, inp.dim),
      perDimExact: adaptive.perDim,
      adaptive: points.filter((p) => p.kind === 'adaptive'),
      funnel: points.filter((p) => p.kind === 'funnel'),
      hnswFull: points.filter((p) => p.kind === 'hnsw'),
      best: adaptive.best ? { label: adaptive.best.label, tolerance: adaptive.tolerance } : null,
      ms: performance.now() - t0,
    };
    return { figures, raw: [adaptive, reference] };
  } finally {
    await data.close();
    await kernel.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
