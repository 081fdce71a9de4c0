import type { Kernel } from '../compute/kernel.js';
import { toHits, type SearchHit } from './hits.js';
import type { Plan } from './options.js';
import { runStages, type StageReport } from './run-stages.js';
import type { RowsBySeq, SearchSource, VectorsBySeq } from './sources.js';
import { runWidened } from './widen.js';

/** What one search reads: the collection's caches, the store's vectors and rows, the kernel. */
export interface SearchDeps {
  source: SearchSource;
  vectors: VectorsBySeq;
  rows: RowsBySeq;
  kernel: Kernel;
}
export interface SearchResult {
  results: SearchHit[];
  stages: StageReport[];
}
export interface SearchResponse extends SearchResult {
  ms: number;
}

/**
 * The query path after planning: shortlist, then rerank (run-stages.ts), then the top k seqs
 * as hits with their ids, labels and payloads (hits.ts). `exclude` is a query item's own seq.
 */
export async function searchVector(deps: SearchDeps, vector: Float32Array, plan: Plan, exclude?: number): Promise<SearchResult> {
  const run = plan.stages[0]?.widen ? runWidened : runStages;
  const ranked = await run(deps.source, deps.vectors, deps.kernel, vector, plan.stages, exclude);
  return { results: toHits(deps.rows, ranked, plan.k), stages: ranked.stages };
}
