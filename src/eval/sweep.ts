import { paperFunnel } from '../search/funnel-spec.js';
import type { FunnelStep, SearchOptions } from '../search/options.js';
import { mrlError, MrlError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { buildIndexFromRows } from '../engine/index-build.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { SearchDefaults } from '../store/collections.js';
import { parseFilter } from '../search/filter/parse.js';
import { exactRun, runQueries, type Progress, type RunFigures } from './evaluate.js';
import { paretoFlags } from './pareto.js';
import { resolveQueries } from './query-set.js';
import type { PerDimPoint, QuerySet, SweepPoint, SweepResult } from './types.js';

export interface SweepGrid {
  /** Dims of the first stage's index; each other than the collection's gets a temporary index. */
  indexDims?: number[];
  shortlists?: number[];
  rerankDims?: number[];
  funnels?: FunnelStep[][];
  /** Beam widths for the index stage (default: the shortlist, or the collection's efSearch). */
  efs?: number[];
}

export interface SweepOptions {
  collection: string;
  queries?: QuerySet;
  grid?: SweepGrid;
  /** Best = cheapest point with recall ≥ exact − recall and mAP@10 ≥ exact's − mapAt10. */
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
const MAX_POINTS = 400;

function ints(v: unknown, name: string, lo: number, hi: number): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > 32) throw mrlError('INVALID_EVAL', `grid.${name} must be a list of 1..32 integers`);
  for (const x of v) if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) throw mrlError('INVALID_EVAL', `grid.${name} values must be integers in ${lo}..${hi}`);
  return [...new Set(v as number[])].sort((a, b) => a - b);
}

interface Candidate { indexDims: number; search: SearchOptions; label: string }

/**
 * The grid's points. Defaults reach from short prefixes to the full vector and from small to
 * large shortlists, so the tuner may pick a single full-D index stage when that is cheapest:
 * index dims = the nesting dims from 16 (and D), shortlist K ∈ {20, 50, 100, 200, 500, 1000},
 * rerank at D (at the index dims the rerank is dropped and K is the beam), the paper's funnel.
 */
export function sweepCandidates(dim: number, nesting: number[], grid: SweepGrid = {}): Candidate[] {
  const indexDims = ints(grid.indexDims, 'indexDims', 1, dim) ?? [...new Set([...nesting.filter((d) => d >= 16 && d <= dim), dim])].sort((a, b) => a - b);
  const shortlists = ints(grid.shortlists, 'shortlists', 10, 10_000) ?? [20, 50, 100, 200, 500, 1000];
  const rerankDims = ints(grid.rerankDims, 'rerankDims', 1, dim) ?? [dim];
  const efs = ints(grid.efs, 'efs', 1, 10_000);
  const out: Candidate[] = [];
  for (const d of indexDims) {
    for (const r of rerankDims.filter((x) => x >= d)) {
      if (r === d) {
        for (const k of efs ?? shortlists) out.push({ indexDims: d, search: { shortlist: k, rerank: r }, label: `index ${d}d, ef ${k}` });
      } else {
        for (const k of shortlists) {
          if (efs) for (const ef of efs) out.push({ indexDims: d, search: { shortlist: k, rerank: r, ef }, label: `index ${d}d → ${k} → rerank ${r}d, ef ${ef}` });
          else out.push({ indexDims: d, search: { shortlist: k, rerank: r }, label: `index ${d}d → ${k} → rerank ${r}d` });
        }
      }
    }
  }
  const funnels = grid.funnels ?? [paperFunnel(dim)];
  if (!Array.isArray(funnels) || funnels.length > 16) throw mrlError('INVALID_EVAL', 'grid.funnels must be a list of at most 16 funnels');
  for (const f of funnels) {
    if (!Array.isArray(f) || f.length === 0) throw mrlError('INVALID_EVAL', 'each funnel must be a non-empty list of {dims, keep}');
    const first = f[0]?.dims;
    const onIndex = typeof first === 'number' && indexDims.includes(first);
    out.push({
      indexDims: onIndex ? first : indexDims[0],
      search: { funnel: f, firstStage: onIndex ? 'index' : 'exact' },
      label: `funnel ${f.map((s) => `${s?.dims}:${s?.keep}`).join('→')}${onIndex ? '' : ' (exact first stage)'}`,
    });
  }
  if (out.length > MAX_POINTS) throw mrlError('INVALID_EVAL', `the grid has ${out.length} points; at most ${MAX_POINTS}`);
  return out;
}

