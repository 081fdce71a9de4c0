/**
 * Batching window: a Kernel that holds the calls arriving within `windowUs` of the first one and
 * serves compatible calls with one launch of the kernel it wraps, so that on a GPU one upload of
 * the matrix and one launch serve many concurrent queries. createKernel puts it in front of any
 * kernel when MRL_BATCH_WINDOW_US > 0; it is on by default only with MRL_KERNEL=gpu (hence gpu/).
 *
 * - topK calls over the same rows (same buffer, n, stride, d and rowScale) are stacked into one
 *   B = Σ B_i call with the largest k; each caller keeps its own first min(k, n) entries.
 * - rerank calls over the same matrix and d are merged into one rerank call of the inner kernel
 *   (on ONNX, one padded, masked graph). Lists of very unequal length are kept apart (grouped by
 *   the bit length of a call's longest row list) to bound the padding.
 * Results equal the unbatched ones up to float rounding (another GEMM shape may sum in another
 * order: scores agree to ~1e-6, and ranks can differ only between rows whose scores tie to that).
 *
 * Arguments are checked per call before queueing, so a bad call rejects alone; a launch that
 * fails rejects the callers of that launch only. The timer exists only while calls are pending
 * and close() clears it, serves what is pending, then closes the inner kernel.
 */
import { checkRerankArgs, checkTopKArgs } from '../check-args.js';
import { emptyLists } from '../js-kernel.js';
import type { BatchStats, Kernel, RerankMatrix, RowsQuery, TopK, TopKArgs } from '../kernel.js';

export interface BatchWindowOptions {
  /** µs to collect calls after the first pending one; below 1000 µs the window is kept by setImmediate turns. */
  windowUs: number;
  /** Most queries one launch serves; a full group launches at once. */
  maxBatch: number;
  /** Most floats one padded rows launch may gather ([B, L, stride], whole rows at worst); default 2^24 (64 MB). */
  maxRowsFloats?: number;
}

interface Settle {
  resolve(r: TopK[]): void;
  reject(err: unknown): void;
}
interface Caller extends Settle {
  queries: Float32Array;
  B: number;
  k: number;
}
interface RerankCaller extends Settle {
  items: RowsQuery[];
}
interface ScanGroup {
  kind: 'scan';
  rows: Float32Array;
  n: number;
  stride: number;
  d: number;
  rowScale: Float32Array;
  calls: Caller[];
  nq: number;
}
interface RerankGroup {
  kind: 'rerank';
  matrix: RerankMatrix;
  d: number;
  bucket: number;
  calls: RerankCaller[];
  nq: number;
  maxL: number;
}
type Group = ScanGroup | RerankGroup;

const truncate = (t: TopK, kk: number): TopK =>
  t.indices.length <= kk ? t : { indices: t.indices.slice(0, kk), scores: t.scores.slice(0, kk) };

export class BatchWindowKernel implements Kernel {
  readonly name: string;
  private groups: Group[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private windowStart = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  private counts = { calls: 0, launches: 0, queries: 0 };
  private readonly maxRowsFloats: number;

  constructor(
    readonly inner: Kernel,
    readonly opts: BatchWindowOptions,
  ) {
    if (!(opts.windowUs > 0) || !Number.isInteger(opts.maxBatch) || opts.maxBatch < 1)
      throw new RangeError('BatchWindowKernel: windowUs must be > 0 and maxBatch a positive integer');
    this.name = inner.name;
    this.maxRowsFloats = opts.maxRowsFloats ?? 1 << 24;
  }

  get batch() {
    return { stats: () => this.stats() };
  }

  stats(): BatchStats {
    const { calls, launches, queries } = this.counts;
    return {
      windowUs: this.opts.windowUs,
      maxBatch: this.opts.maxBatch,
      calls,
      launches,
      queries,
      meanBatchSize: launches ? queries / launches : 0,
    };
  }

  // async: a closed window or a bad call rejects (with the check's RangeError), never throws; the
  // body still runs synchronously up to the queueing, so calls join groups in call order.
  async topK(...args: TopKArgs): Promise<TopK[]> {
    if (this.closed) throw new Error('kernel is closed');
    checkTopKArgs(...args);
    const [queries, B, rows, n, stride, d, rowScale, k] = args;
    if (B === 0) return [];
    if (n === 0) return emptyLists(B);
    this.counts.calls++;
    return new Promise((resolve, reject) => {
      const caller: Caller = { queries: queries.subarray(0, B * d), B, k, resolve, reject };
      let g = this.groups.find(
        (x): x is ScanGroup =>
          x.kind === 'scan' && x.rows === rows && x.n === n && x.stride === stride && x.d === d && x.rowScale === rowScale,
      );
      if (g && g.nq + B > this.opts.maxBatch) {
        this.flush(g);
        g = undefined;
      }
      if (!g) this.groups.push((g = { kind: 'scan', rows, n, stride, d, rowScale, calls: [], nq: 0 }));
      g.calls.push(caller);
      g.nq += B;
      this.admitted(g);
    });
  }

  async rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    if (this.closed) throw new Error('kernel is closed');
    checkRerankArgs(matrix, items, d);
    let L = 0;
    for (const it of items) L = Math.max(L, it.rowIdx.length);
    if (L === 0) return emptyLists(items.length);
    const stride = matrix.width;
    const B = items.length;
    this.counts.calls++;
    return new Promise((resolve, reject) => {
      const caller: RerankCaller = { items: items.map((it) => ({ ...it, query: it.query.subarray(0, d) })), resolve, reject };
      const bucket = 32 - Math.clz32(L);
      let g = this.groups.find((x): x is RerankGroup => x.kind === 'rerank' && x.matrix === matrix && x.d === d && x.bucket === bucket);
      if (g && (g.nq + B > this.opts.maxBatch || (g.nq + B) * Math.max(g.maxL, L) * stride > this.maxRowsFloats)) {
        this.flush(g);
        g = undefined;
      }
      if (!g) this.groups.push((g = { kind: 'rerank', matrix, d, bucket, calls: [], nq: 0, maxL: 0 }));
      g.calls.push(caller);
      g.nq += B;
      g.maxL = Math.max(g.maxL, L);
      this.admitted(g);
    });
  }

