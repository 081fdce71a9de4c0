import { offerTop } from '../core/top-list.js';
import { TimeSlice } from './time-slice.js';

/** What one sample's exact searches at each prefix keep of exact full-D search. */
export interface PrefixCurve {
  dims: number;
  recallAt10: number;
  shortlistRecall: number;
  shortlistFor099: number | '> 2000';
}

export const TOP = 10;
export const SHORTLIST = 100;
export const K_CAP = 2000;

/**
 * Exact cosine search at every prefix d in `dims` (the last one is the full D) over the rows of
 * `base` (n×D, row-major), for each query row of `queries` left out of its own results. Per d:
 * recall@10 against full D, the share of the full-D top-10 inside the top-100 at d, and the
 * shortlist K at d that a full-D rerank needs for recall 0.99 (a true neighbour survives the
 * rerank exactly when its rank at d is below K, so K comes from the ranks of the neighbours).
 */
export async function prefixCurve(base: Float32Array, n: number, dim: number, queries: number[], dims: number[]): Promise<PrefixCurve[]> {
  const nd = dims.length;
  const norms = prefixNorms(base, n, dim, dims);
  const hits10 = new Float64Array(nd);
  const hits100 = new Float64Array(nd);
  const ranks: number[][] = dims.map(() => []);
  const scores = dims.map(() => new Float64Array(n));
  const slice = new TimeSlice();
  for (const qi of queries) {
    prefixScores(base, n, dim, dims, norms, qi, scores);
    const truth = topIndices(scores[nd - 1], TOP);
    for (let di = 0; di < nd - 1; di++) {
      const s = scores[di];
      const t10 = new Set(topIndices(s, TOP));
      const t100 = new Set(topIndices(s, SHORTLIST));
      for (const t of truth) {
        if (t10.has(t)) hits10[di]++;
        if (t100.has(t)) hits100[di]++;
        ranks[di].push(rankOf(s, t));
      }
    }
    if (slice.due()) await slice.pause();
  }
  const total = queries.length * TOP;
  return dims.map((d, di) =>
    di === nd - 1
      ? { dims: d, recallAt10: 1, shortlistRecall: 1, shortlistFor099: TOP }
      : { dims: d, recallAt10: hits10[di] / total, shortlistRecall: hits100[di] / total, shortlistFor099: kFor(ranks[di], 0.99) },
  );
}

/** The smallest K with share(rank < K) ≥ target, or '> 2000'. */
export function kFor(ranks: number[], target: number): number | '> 2000' {
  if (ranks.length === 0) return TOP;
  const sorted = [...ranks].sort((a, b) => a - b);
  const k = Math.max(TOP, sorted[Math.ceil(target * sorted.length) - 1] + 1);
  return k > K_CAP ? '> 2000' : k;
}

/** ||row[0:d]|| per row and nesting dim: n × dims.length. */
function prefixNorms(base: Float32Array, n: number, dim: number, dims: number[]): Float64Array {
  const out = new Float64Array(n * dims.length);
  for (let r = 0; r < n; r++) {
    let s = 0;
    let j = 0;
    for (let di = 0; di < dims.length; di++) {
      for (; j < dims[di]; j++) s += base[r * dim + j] * base[r * dim + j];
      out[r * dims.length + di] = Math.sqrt(s);
    }
  }
  return out;
}

/** Cosine at every prefix of row `qi` against every row, in one pass over the dims; qi itself scores −∞. */
function prefixScores(
  base: Float32Array,
  n: number,
  dim: number,
  dims: number[],
  norms: Float64Array,
  qi: number,
  out: Float64Array[],
): void {
  const nd = dims.length;
  const q = base.subarray(qi * dim, (qi + 1) * dim);
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    let dot = 0;
    let j = 0;
    for (let di = 0; di < nd; di++) {
      for (; j < dims[di]; j++) dot += q[j] * base[off + j];
      const den = norms[qi * nd + di] * norms[r * nd + di];
      out[di][r] = den > 0 ? dot / den : 0;
    }
  }
  for (let di = 0; di < nd; di++) out[di][qi] = -Infinity;
}

/** Indices of the k largest scores, best first (ties: lower index first). */
export function topIndices(s: Float64Array, k: number): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < s.length; i++) offerTop(idx, val, k, i, s[i]);
  return idx;
}

/** Rows scoring strictly above row t. */
function rankOf(s: Float64Array, t: number): number {
  const v = s[t];
  let r = 0;
  for (let i = 0; i < s.length; i++) if (s[i] > v) r++;
  return r;
}
