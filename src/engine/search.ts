import type { Kernel } from '../compute/kernel.js';
import { JsKernel } from '../compute/js-kernel.js';
import { normalizedPrefix, prefixNorm } from '../core/prefix.js';
import type { Stage } from '../core/funnel.js';
import type { ItemStore } from '../store/items.js';
import type { CollectionRuntime } from './collection-runtime.js';

/** What a search reads: a collection's runtime, or a view of it over another index (sweeps). */
export type SearchSource = Pick<CollectionRuntime, 'index' | 'matrix' | 'count' | 'record'>;

export interface StageReport { dims: number; source: Stage['source']; candidates: number; ms: number }
export interface Ranked { seqs: number[]; scores: number[]; stages: StageReport[] }

/**
 * Runs planned stages for one query. The first stage comes from the prefix index or an
 * exact scan at its prefix; each later stage rescores the survivors at its dims, from the
 * resident matrix when dims ≤ R and from SQLite's full vectors otherwise.
 * `exclude` (a query item's own seq) never appears in the output.
 */
export async function runStages(rt: SearchSource, items: ItemStore, kernel: Kernel, query: Float32Array, stages: Stage[], exclude?: number): Promise<Ranked> {
  const reports: StageReport[] = [];
  let seqs: number[] = [];
  let scores: number[] = [];
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i];
    const t0 = performance.now();
    const keep = st.keep;
    if (st.source === 'index') {
      const want = exclude === undefined ? keep : keep + 1;
      const r = rt.index.search(normalizedPrefix(query, st.dims), want, Math.max(st.ef ?? rt.record.hnsw.efSearch, want));
      seqs = r.seqs;
      scores = r.scores;
      reports.push({ dims: st.dims, source: st.source, candidates: seqs.length, ms: 0 });
    } else if (st.source === 'exact') {
      ({ seqs, scores } = await exactScan(rt, items, kernel, query, st.dims, exclude === undefined ? keep : keep + 1));
      reports.push({ dims: st.dims, source: st.source, candidates: rt.count, ms: 0 });
    } else {
      const n = seqs.length;
      ({ seqs, scores } = await rescore(rt, items, kernel, query, seqs, st.dims, keep));
      reports.push({ dims: st.dims, source: st.source, candidates: n, ms: 0 });
    }
    if (exclude !== undefined) {
      const at = seqs.indexOf(exclude);
      if (at >= 0) {
        seqs.splice(at, 1);
        scores.splice(at, 1);
      }
    }
    if (seqs.length > keep) {
      seqs.length = keep;
      scores.length = keep;
    }
    reports[reports.length - 1].ms = performance.now() - t0;
  }
  return { seqs, scores, stages: reports };
}

/**
 * Kernels may run after an event-loop turn (onnxruntime-node hops through setImmediate), and
 * a write applied in that turn can move rows of the resident matrix. So a matrix-based step
 * checks the matrix version around the kernel call and retries; the last try uses the
 * synchronous JS kernel, which nothing can interleave with.
 */
const jsKernel = new JsKernel();
const TRIES = 3;

/** Brute force over every live row at prefix `dims`: the ground truth. */
export async function exactScan(rt: SearchSource, items: ItemStore, kernel: Kernel, query: Float32Array, dims: number, k: number): Promise<{ seqs: number[]; scores: number[] }> {
  const m = rt.matrix;
  if (dims > m.width) return rescoreFromStore(items, kernel, query, Array.from(m.slotSeq.subarray(0, m.size)), dims, k);
  const q = normalizedPrefix(query, dims);
  for (let attempt = 1; ; attempt++) {
    if (m.size === 0) return { seqs: [], scores: [] };
    const version = m.version;
    const size = m.size;
    const run = attempt < TRIES ? kernel : jsKernel;
    const [top] = await run.topK(q, 1, m.data, size, m.width, dims, m.scaleAll(dims), k);
    if (m.version !== version) continue;
    return { seqs: Array.from(top.indices, (s) => m.slotSeq[s]), scores: Array.from(top.scores) };
  }
}

async function rescore(rt: SearchSource, items: ItemStore, kernel: Kernel, query: Float32Array, seqs: number[], dims: number, keep: number): Promise<{ seqs: number[]; scores: number[] }> {
  const m = rt.matrix;
  if (dims > m.width) return rescoreFromStore(items, kernel, query, seqs, dims, keep);
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
    const run: Kernel = attempt < TRIES ? kernel : jsKernel;
    const idx = Int32Array.from(slots);
    const scale = m.scales(slots, dims);
    // A kernel given the matrix itself may score unchanged parts of it from a device copy.
    const [top] = await run.rerank(m, [{ query: q, rowIdx: idx, rowScale: scale, k: keep }], dims);
    if (m.version !== version) continue;
    return { seqs: Array.from(top.indices, (i) => live[i]), scores: Array.from(top.scores) };
  }
}
/** Rows read from SQLite per kernel call when reranking beyond the resident width. */
const STORE_CHUNK = 2048;

/**
 * Dims beyond the resident width: the full vectors come from SQLite (slower, still exact), in
 * chunks read with a few `IN` queries, each chunk's top `keep` merged into a running top
 * (a stable sort keeps the earlier candidate first on equal scores, as one call would).
 */
async function rescoreFromStore(items: ItemStore, kernel: Kernel, query: Float32Array, seqs: number[], dims: number, keep: number): Promise<{ seqs: number[]; scores: number[] }> {
  const q = normalizedPrefix(query, dims);
  let best: { seq: number; score: number }[] = [];
  for (let i = 0; i < seqs.length; i += STORE_CHUNK) {
    const part = seqs.slice(i, i + STORE_CHUNK);
    const vectors = items.vectorsBySeqs(part);
    const live: number[] = [];
    const rows = new Float32Array(part.length * dims);
    const scale: number[] = [];
    for (const s of part) {
      const v = vectors.get(s);
      if (!v) continue;
      rows.set(v.subarray(0, dims), live.length * dims);
      const nrm = prefixNorm(v, 0, dims);
      scale.push(nrm > 0 ? 1 / nrm : 0);
      live.push(s);
    }
    if (live.length === 0) continue;
    const [top] = await kernel.topK(q, 1, rows.subarray(0, live.length * dims), live.length, dims, dims, Float32Array.from(scale), Math.min(keep, live.length));
    top.indices.forEach((idx, j) => best.push({ seq: live[idx], score: top.scores[j] }));
    if (best.length > keep) best = best.sort((a, b) => b.score - a.score).slice(0, keep);
  }
  best.sort((a, b) => b.score - a.score);
  return { seqs: best.map((b) => b.seq), scores: best.map((b) => b.score) };
}
