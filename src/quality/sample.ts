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
 * A seeded sample of up to `max` live rows (full vectors, n×D row-major, in seq order). Copied
 * from the resident matrix in one synchronous pass when it holds full-D float32 rows (exactly
 * the stored vectors, and no delete can come between choosing and copying); otherwise read from
 * the store (readRows).
 */
export async function sampleRows(
  engine: Engine,
  collection: string,
  max: number,
  seed: number,
): Promise<{ rows: Float32Array; n: number }> {
  const seqs = sampleSeqs(engine, collection, max, seed);
  const { matrix: m, record } = engine.runtime(collection);
  if (m.type !== 'f32' || m.width !== record.dim) return readRows(engine, collection, seqs);
  const dim = record.dim;
  const rows = new Float32Array(seqs.length * dim);
  seqs.forEach((seq, i) => {
    const slot = m.slotOf(seq)!;
    rows.set(m.data.subarray(slot * dim, (slot + 1) * dim), i * dim);
  });
  return { rows, n: seqs.length };
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
