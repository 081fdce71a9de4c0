/**
 * The plain TypeScript kernel: the reference for the ONNX kernel, the fast path for tiny work
 * (create-kernel.ts routes it there), and the synchronous last try of a search.
 * Rows are the outer loop and queries the inner one, so each row is read from memory once per
 * call whatever B is; every query keeps a bounded min-heap of its best k (worst at the root).
 */
import { HALF_TABLE } from '../core/quantize.js';
import { checkQuantizedArgs, checkSelectedRowsArgs, checkTopKArgs } from './check-args.js';
import type { Kernel, QuantizedMatrix, RerankMatrix, RowsQuery, TopK, TopKArgs, TopKRowsArgs } from './kernel.js';

/** Bounded heap of (score, index); root is the worst kept entry: lowest score, then highest index. */
class TopKHeap {
  readonly scores: Float32Array;
  readonly idx: Int32Array;
  size = 0;
  constructor(readonly k: number) {
    this.scores = new Float32Array(k);
    this.idx = new Int32Array(k);
  }
  /** a is worse than b */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }
  /** Offer index i with score s; indices must arrive in increasing order (so a tie never displaces). */
  push(s: number, i: number): void {
    if (this.size < this.k) {
      let c = this.size++;
      // sift up
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!this.worse(s, i, this.scores[p], this.idx[p])) break;
        this.scores[c] = this.scores[p];
        this.idx[c] = this.idx[p];
        c = p;
      }
      this.scores[c] = s;
      this.idx[c] = i;
    } else if (s > this.scores[0]) {
      this.replaceRoot(s, i, this.size);
    }
  }
  /** Put (s, i) at the root of the first `size` entries and sift it down. */
  private replaceRoot(s: number, i: number, size: number): void {
    const sc = this.scores;
    const ix = this.idx;
    let p = 0;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      if (c + 1 < size && this.worse(sc[c + 1], ix[c + 1], sc[c], ix[c])) c++;
      if (!this.worse(sc[c], ix[c], s, i)) break;
      sc[p] = sc[c];
      ix[p] = ix[c];
      p = c;
    }
    sc[p] = s;
    ix[p] = i;
  }
  /** Heap-sort in place: repeatedly move the worst to the end, leaving best-first order. */
  drain(): TopK {
    for (let end = this.size - 1; end > 0; end--) {
      const s = this.scores[0];
      const i = this.idx[0];
      this.replaceRoot(this.scores[end], this.idx[end], end);
      this.scores[end] = s;
      this.idx[end] = i;
    }
    return { indices: this.idx.subarray(0, this.size), scores: this.scores.subarray(0, this.size) };
  }
}

/** a[ao .. ao+d) · b[bo .. bo+d), four accumulators (lets V8 overlap the dependent adds). */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const end4 = ao + d - (d & 3);
  let i = ao;
  let j = bo;
  for (; i < end4; i += 4, j += 4) {
    s0 += a[i] * b[j];
    s1 += a[i + 1] * b[j + 1];
    s2 += a[i + 2] * b[j + 2];
    s3 += a[i + 3] * b[j + 3];
  }
  for (; i < ao + d; i++, j++) s0 += a[i] * b[j];
  return s0 + s1 + s2 + s3;
}

/** q[0 .. d) · codes[co .. co+d) (int8 codes, the row's scale applied by the caller). */
function dotInt8(q: Float32Array, codes: Int8Array, co: number, d: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const end4 = d - (d & 3);
  let i = 0;
  for (; i < end4; i += 4) {
    s0 += q[i] * codes[co + i];
    s1 += q[i + 1] * codes[co + i + 1];
    s2 += q[i + 2] * codes[co + i + 2];
    s3 += q[i + 3] * codes[co + i + 3];
  }
  for (; i < d; i++) s0 += q[i] * codes[co + i];
  return s0 + s1 + s2 + s3;
}