  /** A call joined g: launch g if full, else make sure the window is open. */
  private admitted(g: Group): void {
    if (g.nq >= this.opts.maxBatch) {
      this.flush(g);
      if (this.groups.length === 0) this.stopTimer();
      return;
    }
    if (this.timer || this.immediate) return;
    const ms = this.opts.windowUs / 1000;
    if (ms >= 1) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushAll();
      }, ms);
    } else {
      // setTimeout cannot wait less than 1 ms: keep the window open across event-loop turns
      // (each turn still polls I/O, so new requests get in) until windowUs has passed.
      this.windowStart = performance.now();
      const turn = () => {
        this.immediate = null;
        if (performance.now() - this.windowStart >= ms) this.flushAll();
        else this.immediate = setImmediate(turn);
      };
      this.immediate = setImmediate(turn);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private flushAll(): void {
    this.stopTimer();
    const groups = this.groups;
    this.groups = [];
    for (const g of groups) this.run(g);
  }

  private flush(g: Group): void {
    this.groups = this.groups.filter((x) => x !== g);
    this.run(g);
  }

  /** Launches one group and settles its callers; never throws, never leaves a rejection unhandled. */
  private run(g: Group): void {
    const calls: Settle[] = g.calls;
    const done = this.launchGroup(g).then(
      (perCall) => perCall.forEach((r, i) => calls[i].resolve(r)),
      (err) => calls.forEach((c) => c.reject(err)),
    );
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /** Results per caller, in order; async, so an inner kernel that throws synchronously rejects it too. */
  private async launchGroup(g: Group): Promise<TopK[][]> {
    const inner = this.inner;
    if (g.kind === 'scan') {
      const { rows, n, stride, d, rowScale, calls } = g;
      this.count(1, g.nq);
      if (calls.length === 1) {
        const c = calls[0];
        return [await inner.topK(c.queries, c.B, rows, n, stride, d, rowScale, c.k)];
      }
      const stacked = new Float32Array(g.nq * d);
      let kMax = 0;
      let o = 0;
      for (const c of calls) {
        stacked.set(c.queries, o * d);
        o += c.B;
        kMax = Math.max(kMax, c.k);
      }
      const all = await inner.topK(stacked, g.nq, rows, n, stride, d, rowScale, kMax);
      return split(all, calls, (c) => Math.min(c.k, n));
    }
    const { matrix, d, calls } = g;
    this.count(1, g.nq);
    const items = calls.length === 1 ? calls[0].items : calls.flatMap((c) => c.items);
    const all = await inner.rerank(matrix, items, d);
    if (all.length !== items.length) throw new Error(`batched launch returned ${all.length} lists for ${items.length} queries`);
    const out: TopK[][] = [];
    let o = 0;
    for (const c of calls) {
      out.push(all.slice(o, o + c.items.length));
      o += c.items.length;
    }
    return out;
  }

  private count(launches: number, queries: number): void {
    this.counts.launches += launches;
    this.counts.queries += queries;
  }

  /** Serves what is pending, waits for launches in flight, then closes the inner kernel. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushAll();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    await this.inner.close();
  }
}

/** Cuts one launch's B = Σ B_i results back into the callers' lists, each cut to its own k. */
function split(all: TopK[], calls: Caller[], kk: (c: Caller) => number): TopK[][] {
  const total = calls.reduce((s, c) => s + c.B, 0);
  if (all.length !== total) throw new Error(`batched launch returned ${all.length} lists for ${total} queries`);
  const out: TopK[][] = [];
  let o = 0;
  for (const c of calls) {
    const want = kk(c);
    out.push(all.slice(o, o + c.B).map((t) => truncate(t, want)));
    o += c.B;
  }
  return out;
}
