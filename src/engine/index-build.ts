import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { PrefixIndex } from '../index/prefix-index.js';
import type { VectorsBySeq } from '../search/sources.js';
import type { CollectionRuntime } from './collection-runtime.js';

const CHUNK = 256;

/**
 * A new prefix index at `dims` over the rows the resident matrix holds now, read from the
 * matrix when it is wide enough and holds float32, from SQLite otherwise; yields to the event loop between
 * chunks. Rows written meanwhile may be missing or stale in it: a retune's swap resyncs the
 * index with the matrix; a sweep's temporary index reflects the rows at its start.
 */
export async function buildIndexFromRows(
  rt: Pick<CollectionRuntime, 'matrix' | 'record'>,
  vectors: VectorsBySeq,
  dims: number,
): Promise<PrefixIndex> {
  const m = rt.matrix;
  const n = m.size;
  const seqs = Array.from(m.slotSeq.subarray(0, n));
  const index = PrefixIndex.create(dims, rt.record.hnsw, n);
  for (let i = 0; i < n; i += CHUNK) {
    if (i > 0) await yieldToLoop();
    const part = seqs.slice(i, i + CHUNK);
    // Quantised rows would lower the graph's recall: an index is built from the float32 vectors.
    const fromStore = dims > m.width || m.type !== 'f32' ? vectors.vectorsBySeqs(part) : null;
    for (const seq of part) {
      let v: Float32Array | undefined;
      if (fromStore) {
        v = fromStore.get(seq);
      } else {
        const slot = m.slotOf(seq);
        if (slot !== undefined) v = m.data.subarray(slot * m.width, slot * m.width + dims);
      }
      if (v) index.add(seq, v);
    }
  }
  return index;
}
