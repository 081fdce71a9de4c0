/** The largest k and shortlist any search may ask for (the config may cap them lower). */
export const MAX_K = 1000;
export const MAX_SHORTLIST = 10_000;

export interface FunnelStep { dims: number; keep: number }
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
}

/** One step of a planned search: where its candidates come from, at which dims, how many it keeps. */
export interface Stage { dims: number; keep: number; source: 'index' | 'exact' | 'rerank'; ef?: number }
export interface Plan { k: number; stages: Stage[] }
