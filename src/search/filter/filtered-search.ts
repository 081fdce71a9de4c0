import { toHits } from '../hits.js';
import type { Plan } from '../options.js';
import { withPending } from '../pending.js';
import { runStages, type FirstStage } from '../run-stages.js';
import type { SearchDeps, SearchResult } from '../search.js';
import { StageContext } from '../stage-context.js';
import { filteredScan, prefixScan } from './filtered-scan.js';
import type { FilterMatch } from './match.js';

/**
 * Which plan a filtered search ran: an exact scan of the matching rows at the first stage's
 * prefix, or the prefix index with a filter callback (`fallback`: it found too few, so the
 * exact scan ran after it).
 */
export interface FilterReport {
  plan: 'exact-filtered' | 'index-filtered';
  matched: number;
  selectivity: number;
  fallback: boolean;
}

/**
 * Below this fraction of the collection matching, the exact plan answers: where the two plans
 * cost the same at 100k × 768 with the first stage at 32 dims, the exact one scanning the
 * filter columns' compact prefixes (each query through both plans in turn, on the loaded 2-core
 * machine, minimum / first quartile ms, exact vs index: 3% 1.27/1.44 vs 8.4/16.9, 7%
 * 1.65/2.15 vs 2.31/3.44, 10% 2.50/7.10 vs 1.74/2.31; `npm run bench:filter -- --selectivities
 * 0.05,0.07,0.1 --skip-text` prints the same comparison). Above it the HNSW walk with a filter is
 * cheaper than scoring every matching row.
 */
export const EXACT_BELOW = 0.08;
/** However small the collection, this many matching rows or fewer are always scanned exactly (well under 1 ms). */
export const EXACT_MIN_ROWS = 2048;

/**
 * The index-filtered beam is the stage's own (at least the candidates it keeps): hnswlib counts
 * only labels the filter accepts in it, so the walk already widens by about 1/selectivity.
 * Widening it a further 2–4× cost 50–90% more time at 10–20% selectivity for no recall gained
 * (bench:filter, 100k rows: recall@10 1.000 either way), so it is not widened again.
 */

/**
 * A search restricted to `matched` (src/search/filter/match.ts): the first stage is exact
 * over them when they are few (or when the plan's first stage is exact anyway), else the
 * index with a filter callback over their bitset; the rest of the funnel is unchanged.
 * Whenever at least k live items match, k come back. `exactBelow` (a fraction, tests force
 * either plan with it) replaces the default rule: EXACT_BELOW of the rows, at least EXACT_MIN_ROWS.
 */
export async function searchFiltered(
  deps: SearchDeps,
  vector: Float32Array,
  plan: Plan,
  match: FilterMatch,
  exclude?: number,
  exactBelow?: number,
): Promise<SearchResult & { filter: FilterReport }> {
  const src = deps.source;
  const ctx = new StageContext(deps, vector, exclude);
  const matched = match.set;
  const selectivity = matched.size / Math.max(1, src.count);
  const report: FilterReport = { plan: 'exact-filtered', matched: matched.size, selectivity, fallback: false };
  const exactFirst: FirstStage = async (st, want) => {
    const r = st.dims === match.prefixDims ? prefixScan(vector, match, want) : await filteredScan(ctx, matched, st.dims, want);
    return { ...r, candidates: matched.size };
  };
  const indexFirst: FirstStage = async (st, want) => {
    const ef = Math.max(st.ef ?? src.record.hnsw.efSearch, want);
    const q = ctx.prefix(st.dims);
    const accept = (seq: number) => matched.has(seq);
    // Matching rows committed but not in the graph yet are scanned exactly beside it.
    const r = withPending(src.index.search(q, want, ef, accept), src.pending, q, want, accept);
    if (r.seqs.length >= Math.min(want, matched.size)) return { ...r, candidates: r.seqs.length };
    report.fallback = true;
    return exactFirst(st, want);
  };
  const exact = exactBelow === undefined ? matched.size <= Math.max(EXACT_MIN_ROWS, EXACT_BELOW * src.count) : selectivity < exactBelow;
  const useIndex = plan.stages[0].source === 'index' && !exact;
  if (useIndex) report.plan = 'index-filtered';
  const ranked = await runStages(ctx, plan.stages, useIndex ? indexFirst : exactFirst);
  return { results: toHits(deps.rows, ranked, plan.k), stages: ranked.stages, filter: report };
}
