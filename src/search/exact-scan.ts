import { setImmediate as yieldToLoop } from 'node:timers/promises';
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

/** Rows a sliced exact scan reads in one turn of the event loop (a multiple of the matrix's 1,024-row stamp blocks). */
export const SLICE_ROWS = 4096;

/** One slice's top, read at matrix version `version`: its best `k` as slots (in the order the kernel ranks them) and scores. */
interface SliceTop {
  from: number;
  count: number;
  version: number;
  slots: number[];
  scores: number[];
}

/**
 * exactTop for a caller on the thread that writes the matrix (the live recall audit,
 * src/quality/audit.ts): the rows are scanned SLICE_ROWS at a time, yielding to the event loop
 * between slices, so a full scan of a large collection holds the thread that answers searches
 * for one slice (~1 ms at 256 dims), not for the whole matrix (tens of ms at 100k rows). Each
 * slice's top is kept with the matrix version it was read at; once all are read, one
 * synchronous pass checks every slice against the blocks' stamps (a write since its read,
 * rows appended, rows moved by a removal) and reads again, synchronously, only those that
 * changed, so what it returns is the exact top of the rows as they are at that moment.
 * Small matrices, prefixes past the resident width and a worker's read-only view take exactTop.
 */
export async function exactTopSliced(ctx: StageContext, dims: number, k: number): Promise<Scored> {
  const m = ctx.source.matrix;
  if (m.reader || dims > m.width || m.size <= SLICE_ROWS) return exactTop(ctx, dims, k);
  const q = ctx.prefix(dims);
  const keep = m.type === 'f32' ? k : 4 * k; // quantised rows: 4·k refined from the full vectors, as exactTop does
  const slices: SliceTop[] = [];
  for (let from = 0; from < m.size; from += SLICE_ROWS) {
    const s = await readSlice(ctx.kernel, m, q, dims, keep, from);
    if (s) slices.push(s);
    await yieldToLoop();
  }
  // Nothing on this thread writes between here and the return (no await below).
  const fresh: SliceTop[] = [];
  for (let from = 0; from < m.size; from += SLICE_ROWS) {
    const s = slices[from / SLICE_ROWS];
    const count = Math.min(SLICE_ROWS, m.size - from);
    fresh.push(s && s.count === count && m.rangeVersion(from, count) <= s.version ? s : readSliceSync(m, q, dims, keep, from));
  }
  const all: { slot: number; score: number }[] = [];
  for (const s of fresh) s.slots.forEach((slot, i) => all.push({ slot, score: s.scores[i] }));
  all.sort((a, b) => b.score - a.score || a.slot - b.slot); // as one scan ranks them: ties to the lower slot
  const top = all.slice(0, keep);
  const ranked = { seqs: top.map((t) => m.slotSeq[t.slot]), scores: top.map((t) => t.score) };
  return m.type === 'f32' ? ranked : refineStage(ctx, ranked, dims, k);
}

/** Slots [from, from + SLICE_ROWS) as the kernel ranks them at `dims`; null once the matrix shrank below `from`. */
async function readSlice(
  kernel: Kernel,
  m: ResidentMatrix,
  q: Float32Array,
  dims: number,
  k: number,
  from: number,
): Promise<SliceTop | null> {
  for (let attempt = 1; !lastTry(attempt); attempt++) {
    const version = m.version;
    const count = Math.min(SLICE_ROWS, m.size - from);
    if (count <= 0) return null;
    const top = await sliceTop(kernel, m, q, dims, k, from, count);
    // The kernel may run a turn later: its read stands only if no write reached these slots meanwhile.
    if (m.size >= from + count && m.rangeVersion(from, count) <= version) return asSlice(top, from, count, version);
  }
  return m.size > from ? readSliceSync(m, q, dims, k, from) : null;
}

function readSliceSync(m: ResidentMatrix, q: Float32Array, dims: number, k: number, from: number): SliceTop {
  const count = Math.min(SLICE_ROWS, m.size - from);
  const version = m.version;
  const a = sliceArgs(m, q, dims, k, from, count);
  const top =
    m.type === 'f32' ? syncKernel.topKSync(q, 1, a.rows, count, m.width, dims, a.item.rowScale, k)[0] : rerankRowsSync(m, a.item, dims);
  return asSlice(top, from, count, version);
}

function sliceTop(kernel: Kernel, m: ResidentMatrix, q: Float32Array, dims: number, k: number, from: number, count: number): Promise<TopK> {
  const a = sliceArgs(m, q, dims, k, from, count);
  const tops = m.type === 'f32' ? kernel.topK(q, 1, a.rows, count, m.width, dims, a.item.rowScale, k) : rerankRows(kernel, m, a.item, dims);
  return tops.then((t) => t[0]);
}

/** A slice's rows as one block (float32 rows) and as a rerank of its slots (quantised rows), with their scales at `dims`. */
function sliceArgs(m: ResidentMatrix, q: Float32Array, dims: number, k: number, from: number, count: number) {
  const slots = firstSlots(from + count).subarray(from);
  const rows = m.data.subarray(from * m.width, (from + count) * m.width);
  return { rows, item: { query: q, rowIdx: slots, rowScale: m.scales(slots, dims), k } };
}

/** Both kinds of top index their slice's rows from 0: slot = from + index. */
function asSlice(top: TopK, from: number, count: number, version: number): SliceTop {
  return { from, count, version, slots: Array.from(top.indices, (i) => from + i), scores: Array.from(top.scores) };
}
