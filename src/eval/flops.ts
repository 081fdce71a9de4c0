import type { Stage } from '../search/options.js';
import type { StageReport } from '../search/run-stages.js';
import type { HnswParams } from '../index/prefix-index.js';

/**
 * Floating-point operations of one query's stages, counted as 2 per multiply-add of the
 * similarity computations: an exact stage scores every row at its dims (2·N·d), a rerank
 * scores its candidates (2·K·d). An HNSW stage is estimated (hnswlib does not report its
 * distance computations): ef expanded nodes × 2M level-0 neighbours × 2·d — an upper bound.
 * Normalisation, top-k selection and graph bookkeeping are not counted.
 */
export function flopsOfStages(reports: StageReport[], planned: Stage[], hnsw: HnswParams): number {
  let f = 0;
  reports.forEach((r, i) => {
    if (r.source === 'index') {
      const ef = Math.max(planned[i]?.ef ?? hnsw.efSearch, planned[i]?.keep ?? 0);
      f += 2 * r.dims * ef * 2 * hnsw.m;
    } else {
      f += 2 * r.dims * r.candidates;
    }
  });
  return f;
}
