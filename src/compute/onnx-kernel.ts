/**
 * The kernel on onnxruntime-node: one Gemm + Mul + TopK graph per exact scan, a Gather graph
 * (or a host gather) per single rerank, one batched rows graph for several reranks at once.
 * The CPU execution provider by default; gpu/gpu-kernel.ts creates it on a GPU provider.
 *
 * Inputs are not copied: onnxruntime-node wraps a Float32Array's memory as the OrtValue
 * (bench/kernels.ts "copy probe": a Shape-only graph, Tensor creation included, takes a median
 * 0.020 ms fed a 100k×512 float32 tensor (205 MB) vs 0.012-0.018 ms fed 1×512; a 205 MB memcpy
 * would take ≥ 10 ms). So passing the whole row matrix on every exact search costs nothing
 * beyond the arithmetic.
 * Outputs (B×k values and indices) are copied back into JS arrays, which is small.
 *
 * Note: onnxruntime-node 1.30's run() executes synchronously on the main thread (after a
 * setImmediate hop); a long exact search blocks the event loop for its duration.
 */
import * as ort from 'onnxruntime-node';
import { checkQuantizedArgs, checkSelectedRowsArgs, checkTopKArgs } from './check-args.js';
import { emptyLists, JsKernel } from './js-kernel.js';
import type { Kernel, QuantizedMatrix, RerankMatrix, RowsQuery, TopK, TopKArgs, TopKRowsArgs } from './kernel.js';
import { batchedRowsTopKModel, gatherTopKModel, scoreTopKModel } from './onnx-model.js';
import { QuantizedRerank } from './onnx-quantized.js';

type Variant = 'full' | 'sliced' | 'gather' | 'rowsGather' | 'rowsDense';

/**
 * For d < stride there are two ways to use only the first d columns: Slice M to [n,d] (the
 * 'sliced' graph; costs a copy of n×d floats, about as dear as a B=1 GEMV over all n×stride), or
 * zero-pad the queries to stride and run the 'full' graph on all columns (costs stride/d more
 * arithmetic, which only matters once B is large; and assumes finite values past column d, as
 * 0·Inf = NaN). Measured (shared 2-core box, ±30%), n=100k, stride=512, 2 threads, median ms
 * sliced/padded: B=1: d=64 17/24, d=128 26/18, d=256 49/21, d=384 67/22; B=16: d=64 30/37,
 * d=128 37/36, d=256 62/41; B=64: d=64 42/80, d=128 56/80, d=256 89/82, d=384 156/117.
 */
export function columnStrategy(B: number, d: number, stride: number): 'full' | 'sliced' | 'padded' {
  if (d === stride) return 'full';
  return d * 8 <= stride || (B >= 32 && d * 4 <= stride) ? 'sliced' : 'padded';
}

/** B×d queries → B×stride, zeros after column d: q·row over all columns = q·row[0:d]. */
function padQueries(queries: Float32Array, B: number, d: number, stride: number): Float32Array {
  const out = new Float32Array(B * stride);
  for (let b = 0; b < B; b++) out.set(queries.subarray(b * d, b * d + d), b * stride);
  return out;
}

export class OnnxKernel implements Kernel {
  name = 'onnx-cpu';
  private closed = false;

  private constructor(
    private readonly single: Record<Variant, ort.InferenceSession>,
    private readonly parallel: Record<Variant, ort.InferenceSession> | null,
  ) {}

