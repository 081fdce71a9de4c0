import type { Kernel, TopK } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { lastTry, rerankRows, rerankRowsSync, syncKernel } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { Scored, SearchSource, VectorsBySeq } from './sources.js';

/** Rows of 0, 1, 2, … are made in steps of this many (one array shared by every scan). */
const IDENTITY_STEP = 65_536;
let identity = new Int32Array(0);

/** 0, 1, …, n−1, a view of the one shared array (kernels only read row indices), grown when a matrix outgrows it. */
function firstSlots(n: number): Int32Array {
  if (identity.length < n) {
    identity = new Int32Array(Math.ceil(n / IDENTITY_STEP) * IDENTITY_STEP);
    for (let i = 0; i < identity.length; i++) identity[i] = i;
  }
  return identity.subarray(0, n);
}

/** The arguments of a scan of every slot at prefix `dims`: all rows, as a rerank of every slot for quantised ones. */
function allRows(m: ResidentMatrix, q: Float32Array, dims: number, k: number) {
  const rowScale = m.scaleAll(dims); // one per slot: its length is the size scanned (another thread may add rows meanwhile)
  return { query: q, rowIdx: firstSlots(m.type === 'f32' ? 0 : rowScale.length), rowScale, k };
}

async function scanAll(kernel: Kernel, m: ResidentMatrix, q: Float32Array, dims: number, k: number): Promise<TopK> {
  const it = allRows(m, q, dims, k);
  if (m.type === 'f32') return (await kernel.topK(q, 1, m.data, it.rowScale.length, m.width, dims, it.rowScale, k))[0];
  return (await rerankRows(kernel, m, it, dims))[0];
}

function scanAllSync(m: ResidentMatrix, q: Float32Array, dims: number, k: number): TopK {
  const it = allRows(m, q, dims, k);
  if (m.type === 'f32') return syncKernel.topKSync(q, 1, m.data, it.rowScale.length, m.width, dims, it.rowScale, k)[0];
  return rerankRowsSync(m, it, dims);
}

/** The k best live rows of a collection for `query` at prefix `dims`; rows past the matrix's width are read from `vectors`. */
type ExactSearch = (
  src: SearchSource,
  vectors: VectorsBySeq,
  kernel: Kernel,
  query: Float32Array,
  dims: number,
  k: number,
) => Promise<Scored>;

/**
 * Brute force over every live row at prefix `dims`: the ground truth (over quantised rows, the
 * plan's refine stage makes the top exact). Runs again (retry.ts) only when a write changed the
 * matrix while the kernel ran.
 */
export const exactScan: ExactSearch = async (src, vectors, kernel, query, dims, k) => {
  const m = src.matrix;
  if (dims > m.width) return rescoreFromStore(vectors, kernel, query, Array.from(m.slotSeq.subarray(0, m.size)), dims, k);
  if (m.size === 0) return { seqs: [], scores: [] };
  const q = normalizedPrefix(query, dims);
  for (let attempt = 1; ; attempt++) {
    if (m.size === 0) return { seqs: [], scores: [] };
    const version = m.version;
    const top = lastTry(attempt) ? scanAllSync(m, q, dims, k) : await scanAll(kernel, m, q, dims, k);
    const seqs = Array.from(top.indices, (s) => m.slotSeq[s]); // read before the check: another thread may write
    if (m.version !== version) continue;
    return { seqs, scores: Array.from(top.scores) };
  }
};

/** exactScan, exact over quantised rows too: their scan keeps 4·k, rescored from the full vectors (as a refine stage). */
export const exactTop: ExactSearch = async (src, vectors, kernel, query, dims, k) => {
  if (src.matrix.type === 'f32' || dims > src.matrix.width) return exactScan(src, vectors, kernel, query, dims, k);
  const wide = await exactScan(src, vectors, kernel, query, dims, 4 * k);
  return rescoreFromStore(vectors, kernel, query, wide.seqs, dims, k);
};
