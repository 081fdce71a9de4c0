import { JsKernel } from '../compute/js-kernel.js';
import type { Kernel, RowsQuery, TopK } from '../compute/kernel.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { nativeRerankAvailable, nativeRerankQuantizedSync, nativeRerankSync } from '../compute/native-kernel.js';

/**
 * Kernels may run after an event-loop turn (onnxruntime-node hops through setImmediate), and a
 * write applied in that turn can move rows of the resident matrix. A matrix-based step runs
 * once; only when the matrix changed meanwhile does it check its rows, and only when they moved
 * does it run again: once more on its kernel, then on the synchronous JS kernel, which nothing
 * can interleave with.
 */
export const syncKernel = new JsKernel();
const TRIES = 3;

/** Whether try number `attempt` (from 1) of a matrix-based step runs on the synchronous JS kernel. */
export function lastTry(attempt: number): boolean {
  return attempt >= TRIES;
}

/**
 * True when every slot still holds the seq it held when the step began. A row only ever moves
 * to a lower slot (remove() fills the hole with the last row) and seqs are never reused, so a
 * seq found at its slot afterwards never left it, and the values read there were its own.
 * A worker thread's view of a shared matrix (m.reader) is written by another thread while it
 * reads: only an unchanged seqlock (`version`) proves its read, so this is false there.
 */
export function slotsHold(m: ResidentMatrix, slots: Int32Array, seqs: number[]): boolean {
  if (m.reader) return false;
  const slotSeq = m.slotSeq;
  for (let i = 0; i < slots.length; i++) if (slots[i] >= m.size || slotSeq[slots[i]] !== seqs[i]) return false;
  return true;
}

/** One rerank over the matrix's rows as they are held (float32, or quantised). */
export function rerankRows(kernel: Kernel, m: ResidentMatrix, item: RowsQuery, dims: number): Promise<TopK[]> {
  if (m.type === 'f32') return kernel.rerank(m, [item], dims);
  const q = m as ResidentMatrix & { type: 'f16' | 'int8' };
  return kernel.rerankQuantized ? kernel.rerankQuantized(q, [item], dims) : syncKernel.rerankQuantized(q, [item], dims);
}

/** The same synchronously: on the native kernels (compute/native-kernel.ts) where built, else the JS kernel. */
export function rerankRowsSync(m: ResidentMatrix, item: RowsQuery, dims: number): TopK {
  if (nativeRerankAvailable)
    return m.type === 'f32'
      ? nativeRerankSync(m, [item], dims)[0]
      : nativeRerankQuantizedSync(m as ResidentMatrix & { type: 'f16' | 'int8' }, [item], dims)[0];
  if (m.type === 'f32') return syncKernel.topKRowsSync(item.query, 1, m.data, m.width, item.rowIdx, dims, item.rowScale, item.k)[0];
  return syncKernel.rerankQuantizedSync(m as ResidentMatrix & { type: 'f16' | 'int8' }, [item], dims)[0];
}
