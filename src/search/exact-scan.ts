import type { Kernel } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import { kernelForAttempt } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { Scored, SearchSource, VectorsBySeq } from './sources.js';

/** Brute force over every live row at prefix `dims`: the ground truth. */
export async function exactScan(src: SearchSource, vectors: VectorsBySeq, kernel: Kernel, query: Float32Array, dims: number, k: number): Promise<Scored> {
  const m = src.matrix;
  if (dims > m.width) return rescoreFromStore(vectors, kernel, query, Array.from(m.slotSeq.subarray(0, m.size)), dims, k);
  const q = normalizedPrefix(query, dims);
  for (let attempt = 1; ; attempt++) {
    if (m.size === 0) return { seqs: [], scores: [] };
    const version = m.version;
    const size = m.size;
    const [top] = await kernelForAttempt(kernel, attempt).topK(q, 1, m.data, size, m.width, dims, m.scaleAll(dims), k);
    if (m.version !== version) continue;
    return { seqs: Array.from(top.indices, (s) => m.slotSeq[s]), scores: Array.from(top.scores) };
  }
}
