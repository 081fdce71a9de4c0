import type { Kernel } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import { kernelForAttempt } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { Scored, SearchSource, VectorsBySeq } from './sources.js';

/**
 * Rescores candidates at `dims` and keeps the best `keep`: from the resident matrix when dims
 * ≤ its width (candidates no longer in it are dropped), from the store's full vectors otherwise.
 */
export async function rescore(src: SearchSource, vectors: VectorsBySeq, kernel: Kernel, query: Float32Array, seqs: number[], dims: number, keep: number): Promise<Scored> {
  const m = src.matrix;
  if (dims > m.width) return rescoreFromStore(vectors, kernel, query, seqs, dims, keep);
  const q = normalizedPrefix(query, dims);
  for (let attempt = 1; ; attempt++) {
    const version = m.version;
    const live: number[] = [];
    const slots: number[] = [];
    for (const s of seqs) {
      const slot = m.slotOf(s);
      if (slot !== undefined) {
        live.push(s);
        slots.push(slot);
      }
    }
    if (live.length === 0) return { seqs: [], scores: [] };
    const run = kernelForAttempt(kernel, attempt);
    const idx = Int32Array.from(slots);
    const scale = m.scales(slots, dims);
    // A kernel given the matrix itself may score unchanged parts of it from a device copy.
    const [top] = await run.rerank(m, [{ query: q, rowIdx: idx, rowScale: scale, k: keep }], dims);
    if (m.version !== version) continue;
    return { seqs: Array.from(top.indices, (i) => live[i]), scores: Array.from(top.scores) };
  }
}
