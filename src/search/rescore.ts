import type { RowsQuery } from '../compute/kernel.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { int8Bounds } from './refine-bound.js';
import { lastTry, rerankRows, rerankRowsSync, slotsHold } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { StageContext } from './stage-context.js';
import type { Scored } from './sources.js';

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
 * ≤ its width (candidates no longer in it are dropped; over int8 rows with each score's error
 * bound), from the store's full vectors otherwise.
 */
export async function rescore(ctx: StageContext, seqs: number[], dims: number, keep: number): Promise<Scored> {
  const m = ctx.source.matrix;
  if (dims > m.width) return rescoreFromStore(ctx, seqs, dims, keep);
  const q = ctx.prefix(dims);
  for (let attempt = 1; ; attempt++) {
    const version = m.version;
    const { live, slots, scale } = select(m, seqs, dims);
    if (live.length === 0) return { seqs: [], scores: [] };
    const item: RowsQuery = { query: q, rowIdx: slots, rowScale: scale, k: keep };
    // A kernel given the matrix itself may score unchanged parts of it from a device copy.
    const top = lastTry(attempt) ? rerankRowsSync(m, item, dims) : (await rerankRows(ctx.kernel, m, item, dims))[0];
    const bounds = int8Bounds(m, q, top.indices, slots, scale); // read before the check, as the rows were
    if (m.version !== version && !slotsHold(m, slots, live)) continue;
    const out = new Array<number>(top.indices.length);
    for (let i = 0; i < out.length; i++) out[i] = live[top.indices[i]];
    return bounds ? { seqs: out, scores: Array.from(top.scores), bounds } : { seqs: out, scores: Array.from(top.scores) };
  }
}
