import { mrlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { buildIndexFromRows } from '../engine/index-build.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { SearchDefaults } from '../store/collections.js';
import { parseFilter } from '../search/filter/parse.js';
import { exactRun, runQueries, type Progress, type RunFigures } from './evaluate.js';
import { paretoFlags } from './pareto.js';
import { resolveQueries } from './query-set.js';
import { sweepCandidates, type Candidate, type SweepGrid } from './sweep-grid.js';
import type { PerDimPoint, QuerySet, SweepPoint, SweepResult } from './types.js';

export { sweepCandidates, type SweepGrid } from './sweep-grid.js';

export interface SweepOptions {
  collection: string;
  queries?: QuerySet;
  grid?: SweepGrid;
  /**
   * Best = the cheapest point whose recall@10 against exact full-D is ≥ `targetRecall` (default
   * 0.99) and, where the queries have labels, whose mAP@10 is ≥ exact's − `tolerance.mapAt10`.
   */
  targetRecall?: number;
  /** `recall`: the older way to say targetRecall = 1 − recall. */
  tolerance?: { recall?: number; mapAt10?: number };
  /** What "cheapest" means: measured p50 latency (default) or counted FLOPs (deterministic). */
  cost?: 'latency' | 'flops';
  /** Store the best point as the collection's default search (rebuilding its index at its dims). */
  apply?: boolean;
  /** Skip the exact-per-nesting-dim curve (the perDim chart). */
  perDim?: boolean;
  /** Every run restricted by this filter (the truth too: exact search over the matching items). */
  filter?: unknown;
  /** Every configuration run as a hybrid search with this keyword query (the truth stays exact vector search). */
  text?: string;
  onProgress?: Progress;
}

export const DEFAULT_TOLERANCE = { recall: 0.01, mapAt10: 0.005 };
/** The default criterion: recall@10 against exact full-D of at least this. */
export const DEFAULT_TARGET_RECALL = 0.99;

/** The recall a point must reach: `targetRecall`, else 1 − `tolerance.recall`, else 0.99. */
function targetOf(opts: SweepOptions): number {
  const t = opts.targetRecall ?? (opts.tolerance?.recall !== undefined ? 1 - opts.tolerance.recall : DEFAULT_TARGET_RECALL);
  if (typeof t !== 'number' || !(t > 0 && t <= 1)) throw mrlError('INVALID_EVAL', 'targetRecall must be in (0, 1]');
  return t;
}

function toPoint(c: Candidate, f: RunFigures, indexBytes: number): SweepPoint {
  return {
    indexDims: c.indexDims,
    search: c.search,
    label: c.label,
    mapAt10: f.mapAt10,
    mapAt10HitNormalized: f.mapAt10HitNormalized,
    recallAt10VsExact: f.recallAt10VsExact,
    latencyMs: f.latencyMs,
    qps: f.qps,
    flopsPerQuery: f.flopsPerQuery,
    indexBytes,
    pareto: false,
    paretoRecall: false,
  };
}

/**
 * `POST /eval/sweep` and `mrl eval --sweep`: every grid point over one query set (the exact
 * full-D pass is the ground truth), the Pareto fronts of mAP@10 (where labelled) and of recall
 * against p50 latency, and the cheapest point reaching the recall target (and, with labels,
 * within tolerance of exact's mAP@10). Unlabelled collections are tuned on recall alone. Temporary indexes hold the rows present when they
 * were built; `apply` swaps the chosen one in only if no write reached the caches since.
 */
export async function sweep(engine: Engine, opts: SweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const rt = engine.runtime(opts.collection);
  const { dim, nesting } = rt.record;
  const candidates = sweepCandidates(dim, nesting, opts.grid, rt.record.residentType);
  for (const c of candidates) engine.plan(rt, { ...c.search, k: 10 }, c.indexDims); // reject bad points before any work
  const given = opts.tolerance ?? {};
  if (
    (given.recall !== undefined && !(given.recall >= 0 && given.recall <= 1)) ||
    (given.mapAt10 !== undefined && !(given.mapAt10 >= 0 && given.mapAt10 <= 1))
  ) {
    throw mrlError('INVALID_EVAL', 'tolerances must be in 0..1');
  }
  const targetRecall = targetOf(opts);
  const tol = { recall: 1 - targetRecall, mapAt10: given.mapAt10 ?? DEFAULT_TOLERANCE.mapAt10 };
  const queries = resolveQueries(engine, opts.collection, opts.queries);
  const labelled = queries.filter((q) => q.label !== null).length;
  const perDimDims = opts.perDim === false ? [] : nesting.filter((d) => d < dim);
  const total = queries.length * (1 + candidates.length + perDimDims.length);
  // Progress over all passes: `done` counts the queries of the passes already finished.
  let done = 0;
  const step = (d: number) => opts.onProgress?.(done + d, total);
  const advance = () => (done += queries.length);

  if (opts.filter !== undefined) parseFilter(opts.filter);
  const within = { ...(opts.filter !== undefined ? { filter: opts.filter } : {}), ...(opts.text !== undefined ? { text: opts.text } : {}) };
  const truth = await exactRun(engine, opts.collection, queries, step, opts.filter);
  advance();
  const exact: SweepPoint = toPoint({ indexDims: dim, search: { exact: true }, label: `exact ${dim}d` }, truth, 0);

  const perDim: PerDimPoint[] = [];
  for (const d of perDimDims) {
    const f = await runQueries(
      engine,
      opts.collection,
      queries,
      { exact: true, rerank: d, ...(opts.filter !== undefined ? { filter: opts.filter } : {}) },
      truth.ids,
      step,
    );
    advance();
    perDim.push({ dims: d, mapAt10: f.mapAt10, top1: f.top1, recallAt10VsExact: f.recallAt10VsExact, latencyMs: f.latencyMs });
  }
  perDim.push({ dims: dim, mapAt10: exact.mapAt10, top1: truth.top1, recallAt10VsExact: 1, latencyMs: exact.latencyMs });

  const indexes = new Map<number, { index: PrefixIndex; matrixVersion: number }>();
  const points: SweepPoint[] = [];
  for (const c of candidates) {
    let using: { index: PrefixIndex } | undefined;
    if (c.indexDims !== engine.runtime(opts.collection).index.dim) {
      let built = indexes.get(c.indexDims);
      if (!built) {
        const version = rt.matrix.version;
        built = { index: await buildIndexFromRows(rt, engine.items, c.indexDims), matrixVersion: version };
        indexes.set(c.indexDims, built);
      }
      using = built;
    }
    const f = await runQueries(engine, opts.collection, queries, { ...c.search, ...within }, truth.ids, step, using);
    advance();
    points.push(toPoint(c, f, (using?.index ?? engine.runtime(opts.collection).index).bytes));
  }
  const paretoRecall = paretoFlags(
    points,
    (p) => p.latencyMs.p50,
    (p) => p.recallAt10VsExact,
  );
  // Without labels there is no mAP@10: the front is the recall front.
  const pareto = labelled
    ? paretoFlags(
        points,
        (p) => p.latencyMs.p50,
        (p) => p.mapAt10 ?? 0,
      )
    : paretoRecall;
  points.forEach((p, i) => {
    p.pareto = pareto[i];
    p.paretoRecall = paretoRecall[i];
  });

  const cost = opts.cost === 'flops' ? (p: SweepPoint) => p.flopsPerQuery : (p: SweepPoint) => p.latencyMs.p50;
  const mapOk = (p: SweepPoint) => !labelled || (p.mapAt10 ?? 0) >= (exact.mapAt10 ?? 0) - tol.mapAt10;
  const ok = points.filter((p) => p.recallAt10VsExact >= targetRecall - 1e-12 && mapOk(p));
  const best = ok.length ? ok.reduce((a, b) => (cost(b) < cost(a) ? b : a)) : null;
  let applied = false;
  if (opts.apply && best) {
    const s = best.search;
    const defaults: SearchDefaults = s.funnel
      ? { funnel: s.funnel }
      : {
          shortlist: s.shortlist,
          rerank: s.rerank,
          ...(s.ef !== undefined ? { ef: s.ef } : {}),
          ...(s.refine !== undefined ? { refine: s.refine } : {}),
        };
    await engine.retune(opts.collection, best.indexDims, defaults, indexes.get(best.indexDims));
    applied = true;
  }
  return {
    collection: opts.collection,
    queries: queries.length,
    items: rt.count,
    labelledQueries: labelled,
    exact,
    perDim,
    points,
    best,
    targetRecall,
    tolerance: tol,
    applied,
    ms: performance.now() - t0,
    createdAt: new Date().toISOString(),
  };
}
