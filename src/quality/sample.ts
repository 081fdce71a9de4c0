import { mulberry32, partialShuffle } from '../core/rng.js';
import type { Engine } from '../engine/engine.js';
import { TimeSlice } from './time-slice.js';

/** Rows read per store query while sampling (each read yields to the event loop after). */
const READ_CHUNK = 500;

/**
 * Up to `max` live seqs of a collection, chosen by `seed` (partial Fisher–Yates over the
 * resident matrix's seqs, in memory: no scan of the store).
 */
export function sampleSeqs(engine: Engine, collection: string, max: number, seed: number): number[] {
  const m = engine.runtime(collection).matrix;
  const all = Array.from(m.slotSeq.subarray(0, m.size));
  return all.slice(0, partialShuffle(all, max, mulberry32(seed))).sort((a, b) => a - b);
}

/**
 * The full vectors (as stored) of `seqs`, n×D row-major, or each one handed to `each` (then
 * nothing is kept); seqs deleted meanwhile are skipped. Yields to the event loop every few ms.
 */
export async function readRows(
  engine: Engine,
  collection: string,
  seqs: number[],
  each?: (v: Float32Array) => void,
): Promise<{ rows: Float32Array; n: number }> {
  const dim = engine.runtime(collection).record.dim;
  const rows = each ? new Float32Array(0) : new Float32Array(seqs.length * dim);
  let n = 0;
  const slice = new TimeSlice();
  for (let i = 0; i < seqs.length; i += READ_CHUNK) {
    for (const v of engine.items.vectorsBySeqs(seqs.slice(i, i + READ_CHUNK)).values()) {
      if (each) each(v);
      else rows.set(v, n * dim);
      n++;
      if (slice.due()) await slice.pause();
    }
  }
  return { rows: each ? rows : rows.subarray(0, n * dim), n };
}
