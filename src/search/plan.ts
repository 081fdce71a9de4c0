import { mrlError } from '../errors.js';
import { MAX_K, MAX_SHORTLIST, type FunnelStep, type Plan, type SearchOptions, type Stage, type Widen } from './options.js';
import { withRefine, type RefinedCollection } from './refine.js';
import { DEFAULT_WIDEN_FACTOR, DEFAULT_WIDEN_RATIO } from './widen.js';

export interface PlanShape {
  dim: number;
  indexDim: number;
  rerankDim: number;
  defaults: { k: number; shortlist: number };
}
/** The server's defaults for what neither the request nor the collection sets. */
export interface ServerDefaults {
  k: number;
  shortlist: number;
}
/** What planning reads of a collection (its record satisfies this). */
export interface PlannedCollection extends RefinedCollection {
  dim: number;
  indexDim: number;
  rerankDim: number;
  searchDefaults: Pick<SearchOptions, 'k' | 'shortlist' | 'rerank' | 'ef' | 'funnel' | 'refine'>;
}

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw mrlError('INVALID_SEARCH', `${name} must be an integer in ${lo}..${hi}`);
  return v;
}

/**
 * The stages a search of `record` runs: options left out come from the collection's search
 * defaults, then the server's. A collection's default funnel applies only when the request
 * picks no shape of its own (funnel, shortlist, rerank or exact). `indexDim` is that of the
 * index the search reads (a sweep's temporary index may differ from the collection's).
 */
export function planFor(record: PlannedCollection, server: ServerDefaults, opts: SearchOptions, indexDim = record.indexDim): Plan {
  const d = record.searchDefaults;
  const chosen = opts.funnel !== undefined || opts.shortlist !== undefined || opts.rerank !== undefined || opts.exact;
  const o: SearchOptions =
    !chosen && d.funnel ? { ...opts, funnel: d.funnel } : { ...opts, ef: opts.ef ?? (opts.shortlist === undefined ? d.ef : undefined) };
  const plan = planSearch(
    {
      dim: record.dim,
      indexDim,
      rerankDim: d.rerank ?? record.rerankDim,
      defaults: { k: d.k ?? server.k, shortlist: d.shortlist ?? server.shortlist },
    },
    o,
  );
  return withRefine(plan, opts.refine ?? d.refine, record);
}

/**
 * Turns search options into stages. Without a funnel: index at indexDim → `shortlist` →
 * rerank at `rerank` dims → k. With a funnel: its steps in order, the last one keeping at
 * least k. The first stage reads the index only when its dims are the index's dims.
 */
export function planSearch(shape: PlanShape, o: SearchOptions): Plan {
  const k = intIn(o.k ?? shape.defaults.k, 'k', 1, MAX_K);
  const ef = o.ef === undefined ? undefined : intIn(o.ef, 'ef', 1, MAX_SHORTLIST);
  if (o.exact) {
    const dims = intIn(o.rerank ?? shape.dim, 'rerank', 1, shape.dim);
    return { k, stages: [{ dims, keep: k, source: 'exact' }] };
  }
  let steps: FunnelStep[];
  if (o.funnel !== undefined) {
    if (o.shortlist !== undefined || o.rerank !== undefined)
      throw mrlError('INVALID_SEARCH', 'give either funnel or shortlist/rerank, not both');
    steps = funnelSteps(o.funnel, shape.dim, k);
  } else {
    const shortlist = intIn(o.shortlist ?? Math.max(shape.defaults.shortlist, k), 'shortlist', 1, MAX_SHORTLIST);
    const rerank = intIn(o.rerank ?? shape.rerankDim, 'rerank', 1, shape.dim);
    if (shortlist < k) throw mrlError('INVALID_SEARCH', `shortlist (${shortlist}) must be at least k (${k})`);
    if (rerank === shape.indexDim && o.firstStage !== 'exact') {
      // Reranking at the index's own dims would recompute the same scores: one index stage,
      // whose beam is the shortlist (a full-D index searched alone is this case).
      return { k, stages: [{ dims: rerank, keep: k, source: 'index', ef: ef ?? shortlist }] };
    }
    steps = [
      { dims: shape.indexDim, keep: shortlist },
      { dims: rerank, keep: k },
    ];
  }
  const first = steps[0];
  const firstSource = o.firstStage ?? (first.dims === shape.indexDim ? 'index' : 'exact');
  if (firstSource === 'index' && first.dims !== shape.indexDim) {
    throw mrlError('INVALID_SEARCH', `the index covers ${shape.indexDim} dims; a first stage at ${first.dims} dims must be exact`);
  }
  const stages: Stage[] = steps.map((s, i) => ({ ...s, source: i === 0 ? firstSource : 'rerank' }));
  if (ef !== undefined && firstSource === 'index') stages[0].ef = ef;
  const widen = widenOf(o.adaptive, k, stages[0].keep);
  if (widen && stages.length > 1) stages[0].widen = widen;
  return { k: Math.min(k, stages[stages.length - 1].keep), stages };
}