  /**
   * Sessions are created once. Small work (a shortlist rerank) runs on one thread: on a
   * 2-core host, waking a second intra-op thread costs more than it saves and gave p99 tails
   * of 10-16 ms against ~1-3 ms single-threaded (bench/search.ts, 100k × 768, K=200..1000).
   * Large work (exact scans) uses `threads` threads, without spin-waiting between calls so
   * idle workers do not steal the event loop's core.
   */
  static async create(opts: { threads?: number; provider?: 'cuda' | 'webgpu' } = {}): Promise<OnnxKernel> {
    const threads = opts.threads ?? 2;
    // A GPU provider comes first; ORT places the nodes it cannot run (e.g. TopK) on the CPU.
    const base: ort.InferenceSession.SessionOptions = {
      executionProviders: opts.provider ? [opts.provider, 'cpu'] : ['cpu'],
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    };
    const make = async (options: ort.InferenceSession.SessionOptions): Promise<Record<Variant, ort.InferenceSession>> => {
      const [full, sliced, gather, rowsGather, rowsDense] = await Promise.all([
        ort.InferenceSession.create(scoreTopKModel('full'), options),
        ort.InferenceSession.create(scoreTopKModel('sliced'), options),
        ort.InferenceSession.create(gatherTopKModel(), options),
        ort.InferenceSession.create(batchedRowsTopKModel('gather'), options),
        ort.InferenceSession.create(batchedRowsTopKModel('dense'), options),
      ]);
      return { full, sliced, gather, rowsGather, rowsDense };
    };
    const single = await make({ ...base, intraOpNumThreads: 1 });
    const parallel =
      threads > 1 && !opts.provider
        ? await make({ ...base, intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: '0' } } } })
        : null;
    const kernel = new OnnxKernel(single, opts.provider ? null : parallel);
    // Quantised rows on the CPU only: a GPU provider would copy the whole code matrix per run.
    if (!opts.provider) kernel.quantized = await QuantizedRerank.create({ ...base, intraOpNumThreads: 1 });
    if (opts.provider) {
      kernel.name = `onnx-${opts.provider}`;
      kernel.gatherOnHost = true;
    }
    return kernel;
  }

  /**
   * Gather a rerank's rows in JS and feed only those, never the whole matrix. On the CPU EP the
   * matrix is wrapped, not copied, so ORT's Gather is cheaper when d is close to stride; a GPU
   * provider copies every input to the device on every run, and the whole matrix (hundreds of
   * MB) would cross the bus for a shortlist of a few hundred rows.
   */
  private gatherOnHost = false;
  private quantized: QuantizedRerank | null = null;

  /** Multiply-adds from which a call is worth several threads. */
  static readonly PARALLEL_MIN_MACS = 1 << 22;

  private sessions(macs: number): Record<Variant, ort.InferenceSession> {
    return this.parallel && macs >= OnnxKernel.PARALLEL_MIN_MACS ? this.parallel : this.single;
  }

  async topK(...args: TopKArgs): Promise<TopK[]> {
    if (this.closed) throw new Error('OnnxKernel is closed');
    checkTopKArgs(...args);
    const [queries, B, rows, n, stride, d, rowScale, k] = args;
    const kk = Math.min(k, n);
    if (B === 0 || kk === 0) return emptyLists(B);

    const strategy = columnStrategy(B, d, stride);
    const sliced = strategy === 'sliced';
    // subarray() views, never copies: tensors need data length == product of dims exactly.
    const feeds: Record<string, ort.Tensor> = {
      Q:
        strategy === 'padded'
          ? new ort.Tensor('float32', padQueries(queries, B, d, stride), [B, stride])
          : new ort.Tensor('float32', queries.subarray(0, B * d), [B, d]),
      M: new ort.Tensor('float32', rows.subarray(0, n * stride), [n, stride]),
      S: new ort.Tensor('float32', rowScale.subarray(0, n), [n]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
    };
    if (sliced) feeds.E = new ort.Tensor('int64', BigInt64Array.of(BigInt(d)), [1]);
    const out = await this.sessions(B * n * d)[sliced ? 'sliced' : 'full'].run(feeds);
    return unpack(out, B, kk);
  }

  /**
   * One query alone goes through topKRows (ORT's Gather, or a host gather and the 'full' graph),
   * several through one run of the batched rows graph.
   */
  async rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    if (items.length === 1) {
      const it = items[0];
      return this.topKRows(it.query, 1, matrix.data, matrix.width, it.rowIdx, d, it.rowScale, it.k);
    }
    return this.rowsBatched(items, matrix.data, matrix.width, d);
  }

  /** Reranks over int8 or f16 rows (onnx-quantized.ts); the JS kernel's loops where no session exists. */
  async rerankQuantized(matrix: QuantizedMatrix, items: RowsQuery[], d: number): Promise<TopK[]> {
    if (this.closed) throw new Error('OnnxKernel is closed');
    checkQuantizedArgs(matrix, items, d);
    if (!this.quantized) return new JsKernel().rerankQuantizedSync(matrix, items, d);
    return this.quantized.run(matrix, items, d, unpack);
  }

  /**
   * B queries over the same selected rows of a wrapped (not copied) matrix: ORT gathers them natively. When the prefix
   * is much shorter than the row, gathering whole rows wastes bandwidth, so the first d columns
   * are copied in JS instead and the 'full' graph runs on them.
   */
  async topKRows(...args: TopKRowsArgs): Promise<TopK[]> {
    if (this.closed) throw new Error('OnnxKernel is closed');
    checkSelectedRowsArgs(...args);
    const [queries, B, matrix, stride, rowIdx, d, rowScale, k] = args;
    const n = rowIdx.length;
    const kk = Math.min(k, n);
    if (B === 0 || kk === 0) return emptyLists(B);
    if (d * 2 < stride || this.gatherOnHost) {
      const rows = new Float32Array(n * d);
      for (let i = 0; i < n; i++) rows.set(matrix.subarray(rowIdx[i] * stride, rowIdx[i] * stride + d), i * d);
      return this.topK(queries, B, rows, n, d, d, rowScale, k);
    }
    const usable = Math.floor(matrix.length / stride) * stride;
    const feeds: Record<string, ort.Tensor> = {
      Q: new ort.Tensor('float32', d === stride ? queries.subarray(0, B * d) : padQueries(queries, B, d, stride), [B, stride]),
      M: new ort.Tensor('float32', matrix.subarray(0, usable), [usable / stride, stride]),
      I: new ort.Tensor('int32', rowIdx, [n]),
      S: new ort.Tensor('float32', rowScale.subarray(0, n), [n]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
    };
    return unpack(await this.sessions(B * n * stride).gather.run(feeds), B, kk);
  }

  /**
   * Many queries, each over its own candidate rows, in one run of the batched rows graph: rows
   * lists are padded to the longest (L) and the padding masked to -Inf, TopK takes the largest
   * k any query wants, and each query keeps its own first min(k, n) entries.
   */
  private async rowsBatched(items: RowsQuery[], matrix: Float32Array, stride: number, d: number): Promise<TopK[]> {
    if (this.closed) throw new Error('OnnxKernel is closed');
    const B = items.length;
    let L = 0;
    let kMax = 0;
    for (const it of items) {
      checkSelectedRowsArgs(it.query, 1, matrix, stride, it.rowIdx, d, it.rowScale, it.k);
      L = Math.max(L, it.rowIdx.length);
      kMax = Math.max(kMax, Math.min(it.k, it.rowIdx.length));
    }
    if (kMax === 0) return emptyLists(B);
    const dense = d * 2 < stride || this.gatherOnHost;
    const width = dense ? d : stride;
    const q = new Float32Array(B * width);
    const S = new Float32Array(B * L);
    const P = new Float32Array(B * L);
    items.forEach((it, b) => {
      q.set(it.query.subarray(0, d), b * width);
      S.set(it.rowScale.subarray(0, it.rowIdx.length), b * L);
      P.fill(-Infinity, b * L + it.rowIdx.length, (b + 1) * L);
    });
    const feeds: Record<string, ort.Tensor> = {
      Q: new ort.Tensor('float32', q, [B, width, 1]),
      S: new ort.Tensor('float32', S, [B, L]),
      P: new ort.Tensor('float32', P, [B, L]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kMax)), [1]),
    };
    if (dense) {
      // Padding rows stay zero (score 0, then -Inf from P).
      const R = new Float32Array(B * L * d);
      items.forEach((it, b) => {
        for (let i = 0; i < it.rowIdx.length; i++)
          R.set(matrix.subarray(it.rowIdx[i] * stride, it.rowIdx[i] * stride + d), (b * L + i) * d);
      });
      feeds.R = new ort.Tensor('float32', R, [B, L, d]);
    } else {
      const I = new Int32Array(B * L); // padding gathers row 0, which exists since L > 0
      items.forEach((it, b) => I.set(it.rowIdx, b * L));
      const usable = Math.floor(matrix.length / stride) * stride;
      feeds.M = new ort.Tensor('float32', matrix.subarray(0, usable), [usable / stride, stride]);
      feeds.I = new ort.Tensor('int32', I, [B, L]);
    }
    const out = await this.sessions(B * L * width)[dense ? 'rowsDense' : 'rowsGather'].run(feeds);
    return unpack(out, B, kMax).map((t, b) => {
      const kk = Math.min(items[b].k, items[b].rowIdx.length);
      return kk === kMax ? t : { indices: t.indices.slice(0, kk), scores: t.scores.slice(0, kk) };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...Object.values(this.single), ...Object.values(this.parallel ?? {})].map((s) => s.release()));
    await this.quantized?.release();
  }
}

/** The TopK outputs (values, indices [B, kk]) as B lists. */
export function unpack(out: ort.InferenceSession.ReturnType, B: number, kk: number): TopK[] {
  const values = out.values.data as Float32Array;
  const indices = out.indices.data as BigInt64Array;

  const result: TopK[] = [];
  for (let b = 0; b < B; b++) {
    const idx = new Int32Array(kk);
    const base = b * kk;
    for (let j = 0; j < kk; j++) idx[j] = Number(indices[base + j]);
    result.push({ indices: idx, scores: values.slice(base, base + kk) });
  }
  return result;
}
