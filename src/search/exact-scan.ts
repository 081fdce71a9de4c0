import type { Kernel, TopK } from '../compute/kernel.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { int8Bounds } from './refine-bound.js';
import { refineStage } from './refine-stage.js';
import { lastTry, rerankRows, rerankRowsSync, syncKernel } from './retry.js';
import { rescoreFromStore } from './rescore-store.js';
import type { StageContext } from './stage-context.js';
import type { Scored } from './sources.js';

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

/**
 * Brute force over every live row at prefix `dims`, the k best: the ground truth (over quantised
 * rows, the plan's refine stage makes the top exact; over int8 rows each score comes with its
 * error bound). Rows past the matrix's width are read from the store. Runs again (retry.ts) only
 * when a write changed the matrix while the kernel ran.
 */
export async function exactScan(ctx: StageContext, dims: number, k: number): Promise<Scored> {
  const m = ctx.source.matrix;
  if (dims > m.width) return rescoreFromStore(ctx, Array.from(m.slotSeq.subarray(0, m.size)), dims, k);
  const q = ctx.prefix(dims);
  for (let attempt = 1; ; attempt++) {
    if (m.size === 0) return { seqs: [], scores: [] };
    const version = m.version;
    const top = lastTry(attempt) ? scanAllSync(m, q, dims, k) : await scanAll(ctx.kernel, m, q, dims, k);
    const seqs = Array.from(top.indices, (s) => m.slotSeq[s]); // read before the check: another thread may write
    const bounds = m.type === 'int8' ? int8Bounds(m, q, top.indices, identity, m.scaleAll(dims)) : undefined;
    if (m.version !== version) continue;
    return bounds ? { seqs, scores: Array.from(top.scores), bounds } : { seqs, scores: Array.from(top.scores) };
  }
}

/** exactScan, exact over quantised rows too: their scan keeps 4·k, refined from the full vectors (as a refine stage). */
export async function exactTop(ctx: StageContext, dims: number, k: number): Promise<Scored> {
  if (ctx.source.matrix.type === 'f32' || dims > ctx.source.matrix.width) return exactScan(ctx, dims, k);
  return refineStage(ctx, await exactScan(ctx, dims, 4 * k), dims, k);
}
