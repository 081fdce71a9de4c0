import { mrlError } from '../../errors.js';
import type { SearchHit } from '../hits.js';

/** How a hybrid search merges its vector and keyword lists. */
export interface Fusion {
  method?: 'rrf' | 'blend';
  k?: number;
  weights?: { vector?: number; text?: number };
}
/** A hit's place in one list: rank from 1 and that list's own score (cosine, or BM25). */
export interface ListPlace {
  rank: number;
  score: number;
}
export interface FusedHit extends SearchHit {
  sources: { vector?: ListPlace; text?: ListPlace };
}

/** The RRF constant of Cormack et al. (2009). */
export const RRF_K = 60;

function weight(v: unknown, name: string): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1000)
    throw mrlError('INVALID_SEARCH', `fusion.weights.${name} must be a number in 0..1000`);
  return v;
}

/** Min-max normalisation of a list's scores to [0, 1] (all equal: 1). */
function normalised(hits: SearchHit[]): Map<string, number> {
  const lo = Math.min(...hits.map((h) => h.score));
  const hi = Math.max(...hits.map((h) => h.score));
  return new Map(hits.map((h) => [h.id, hi > lo ? (h.score - lo) / (hi - lo) : 1]));
}

/**
 * Fuses the vector list and the keyword list (each best first) into the best `k`.
 * RRF (default): score = w_v / (k_rrf + rank_v) + w_t / (k_rrf + rank_t), a list that missed
 * the item adding nothing. Blend: w_v·norm(cos) + w_t·norm(bm25), each list min-max normalised.
 * Ties go to the item ranked higher in the vector list, then the keyword list.
 */
export function fuse(vector: SearchHit[], text: SearchHit[], f: Fusion = {}, k = vector.length + text.length): FusedHit[] {
  const method = f.method ?? 'rrf';
  if (method !== 'rrf' && method !== 'blend') throw mrlError('INVALID_SEARCH', "fusion.method must be 'rrf' or 'blend'");
  const rrfK = f.k ?? RRF_K;
  if (typeof rrfK !== 'number' || !Number.isFinite(rrfK) || rrfK < 0 || rrfK > 10_000)
    throw mrlError('INVALID_SEARCH', 'fusion.k must be a number in 0..10000');
  const wv = weight(f.weights?.vector, 'vector');
  const wt = weight(f.weights?.text, 'text');
  const byId = new Map<string, FusedHit>();
  const place = (hits: SearchHit[], list: 'vector' | 'text') =>
    hits.forEach((h, i) => {
      const e = byId.get(h.id) ?? { id: h.id, label: h.label, payload: h.payload, score: 0, sources: {} };
      e.sources[list] = { rank: i + 1, score: h.score };
      byId.set(h.id, e);
    });
  place(vector, 'vector');
  place(text, 'text');
  const nv = method === 'blend' ? normalised(vector) : undefined;
  const nt = method === 'blend' ? normalised(text) : undefined;
  for (const e of byId.values()) {
    const { vector: v, text: t } = e.sources;
    e.score =
      method === 'rrf'
        ? (v ? wv / (rrfK + v.rank) : 0) + (t ? wt / (rrfK + t.rank) : 0)
        : (v ? wv * nv!.get(e.id)! : 0) + (t ? wt * nt!.get(e.id)! : 0);
  }
  const last = Number.MAX_SAFE_INTEGER;
  return [...byId.values()]
    .sort(
      (a, b) =>
        b.score - a.score ||
        (a.sources.vector?.rank ?? last) - (b.sources.vector?.rank ?? last) ||
        (a.sources.text?.rank ?? last) - (b.sources.text?.rank ?? last),
    )
    .slice(0, k);
}
