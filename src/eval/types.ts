import type { SearchOptions } from '../search/options.js';

/**
 * Where an evaluation's queries come from:
 * - `{ collection }`: the items of another collection (its labels are the queries' labels);
 *   the evaluated collection is the database, nothing is excluded.
 * - `{ sample }`: items of the evaluated collection itself, each one left out of its own
 *   results (leave-one-out). `sample` ≤ 1 is a fraction of the items, > 1 a count; `seed`
 *   picks which (deterministic). `{ sample: 1 }` is full leave-one-out.
 */
export type QuerySet = { collection: string; limit?: number } | { sample: number; seed?: number };

export interface LatencyFigures {
  p50: number;
  p99: number;
  mean: number;
}

/**
 * One configuration's figures over a query set (mAP@10 as docs/design.md defines it). The label
 * metrics are null when no query has a label; recall against exact full-D is always there.
 */
export interface EvalResult {
  collection: string;
  /** The MRL paper's mAP@10: Σ_j rel_j·P@j / 10, averaged over labelled queries. */
  mapAt10: number | null;
  /** Σ_j rel_j·P@j / max(1, Σ_j rel_j). */
  mapAt10HitNormalized: number | null;
  precisionAt10: number | null;
  top1: number | null;
  /** |top-10 ∩ exact full-D top-10| / 10, the exact search using the same kernels. */
  recallAt10VsExact: number;
  latencyMs: LatencyFigures;
  /** Queries per second, one query at a time. */
  qps: number;
  /** Multiply-adds × 2 per query: exact and rerank stages counted, index stage estimated (ef·M·dims). */
  flopsPerQuery: number;
  queries: number;
  /** The search as run: options given, and the stages it planned. */
  config: { search: SearchOptions; stages: { dims: number; keep: number; source: string }[]; indexDims: number };
  /** Queries whose label is null are skipped for the label metrics; this counts them. */
  unlabelledQueries: number;
  ms: number;
  createdAt: string;
}

/** Exact search at one prefix: label quality per dim (the "mAP@10 per dim" chart). */
export interface PerDimPoint {
  dims: number;
  mapAt10: number | null;
  top1: number | null;
  recallAt10VsExact: number;
  latencyMs: LatencyFigures;
}

export interface SweepPoint {
  /** Dims of the index the first stage reads (a temporary index when not the collection's own). */
  indexDims: number;
  search: SearchOptions;
  label: string;
  mapAt10: number | null;
  mapAt10HitNormalized: number | null;
  recallAt10VsExact: number;
  latencyMs: LatencyFigures;
  qps: number;
  flopsPerQuery: number;
  /** Index memory in bytes for this point's index dims. */
  indexBytes: number;
  /** On the Pareto front of mAP@10 against p50 latency (of recall, when no query has a label). */
  pareto: boolean;
  /** On the Pareto front of recall against exact against p50 latency. */
  paretoRecall: boolean;
}

export interface SweepResult {
  collection: string;
  queries: number;
  /** Live items when the sweep ran (the quality guard re-sweeps once the collection has doubled). */
  items?: number;
  /** Queries with a label (0: tuned on recall alone). */
  labelledQueries: number;
  exact: SweepPoint;
  perDim: PerDimPoint[];
  points: SweepPoint[];
  /** The cheapest point reaching the recall target (and exact's mAP@10 within tolerance, with labels), or null. */
  best: SweepPoint | null;
  /** recall@10 against exact full-D a point must reach. */
  targetRecall: number;
  /** recall = 1 − targetRecall. */
  tolerance: { recall: number; mapAt10: number };
  applied: boolean;
  ms: number;
  createdAt: string;
}
