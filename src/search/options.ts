import type { Fusion } from './hybrid/fuse.js';
import type { TextSyntax } from './hybrid/keyword.js';

/** The largest k and shortlist any search may ask for (the config may cap them lower). */
export const MAX_K = 1000;
export const MAX_SHORTLIST = 10_000;

export interface FunnelStep {
  dims: number;
  keep: number;
}
export interface SearchOptions {
  k?: number;
  shortlist?: number;
  rerank?: number;
  funnel?: FunnelStep[];
  /** Where the first stage comes from: the prefix HNSW index, or exact search at its prefix. */
  firstStage?: 'index' | 'exact';
  /** Exact (brute-force) search at `rerank` dims: the ground truth. */
  exact?: boolean;
  /** HNSW beam width of the index stage (raised to at least the candidates it must return). */
  ef?: number;
  /** A metadata filter (src/search/filter/): only matching items come back, k of them when k match. */
  filter?: unknown;
  /** A keyword query: alone it ranks by BM25; with a vector query it makes a hybrid search. */
  text?: string;
  textSyntax?: TextSyntax;
  /** How a hybrid search merges its two lists (RRF by default). */
  fusion?: Fusion;
  /** How deep each list of a hybrid search goes (default 100, at least k). */
  candidates?: number;
  /** Filtered searches: below this fraction of matching rows the exact plan runs (default measured). */
  filterExactBelow?: number;
  /**
   * A final stage rescoring the best `refine` candidates (at least k) at the last stage's dims
   * from the store's full vectors, so returned scores are exact. 0 = none. Default: 4·k for a
   * collection with quantised resident rows (when its last stage reads them), else none.
   */
  refine?: number;
  /** A recall@10 target: the cheapest configuration of the latest sweep meeting it (src/quality/recall-target.ts). */
  recall?: number;
  /**
   * Adaptive shortlist: widen the first stage (doubling, up to `cap`, default 8× the shortlist)
   * while its last candidate is within `ratio` (default 0.5) relative distance of the k-th.
   */
  adaptive?: boolean | { ratio?: number; cap?: number };
}

/** Adaptive shortlist of a first stage (src/search/widen.ts): widen while crowded, doubling up to `cap`. */
export interface Widen {
  k: number;
  ratio: number;
  cap: number;
}

/** One step of a planned search: where its candidates come from, at which dims, how many it keeps. */
export interface Stage {
  dims: number;
  keep: number;
  source: 'index' | 'exact' | 'rerank' | 'refine';
  ef?: number;
  widen?: Widen;
}
export interface Plan {
  k: number;
  stages: Stage[];
}
