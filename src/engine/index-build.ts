import { normalizedPrefix } from '../core/prefix.js';
import { PrefixIndex } from '../index/prefix-index.js';
import type { VectorsBySeq } from '../search/sources.js';
import type { CollectionRuntime } from './collection-runtime.js';

const CHUNK = 1024;

/**
 * A new prefix index at `dims` over the rows the resident matrix holds now, read from the
 * matrix when it is wide enough and holds float32, from SQLite otherwise, and inserted on the
 * thread pool a chunk at a time (this thread goes on serving meanwhile). Rows written meanwhile
 * may be missing or stale in it: a retune's swap resyncs the index with the matrix; a sweep's
 * temporary index reflects the rows at its start.
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
    const part = seqs.slice(i, i + CHUNK);
    const labels: number[] = [];
    const rows = new Float32Array(part.length * dims);
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
      if (v) rows.set(normalizedPrefix(v, dims), labels.push(seq) * dims - dims);
    }
    await index.addBatch(Uint32Array.from(labels), rows.subarray(0, labels.length * dims));
  }
  return index;
}
