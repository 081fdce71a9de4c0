import type { SearchOptions } from '../search/options.js';
import { summarise } from '../core/stats.js';
import { mrlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import { queryFigures } from '../core/retrieval-metrics.js';
import { parseFilter } from '../search/filter/parse.js';
import { flopsOfStages } from './flops.js';
import { resolveQueries, type EvalQuery } from './query-set.js';
import type { EvalResult, QuerySet } from './types.js';

export const EVAL_K = 10;

export type Progress = (done: number, total: number) => void;

export interface EvaluateOptions {
  collection: string;
  queries?: QuerySet;
  search?: SearchOptions;
  onProgress?: Progress;
}

/** One configuration's figures over prepared queries: EvalResult's figures, plus what a sweep needs. */
export type RunFigures = Pick<
  EvalResult,
  'mapAt10' | 'mapAt10HitNormalized' | 'precisionAt10' | 'top1' | 'recallAt10VsExact' | 'latencyMs' | 'qps' | 'flopsPerQuery'
> & {
  labelled: number;
  /** Top-10 ids per query (the ground truth, when this run is the exact one). */
  ids: string[][];
};

/** Checks the options an evaluation accepts: any search configuration, at k = 10. */
export function evalSearch(search: SearchOptions = {}): SearchOptions {
  if (typeof search !== 'object' || search === null) throw mrlError('INVALID_EVAL', 'search must be an object of search options');
  if (search.k !== undefined && search.k !== EVAL_K) throw mrlError('INVALID_EVAL', `evaluation measures the top ${EVAL_K}: leave k out`);
  return { ...search, k: EVAL_K };
}

/**
 * Runs every query through the server's own search path with `search`, one query at a time,
 * and scores the results: label metrics over the labelled queries (docs/design.md's mAP@10, the
 * hit-normalised variant, P@10, top-1; null when none is labelled) and recall against `truth`
 * (the exact full-D top 10 of each query, same kernels).
 */
export async function runQueries(
  engine: Engine,
  collection: string,
  queries: EvalQuery[],
  search: SearchOptions,
  truth: string[][] | null,
  onProgress?: Progress,
  using?: { index: PrefixIndex },
): Promise<RunFigures> {
  const opts = evalSearch(search);
  const rt = engine.runtime(collection);
  const plan = engine.plan(rt, opts, using?.index.dim);
  const labelIds = new Map<string, number>();
  const labelId = (l: string | null) => {
    if (l === null) return -1;
    let v = labelIds.get(l);
    if (v === undefined) labelIds.set(l, (v = labelIds.size));
    return v;
  };
  const sums = { ap: 0, apHits: 0, precision: 0, top1: 0, recall: 0, flops: 0 };
  const latencies = new Float64Array(queries.length);
  const ids: string[][] = [];
  let labelled = 0;
  let wall = 0;
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i];
    const t0 = performance.now();
    const res = await engine.search(collection, q.query, opts, using);
    latencies[i] = performance.now() - t0;
    wall += latencies[i];
    const got = res.results.map((r) => r.id);
    ids.push(got);
    if (q.label !== null) {
      const f = queryFigures(
        res.results.map((r) => labelId(r.label)),
        labelId(q.label),
        EVAL_K,
      );
      sums.ap += f.ap;
      sums.apHits += f.apHits;
      sums.precision += f.precision;
      sums.top1 += f.top1;
      labelled++;
    }
    if (truth) {
      const want = new Set(truth[i]);
      let hit = 0;
      for (const id of got) if (want.has(id)) hit++;
      sums.recall += want.size === 0 ? 1 : hit / want.size;
    }
    sums.flops += flopsOfStages(res.stages, plan.stages, rt.record.hnsw);
    onProgress?.(i + 1, queries.length);
  }
  const n = queries.length;
  const lat = summarise(latencies, wall);
  const per = (x: number) => (labelled ? x / labelled : null);
  return {
    mapAt10: per(sums.ap),
    mapAt10HitNormalized: per(sums.apHits),
    precisionAt10: per(sums.precision),
    top1: per(sums.top1),
    recallAt10VsExact: truth ? sums.recall / n : 1,
    latencyMs: { p50: lat.p50, p99: lat.p99, mean: lat.mean },
    qps: lat.qps,
    flopsPerQuery: sums.flops / n,
    labelled,
    ids,
  };
}

/**
 * The exact full-D run over the queries: its ids are every other run's ground truth. With a
 * filter, the truth is the exact search over the matching items (filtered runs are measured
 * against it); a keyword query never enters the truth (hybrid runs are compared with exact vector search).
 */
export function exactRun(
  engine: Engine,
  collection: string,
  queries: EvalQuery[],
  onProgress?: Progress,
  filter?: unknown,
): Promise<RunFigures> {
  return runQueries(engine, collection, queries, filter === undefined ? { exact: true } : { exact: true, filter }, null, onProgress);
}

/**
 * `GET /eval` and `mrl eval`: one search configuration against exact full-D search over a query
 * set: recall@10 against exact always, the label metrics where queries have labels (null
 * otherwise). Progress counts the exact pass and the configuration's pass.
 */
export async function evaluate(engine: Engine, opts: EvaluateOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const search = evalSearch(opts.search);
  const rt = engine.runtime(opts.collection);
  const plan = engine.plan(rt, search); // validates the configuration before any work
  if (search.filter !== undefined) parseFilter(search.filter);
  const queries = resolveQueries(engine, opts.collection, opts.queries);
  const labelled = queries.filter((q) => q.label !== null).length;
  const n = queries.length;
  // Exact search at full D is its own ground truth: one pass instead of two.
  const isTruth =
    plan.stages.length === 1 && plan.stages[0].source === 'exact' && plan.stages[0].dims === rt.record.dim && search.text === undefined;
  const passes = isTruth ? 1 : 2;
  const truth = await exactRun(engine, opts.collection, queries, (d) => opts.onProgress?.(d, passes * n), search.filter);
  const run = isTruth
    ? truth
    : await runQueries(engine, opts.collection, queries, search, truth.ids, (d) => opts.onProgress?.(n + d, 2 * n));
  const { ids: _ids, labelled: _l, ...figures } = run;
  return {
    collection: opts.collection,
    ...figures,
    queries: n,
    unlabelledQueries: n - labelled,
    config: { search: opts.search ?? {}, stages: plan.stages, indexDims: rt.index.dim },
    ms: performance.now() - t0,
    createdAt: new Date().toISOString(),
  };
}
