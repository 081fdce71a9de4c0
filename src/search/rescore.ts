import type { Kernel, RowsQuery } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { lastTry, rerankRows, rerankRowsSync, slotsHold } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { Scored, SearchSource, VectorsBySeq } from './sources.js';

/** The candidates the matrix holds, their slots and 1/||row[0:dims]||. */
function select(m: ResidentMatrix, seqs: number[], dims: number): { live: number[]; slots: Int32Array; scale: Float32Array } {
  const live: number[] = [];
  const all = new Int32Array(seqs.length);
  let n = 0;
  for (let i = 0; i < seqs.length; i++) {
    const slot = m.slotOf(seqs[i]);
    if (slot !== undefined) {
      live.push(seqs[i]);
      all[n++] = slot;
    }
  }
  const slots = all.subarray(0, n);
  return { live, slots, scale: m.scales(slots, dims) };
}

/**
 * Rescores candidates at `dims` and keeps the best `keep`: from the resident matrix when dims
 * ≤ its width (candidates no longer in it are dropped), from the store's full vectors otherwise.
 */
export async function rescore(
  src: SearchSource,
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  seqs: number[],
  dims: number,
  keep: number,
): Promise<Scored> {
  const m = src.matrix;
  if (dims > m.width) return rescoreFromStore(vectors, kernel, query, seqs, dims, keep);
  const q = normalizedPrefix(query, dims);
  for (let attempt = 1; ; attempt++) {
    const version = m.version;
    const { live, slots, scale } = select(m, seqs, dims);
    if (live.length === 0) return { seqs: [], scores: [] };
    const item: RowsQuery = { query: q, rowIdx: slots, rowScale: scale, k: keep };
    // A kernel given the matrix itself may score unchanged parts of it from a device copy.
    const top = lastTry(attempt) ? rerankRowsSync(m, item, dims) : (await rerankRows(kernel, m, item, dims))[0];
    if (m.version !== version && !slotsHold(m, slots, live)) continue;
    const out = new Array<number>(top.indices.length);
    for (let i = 0; i < out.length; i++) out[i] = live[top.indices[i]];
    return { seqs: out, scores: Array.from(top.scores) };
  }
}
