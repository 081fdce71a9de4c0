import type { SweepPoint, SweepResult } from '../eval/types.js';
import type { SearchOptions } from '../search/options.js';

/**
 * The cheapest point (lowest measured p50) of a sweep whose measured recall@10 against exact
 * full-D meets `target`, among those the collection can run now: its first stage reads the
 * collection's current index dims, or is exact. Exact full-D search meets any target: it is
 * the answer when no measured point does. Null without a sweep.
 */
export function pickForRecall(
  sweep: Pick<SweepResult, 'points'> | null,
  indexDim: number,
  target: number,
): { search: SearchOptions; point: SweepPoint | null } | null {
  if (!sweep) return null;
  const runnable = sweep.points.filter((p) => p.indexDims === indexDim || p.search.firstStage === 'exact');
  const meets = runnable.filter((p) => p.recallAt10VsExact >= target);
  if (meets.length === 0) return { search: { exact: true }, point: null };
  const best = meets.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
  const s = best.search;
  const search: SearchOptions = s.funnel
    ? { funnel: s.funnel, firstStage: s.firstStage }
    : { shortlist: s.shortlist, rerank: s.rerank, ...(s.ef !== undefined ? { ef: s.ef } : {}) };
  return { search, point: best };
}
