import type { Kernel } from '../compute/kernel.js';
import { normalizedPrefix, prefixNorm } from '../core/prefix.js';
import type { Scored, VectorsBySeq } from './sources.js';

/** Rows read from SQLite per kernel call when reranking beyond the resident width. */
const STORE_CHUNK = 2048;

/**
 * Dims beyond the resident width: the full vectors come from the store (slower, still exact), in
 * chunks read with a few `IN` queries, each chunk's top `keep` merged into a running top
 * (a stable sort keeps the earlier candidate first on equal scores, as one call would).
 */
export async function rescoreFromStore(
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  seqs: number[],
  dims: number,
  keep: number,
): Promise<Scored> {
  const q = normalizedPrefix(query, dims);
  let best: { seq: number; score: number }[] = [];
  for (let i = 0; i < seqs.length; i += STORE_CHUNK) {
    const part = seqs.slice(i, i + STORE_CHUNK);
    const found = vectors.vectorsBySeqs(part);
    const live: number[] = [];
    const rows = new Float32Array(part.length * dims);
    const scale: number[] = [];
    for (const s of part) {
      const v = found.get(s);
      if (!v) continue;
      rows.set(v.subarray(0, dims), live.length * dims);
      const nrm = prefixNorm(v, 0, dims);
      scale.push(nrm > 0 ? 1 / nrm : 0);
      live.push(s);
    }
    if (live.length === 0) continue;
    const [top] = await kernel.topK(
      q,
      1,
      rows.subarray(0, live.length * dims),
      live.length,
      dims,
      dims,
      Float32Array.from(scale),
      Math.min(keep, live.length),
    );
    top.indices.forEach((idx, j) => best.push({ seq: live[idx], score: top.scores[j] }));
    if (best.length > keep) best = best.sort((a, b) => b.score - a.score).slice(0, keep);
  }
  best.sort((a, b) => b.score - a.score);
  return { seqs: best.map((b) => b.seq), scores: best.map((b) => b.score) };
}