function toPoint(c: Candidate, f: RunFigures, indexBytes: number): SweepPoint {
  return {
    indexDims: c.indexDims, search: c.search, label: c.label,
    mapAt10: f.mapAt10, mapAt10HitNormalized: f.mapAt10HitNormalized, recallAt10VsExact: f.recallAt10VsExact,
    latencyMs: f.latencyMs, qps: f.qps, flopsPerQuery: f.flopsPerQuery, indexBytes, pareto: false, paretoRecall: false,
  };
}

/**
 * `POST /eval/sweep` and `mrl eval --sweep`: every grid point over one query set (the exact
 * full-D pass is the ground truth), the Pareto front of mAP@10 against p50 latency, and the
 * cheapest point within tolerance of exact. Temporary indexes hold the rows present when they
 * were built; `apply` swaps the chosen one in only if no write reached the caches since.
 */
export async function sweep(engine: Engine, opts: SweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const rt = engine.runtime(opts.collection);
  const { dim, nesting } = rt.record;
  const candidates = sweepCandidates(dim, nesting, opts.grid);
  for (const c of candidates) engine.plan(rt, { ...c.search, k: 10 }, c.indexDims); // reject bad points before any work
  const tol = { recall: opts.tolerance?.recall ?? DEFAULT_TOLERANCE.recall, mapAt10: opts.tolerance?.mapAt10 ?? DEFAULT_TOLERANCE.mapAt10 };
  if (!(tol.recall >= 0 && tol.recall <= 1) || !(tol.mapAt10 >= 0 && tol.mapAt10 <= 1)) throw mrlError('INVALID_EVAL', 'tolerances must be in 0..1');
  const queries = resolveQueries(engine, opts.collection, opts.queries);
  if (!queries.some((q) => q.label !== null)) throw new MrlError('NO_LABELS', { detail: `${queries.length} queries, none labelled` });
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
    const f = await runQueries(engine, opts.collection, queries, { exact: true, rerank: d, ...(opts.filter !== undefined ? { filter: opts.filter } : {}) }, truth.ids, step);
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
  const pareto = paretoFlags(points, (p) => p.latencyMs.p50, (p) => p.mapAt10);
  const paretoRecall = paretoFlags(points, (p) => p.latencyMs.p50, (p) => p.recallAt10VsExact);
  points.forEach((p, i) => {
    p.pareto = pareto[i];
    p.paretoRecall = paretoRecall[i];
  });

  const cost = opts.cost === 'flops' ? (p: SweepPoint) => p.flopsPerQuery : (p: SweepPoint) => p.latencyMs.p50;
  const ok = points.filter((p) => p.recallAt10VsExact >= 1 - tol.recall && p.mapAt10 >= exact.mapAt10 - tol.mapAt10);
  const best = ok.length ? ok.reduce((a, b) => (cost(b) < cost(a) ? b : a)) : null;
  let applied = false;
  if (opts.apply && best) {
    const s = best.search;
    const defaults: SearchDefaults = s.funnel ? { funnel: s.funnel } : { shortlist: s.shortlist, rerank: s.rerank, ...(s.ef !== undefined ? { ef: s.ef } : {}) };
    await engine.retune(opts.collection, best.indexDims, defaults, indexes.get(best.indexDims));
    applied = true;
  }
  return {
    collection: opts.collection, queries: queries.length, items: rt.count, exact, perDim, points, best,
    tolerance: tol, applied, ms: performance.now() - t0, createdAt: new Date().toISOString(),
  };
}