/** q[0 .. d) · half[ho .. ho+d) decoded through HALF_TABLE. */
function dotHalf(q: Float32Array, half: Uint16Array, ho: number, d: number): number {
  const t = HALF_TABLE;
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const end4 = d - (d & 3);
  let i = 0;
  for (; i < end4; i += 4) {
    s0 += q[i] * t[half[ho + i]];
    s1 += q[i + 1] * t[half[ho + i + 1]];
    s2 += q[i + 2] * t[half[ho + i + 2]];
    s3 += q[i + 3] * t[half[ho + i + 3]];
  }
  for (; i < d; i++) s0 += q[i] * t[half[ho + i]];
  return s0 + s1 + s2 + s3;
}

/** One query's top k over its quantised rows (slots), as scan() ranks them. */
function scanQuantized(m: QuantizedMatrix, it: RowsQuery, d: number): TopK {
  const n = it.rowIdx.length;
  const heap = new TopKHeap(Math.min(it.k, n));
  if (heap.k === 0) return heap.drain();
  const w = m.width;
  const int8 = m.type === 'int8';
  for (let i = 0; i < n; i++) {
    const slot = it.rowIdx[i];
    const scale = it.rowScale[i];
    let s = 0;
    if (scale !== 0)
      s = Math.fround(
        (int8 ? dotInt8(it.query, m.codes, slot * w, d) * m.codeScale[slot] : dotHalf(it.query, m.half, slot * w, d)) * scale,
      );
    heap.push(s, i);
  }
  return heap.drain();
}

/** Top k of B queries over n rows, row i starting at rowOffset(i) in `data`. */
function scan(
  queries: Float32Array,
  B: number,
  d: number,
  data: Float32Array,
  n: number,
  rowOffset: (i: number) => number,
  rowScale: Float32Array,
  k: number,
): TopK[] {
  const kk = Math.min(k, n);
  const heaps: TopKHeap[] = [];
  for (let b = 0; b < B; b++) heaps.push(new TopKHeap(kk));
  if (kk === 0) return heaps.map((h) => h.drain());
  for (let i = 0; i < n; i++) {
    const scale = rowScale[i];
    const r = rowOffset(i);
    for (let b = 0; b < B; b++) {
      // Round to float32 before comparing so ranking and ties are those of the returned scores.
      const s = scale === 0 ? 0 : Math.fround(dot(queries, b * d, data, r, d) * scale);
      heaps[b].push(s, i);
    }
  }
  return heaps.map((h) => h.drain());
}

/** B empty lists: the result of a call with no rows to rank (k clamps to 0). */
export const emptyLists = (B: number): TopK[] =>
  Array.from({ length: B }, () => ({ indices: new Int32Array(0), scores: new Float32Array(0) }));

export class JsKernel implements Kernel {
  readonly name = 'js';

  async topK(...args: TopKArgs): Promise<TopK[]> {
    return this.topKSync(...args);
  }

  topKSync(...args: TopKArgs): TopK[] {
    checkTopKArgs(...args);
    const [queries, B, rows, n, stride, d, rowScale, k] = args;
    return scan(queries, B, d, rows, n, (i) => i * stride, rowScale, k);
  }

  /** B queries over the same selected rows of a matrix (row i is matrix[rowIdx[i]·stride …]): one rerank list. */
  async topKRows(...args: TopKRowsArgs): Promise<TopK[]> {
    return this.topKRowsSync(...args);
  }

  topKRowsSync(...args: TopKRowsArgs): TopK[] {
    checkSelectedRowsArgs(...args);
    const [queries, B, matrix, stride, rowIdx, d, rowScale, k] = args;
    return scan(queries, B, d, matrix, rowIdx.length, (i) => rowIdx[i] * stride, rowScale, k);
  }

  /** One query at a time: the reference for the batched ONNX graph. */
  async rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    return items.map((it) => this.topKRowsSync(it.query, 1, matrix.data, matrix.width, it.rowIdx, d, it.rowScale, it.k)[0]);
  }

  async rerankQuantized(matrix: QuantizedMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    return this.rerankQuantizedSync(matrix, items, d);
  }

  rerankQuantizedSync(matrix: QuantizedMatrix, items: RowsQuery[], d: number): TopK[] {
    checkQuantizedArgs(matrix, items, d);
    return items.map((it) => scanQuantized(matrix, it, d));
  }

  async close(): Promise<void> {}
}