/** The adaptive-shortlist option, checked: how far the first stage may widen its `keep`. */
function widenOf(a: SearchOptions['adaptive'], k: number, keep: number): Widen | undefined {
  if (a === undefined || a === false) return undefined;
  if (a !== true && (typeof a !== 'object' || a === null)) throw mrlError('INVALID_SEARCH', 'adaptive must be true or { ratio, cap }');
  const o = a === true ? {} : a;
  const ratio = o.ratio ?? DEFAULT_WIDEN_RATIO;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 10))
    throw mrlError('INVALID_SEARCH', 'adaptive.ratio must be a number in (0, 10]');
  const cap =
    o.cap === undefined ? Math.min(MAX_SHORTLIST, keep * DEFAULT_WIDEN_FACTOR) : intIn(o.cap, 'adaptive.cap', keep, MAX_SHORTLIST);
  return { k, ratio, cap };
}

/** A funnel's steps, checked: dims never decrease, keep never increases, the last keeps at least k. */
function funnelSteps(funnel: unknown, dim: number, k: number): FunnelStep[] {
  if (!Array.isArray(funnel) || funnel.length === 0 || funnel.length > 16)
    throw mrlError('INVALID_SEARCH', 'funnel must be a list of 1..16 {dims, keep} steps');
  const steps = (funnel as (Partial<FunnelStep> | undefined)[]).map((s, i) => ({
    dims: intIn(s?.dims, `funnel[${i}].dims`, 1, dim),
    keep: intIn(s?.keep, `funnel[${i}].keep`, 1, MAX_SHORTLIST),
  }));
  for (let i = 1; i < steps.length; i++) {
    if (steps[i].dims < steps[i - 1].dims) throw mrlError('INVALID_SEARCH', 'funnel dims must not decrease');
    if (steps[i].keep > steps[i - 1].keep) throw mrlError('INVALID_SEARCH', 'funnel keep must not increase');
  }
  const last = steps[steps.length - 1];
  if (last.keep < k) steps[steps.length - 1] = { ...last, keep: Math.min(k, steps.length > 1 ? steps[steps.length - 2].keep : k) };
  return steps;
}

/**
 * A recall target (the request's `recall`, else the collection's `targetRecall`) becomes the
 * options `resolve` picks for it (src/quality/recall-target.ts: the cheapest configuration of
 * the latest sweep meeting it), unless the request picks a shape of its own.
 */
export function withRecallTarget<R extends { searchDefaults: { targetRecall?: number } }>(
  record: R,
  opts: SearchOptions,
  resolve?: (record: R, target: number) => SearchOptions | null,
): SearchOptions {
  const target = opts.recall ?? record.searchDefaults.targetRecall;
  if (target === undefined) return opts;
  if (typeof target !== 'number' || !(target > 0 && target <= 1)) throw mrlError('INVALID_SEARCH', 'recall must be a number in (0, 1]');
  if (!resolve || opts.funnel !== undefined || opts.shortlist !== undefined || opts.rerank !== undefined || opts.exact) return opts;
  const chosen = resolve(record, target);
  return chosen ? { ...chosen, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } : opts;
}
