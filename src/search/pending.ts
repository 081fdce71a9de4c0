import { offerTop } from '../core/top-list.js';
import { nativeHnsw } from '../index/native-hnsw.js';

/** Seqs and their scores, best first (sources.ts's Scored, restated to keep the imports one way). */
type Scored = { seqs: number[]; scores: number[] };

/**
 * Rows committed (and in the resident matrix) that the prefix index does not hold yet: their
 * L2-normalised prefix at the index's dims, by seq. Index insertion runs behind the commit, so
 * the index stage adds an exact scan of these rows to its own candidates.
 */
export interface PendingRows {
  readonly dim: number;
  readonly size: number;
  /** Rows in slots [start, end): `dim` values each in `data`; `seqs[slot]` is 0 where no row is. */
  readonly start: number;
  readonly end: number;
  readonly data: Float32Array;
  readonly seqs: Uint32Array;
  /** True while some of these rows are being inserted, so the index may return them too. */
  readonly overlapping?: boolean;
}

/**
 * The index stage's candidates merged with the best `want` pending rows, scored exactly as the
 * index scores (cosine at its dims; `q` is the query's normalised prefix). Both lists best first.
 * `accept` restricts the pending rows as a filtered index search restricts the graph's.
 */
export function withPending(
  found: Scored,
  pending: PendingRows | undefined,
  q: Float32Array,
  want: number,
  accept?: (seq: number) => boolean,
): Scored {
  if (!pending || pending.size === 0 || pending.dim !== q.length) return found;
  let top = topPending(pending, q, pending.overlapping ? want + found.seqs.length : want, accept);
  if (pending.overlapping && found.seqs.length > 0) {
    // Rows being inserted may be in both lists: each counts once (the pending list was taken
    // long enough that `want` remain after the index's are dropped).
    const inIndex = new Set(found.seqs);
    const keep = top.seqs.map((seq) => !inIndex.has(seq));
    top = { seqs: top.seqs.filter((_, i) => keep[i]), scores: top.scores.filter((_, i) => keep[i]) };
  }
  const seqs: number[] = [];
  const scores: number[] = [];
  let i = 0;
  let j = 0;
  while (seqs.length < want && (i < found.seqs.length || j < top.seqs.length)) {
    if (j >= top.seqs.length || (i < found.seqs.length && found.scores[i] >= top.scores[j])) {
      seqs.push(found.seqs[i]);
      scores.push(found.scores[i++]);
    } else {
      seqs.push(top.seqs[j]);
      scores.push(top.scores[j++]);
    }
  }
  return { seqs, scores };
}

/**
 * Exact top `want` of the pending rows against `q`, best first: one pass over the block, natively
 * (SIMD; ~10× the JS loop at 32 dims) unless a filter must be asked of each row.
 */
function topPending(rows: PendingRows, q: Float32Array, want: number, accept?: (seq: number) => boolean): Scored {
  if (!accept) {
    const top = nativeHnsw.scanTop(rows.data, rows.seqs, rows.start, rows.end, q, want);
    return { seqs: Array.from(top.seqs), scores: Array.from(top.scores) };
  }
  return topPendingJs(rows, q, want, accept);
}

/** topPending in JS (insertion into a short sorted list), for a filter; the reference the native scan is tested against. */
export function topPendingJs(rows: PendingRows, q: Float32Array, want: number, accept?: (seq: number) => boolean): Scored {
  const seqs: number[] = [];
  const scores: number[] = [];
  const d = q.length;
  const { data, seqs: at, start, end } = rows;
  let floor = -Infinity; // the last kept score once `want` are kept
  for (let slot = start; slot < end; slot++) {
    const seq = at[slot];
    if (seq === 0 || (accept && !accept(seq))) continue;
    let s = 0;
    for (let k = 0, o = slot * d; k < d; k++) s += q[k] * data[o + k];
    if (s <= floor) continue;
    offerTop(seqs, scores, want, seq, s);
    if (scores.length === want) floor = scores[want - 1];
  }
  return { seqs, scores };
}
