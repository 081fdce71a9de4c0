import { toHits, type SearchHit } from './hits.js';
import type { Plan } from './options.js';
import { runStages, type StageReport } from './run-stages.js';
import { StageContext, type StageDeps } from './stage-context.js';
import type { RowsBySeq } from './sources.js';

/** What one search reads: the collection's caches, the store's vectors and rows, the kernel. */
export interface SearchDeps extends StageDeps {
  rows: RowsBySeq;
}
export interface SearchResult {
  results: SearchHit[];
  stages: StageReport[];
}
export interface SearchResponse extends SearchResult {
  ms: number;
}

/**
 * The query path after planning: shortlist (widened while crowded when the plan says so), then
 * rerank (run-stages.ts), then the top k seqs as hits with their ids, labels and payloads
 * (hits.ts). `exclude` is a query item's own seq.
 */
export async function searchVector(deps: SearchDeps, vector: Float32Array, plan: Plan, exclude?: number): Promise<SearchResult> {
  const ranked = await runStages(new StageContext(deps, vector, exclude), plan.stages);
  return { results: toHits(deps.rows, ranked, plan.k), stages: ranked.stages };
}
