import { mrlError } from '../errors.js';

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
export interface Stage { dims: number; keep: number; source: 'index' | 'exact' | 'rerank'; ef?: number }
export interface PlanShape { dim: number; indexDim: number; rerankDim: number; defaults: { k: number; shortlist: number } }

/** The MRL paper's funnel: 16→32→64→128→256→D keeping 200→100→50→25→10 (section 4.3). */
export function paperFunnel(dim: number): FunnelStep[] {
  const dims = [16, 32, 64, 128, 256].filter((d) => d < dim);
  const keeps = [200, 100, 50, 25, 10];
  return [...dims.map((d, i) => ({ dims: d, keep: keeps[i] })), { dims: dim, keep: 10 }];
}

/** A funnel written as `paper` or `dims:keep,dims:keep,…` (CLI flags, query strings). */
export function parseFunnelSpec(spec: string, dim: number): FunnelStep[] {
  if (spec === 'paper') return paperFunnel(dim);
  return spec.split(',').map((p) => {
    const m = /^(\d+):(\d+)$/.exec(p.trim());
    if (!m) throw mrlError('INVALID_SEARCH', `funnel '${spec}': each step is dims:keep (e.g. 16:200,64:50,${dim}:10) or 'paper'`);
    return { dims: Number(m[1]), keep: Number(m[2]) };
  });
}

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw mrlError('INVALID_SEARCH', `${name} must be an integer in ${lo}..${hi}`);
  return v;
}

/**
 * Turns search options into stages. Without a funnel: index at indexDim → `shortlist` →
 * rerank at `rerank` dims → k. With a funnel: its steps in order, the last one keeping at
 * least k. The first stage reads the index only when its dims are the index's dims.
 */
export function planSearch(shape: PlanShape, o: SearchOptions): { k: number; stages: Stage[] } {
  const k = intIn(o.k ?? shape.defaults.k, 'k', 1, MAX_K);
  const ef = o.ef === undefined ? undefined : intIn(o.ef, 'ef', 1, MAX_SHORTLIST);
  if (o.exact) {
    const dims = intIn(o.rerank ?? shape.dim, 'rerank', 1, shape.dim);
    return { k, stages: [{ dims, keep: k, source: 'exact' }] };
  }
  let steps: FunnelStep[];
  if (o.funnel !== undefined) {
    if (o.shortlist !== undefined || o.rerank !== undefined) throw mrlError('INVALID_SEARCH', 'give either funnel or shortlist/rerank, not both');
    if (!Array.isArray(o.funnel) || o.funnel.length === 0 || o.funnel.length > 16) throw mrlError('INVALID_SEARCH', 'funnel must be a list of 1..16 {dims, keep} steps');
    steps = o.funnel.map((s, i) => ({
      dims: intIn(s?.dims, `funnel[${i}].dims`, 1, shape.dim),
      keep: intIn(s?.keep, `funnel[${i}].keep`, 1, MAX_SHORTLIST),
    }));
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].dims < steps[i - 1].dims) throw mrlError('INVALID_SEARCH', 'funnel dims must not decrease');
      if (steps[i].keep > steps[i - 1].keep) throw mrlError('INVALID_SEARCH', 'funnel keep must not increase');
    }
    const last = steps[steps.length - 1];
    if (last.keep < k) steps[steps.length - 1] = { ...last, keep: Math.min(k, steps.length > 1 ? steps[steps.length - 2].keep : k) };
  } else {
    const shortlist = intIn(o.shortlist ?? Math.max(shape.defaults.shortlist, k), 'shortlist', 1, MAX_SHORTLIST);
    const rerank = intIn(o.rerank ?? shape.rerankDim, 'rerank', 1, shape.dim);
    if (shortlist < k) throw mrlError('INVALID_SEARCH', `shortlist (${shortlist}) must be at least k (${k})`);
    if (rerank === shape.indexDim && o.firstStage !== 'exact') {
      // Reranking at the index's own dims would recompute the same scores: one index stage,
      // whose beam is the shortlist (a full-D index searched alone is this case).
      return { k, stages: [{ dims: rerank, keep: k, source: 'index', ef: ef ?? shortlist }] };
    }
    steps = [{ dims: shape.indexDim, keep: shortlist }, { dims: rerank, keep: k }];
  }
  const first = steps[0];
  const firstSource = o.firstStage ?? (first.dims === shape.indexDim ? 'index' : 'exact');
  if (firstSource === 'index' && first.dims !== shape.indexDim) {
    throw mrlError('INVALID_SEARCH', `the index covers ${shape.indexDim} dims; a first stage at ${first.dims} dims must be exact`);
  }
  const stages: Stage[] = steps.map((s, i) => ({ ...s, source: i === 0 ? firstSource : 'rerank' }));
  if (ef !== undefined && firstSource === 'index') stages[0].ef = ef;
  return { k: Math.min(k, stages[stages.length - 1].keep), stages };
}
