import type { CascadePoint } from '../eval/classify.js';
import type { FunnelStep, SearchOptions } from '../search/options.js';
import type { LatencyFigures, PerDimPoint } from '../eval/types.js';

/** The retrieval methods of the paper's Figure 3 / Table (mAP@10 and 1-NN per dim). */
export type MethodId = 'mrl' | 'mrl-e' | 'ff' | 'ff512-trunc' | 'svd';

/** Exact prefix kNN figures at one dim (10k test queries against the 60k train embeddings). */
export interface PerDimRow {
  dims: number;
  /** The paper's mAP@10: Σ_j rel_j·P@j / 10. */
  mapAt10: number;
  /** Σ_j rel_j·P@j / max(1, Σ_j rel_j). */
  mapAt10Hits: number;
  p10: number;
  /** Accuracy of the nearest training image's label. */
  knn1: number;
}

export interface MethodFigures {
  id: MethodId;
  name: string;
  /** What the rows were computed from (model directories, or the SVD's source). */
  source: string;
  rows: PerDimRow[];
  /** Dims with no figure because a model is missing (trained models not there, --no-train). */
  missingDims: number[];
  /** The figures came from data/paper/cache (an earlier run over the same model files). */
  cached?: boolean;
  ms: number;
}

/** One search configuration run through the server's engine (Engine.search), over all queries. */
export interface RetrievalPoint {
  label: string;
  /** exact: brute force at D; adaptive: index shortlist → rerank; funnel; hnsw: single-stage HNSW at D. */
  kind: 'exact' | 'adaptive' | 'funnel' | 'hnsw';
  /** Dims of the HNSW index the first stage reads (0: the first stage is an exact scan). */
  indexDims: number;
  search: SearchOptions;
  shortlist?: number;
  rerankDims?: number;
  funnel?: FunnelStep[];
  mapAt10: number;
  mapAt10Hits: number;
  recallAt10VsExact: number;
  latencyMs: LatencyFigures;
  qps: number;
  flopsPerQuery: number;
  indexBytes?: number;
}

export interface RetrievalFigures {
  collection: string;
  database: number;
  queries: number;
  kernel: string;
  hnsw: { m: number; efConstruction: number; efSearch: number };
  ingestMs: number;
  exact: RetrievalPoint;
  /** The exact pass of the second sweep: the same figures, a second latency measurement. */
  exactRepeat: RetrievalPoint;
  /** Exact search at each nesting dim through the server (cross-checks (a)'s MRL column). */
  perDimExact: PerDimPoint[];
  adaptive: RetrievalPoint[];
  funnel: RetrievalPoint[];
  hnswFull: RetrievalPoint[];
  /** The sweep's own pick: cheapest point within its tolerance of exact (null: none). */
  best: { label: string; tolerance: { recall: number; mapAt10: number } } | null;
  ms: number;
}

export interface HeadAccuracy {
  model: string;
  dims: number;
  accuracy: number;
}

export interface ClassificationFigures {
  model: string;
  examples: number;
  numClasses: number;
  thresholds: number[];
  cascade: CascadePoint[];
  /** Per threshold: mean FLOPs of the heads a query runs (every head up to the one that answers). */
  headFlops: { threshold: number; meanHeadFlops: number }[];
  /** The MRL model's own heads, each alone. */
  mrlHeads: HeadAccuracy[];
  /** Each fixed-feature model's single head at its own dim. */
  fixedHeads: HeadAccuracy[];
  /** Cheapest cascade point reaching each target accuracy (null when none does). */
  targets: { name: string; accuracy: number; point: CascadePoint | null; ratio: number | null }[];
  /** Per query, one at a time through classifyAtDim (tf.js wasm), on `latencySample` queries. */
  latency: { what: string; sample: number; threshold: number | null; meanDims: number; latencyMs: LatencyFigures }[];
  /** Encoder forward pass per image, and one head at m: 2·m·C (multiply-adds × 2). */
  flops: { encoder: number; headPerDim: number };
  ms: number;
}

export interface PaperResults {
  createdAt: string;
  quick: boolean;
  /** Database (train) and query (test) counts. */
  database: number;
  queries: number;
  machine: { cpus: number; cpuModel: string; node: string; tfBackend: string; loadAvgStart: number[] };
  models: { name: string; dir: string; weightsSha256: string; trainedNow: boolean }[];
  perDim: MethodFigures[];
  /** SVD baseline: share of the FF-512 training embeddings' variance kept by the top m axes. */
  svdExplained?: { dims: number; fraction: number }[];
  retrieval: RetrievalFigures | null;
  classification: ClassificationFigures | null;
  /** Wall time of each phase, ms. */
  timings: Record<string, number>;
  notes: string[];
}
