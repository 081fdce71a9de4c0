/**
 * Vector kernels: scores and top-k of a batch of queries against rows.
 * Two implementations: onnxruntime-node on the CPU EP (onnx-kernel.ts) and plain TypeScript
 * (js-kernel.ts, the reference). createKernel picks one, and wraps it in the batching window
 * (batch-window.ts) when one is configured.
 */
import type { ResidentMatrix } from '../core/resident-matrix.js';
import { BatchWindowKernel, type BatchStats } from './batch-window.js';
import { JsKernel } from './js-kernel.js';
import type { ResidentStats } from './resident-segments.js';

export interface TopK { indices: Int32Array; scores: Float32Array } // sorted by score descending; ties broken by lower index; length min(k, n)
/** One query of a topKRowsMulti call: d values, its own candidate rows, their scales and its k. */
export interface RowsQuery { query: Float32Array; rowIdx: Int32Array; rowScale: Float32Array; k: number }
export interface Kernel {
  readonly name: string; // 'onnx-cpu' or 'js'
  /**
   * queries: B × d float32, row-major, each already L2-normalised at d.
   * rows: n × stride float32, row-major; only the first d columns of each row are used (1 ≤ d ≤ stride).
   * rowScale: length n; the score of row i is (q · rows[i][0:d]) * rowScale[i]  (the caller passes 1/||rows[i][0:d]||, or 0 for a zero row).
   * Returns, for each of the B queries, the top k (k ≥ 1; clamp to n) indices into rows and their scores.
   */
  topK(queries: Float32Array, B: number, rows: Float32Array, n: number, stride: number, d: number, rowScale: Float32Array, k: number): Promise<TopK[]>;
  /**
   * The same over selected rows of a matrix (row i is matrix[rowIdx[i]·stride …]), without
   * gathering them in JS first: the rerank of a shortlist against the resident matrix.
   */
  topKRows(queries: Float32Array, B: number, matrix: Float32Array, stride: number, rowIdx: Int32Array, d: number, rowScale: Float32Array, k: number): Promise<TopK[]>;
  /**
   * Optional: several queries over one matrix, each with its own rows and k, in one launch (what
   * the batching window uses to merge concurrent reranks). result[i] equals
   * topKRows(q_i, 1, matrix, stride, rowIdx_i, d, rowScale_i, k_i)[0] up to float rounding.
   */
  topKRowsMulti?(items: RowsQuery[], matrix: Float32Array, stride: number, d: number): Promise<TopK[]>;
  /**
   * Optional: the rerank of one query over rows (slots) of a ResidentMatrix, given the matrix
   * itself rather than its buffer, so that a kernel keeping unchanged parts of it on a device can
   * tell which parts those are (resident-kernel.ts). Equals
   * topKRows(query, 1, matrix.data, matrix.width, slots, d, scale, k)[0] up to float rounding.
   */
  topKMatrixRows?(matrix: ResidentMatrix, query: Float32Array, slots: Int32Array, d: number, scale: Float32Array, k: number): Promise<TopK>;
  /** Optional: several such reranks over one matrix in one go (the batching window's path). */
  topKMatrixRowsMulti?(matrix: ResidentMatrix, items: RowsQuery[], d: number): Promise<TopK[]>;
  close(): Promise<void>;
}

/**
 * What createKernel returns: fallbackReason is set when 'auto' wanted ONNX, or 'gpu' a GPU
 * provider, and got something else; batch is set when calls go through a batching window;
 * resident when reranks use device-resident segments of the matrix (a GPU provider started).
 */
export type CreatedKernel = Kernel & { readonly fallbackReason?: string; readonly batch?: { stats(): BatchStats }; readonly resident?: { stats(): ResidentStats } };

export type Backend = 'auto' | 'onnx' | 'js' | 'gpu';

/**
 * Up to this many multiply-adds (B·n·d) 'auto' routes a call to the JS kernel: there the fixed
 * cost of an ORT call (~0.03-0.05 ms: tensor wrapping, a setImmediate hop, session bookkeeping,
 * output copies) exceeds the arithmetic. bench/kernels.ts on the 2-core dev box (Node 20,
 * ORT 1.30 CPU, 2 intra-op threads), B=1, d=512, k=10, median ms js / onnx, two runs:
 *   n=16 (8k MACs) 0.019-0.031 / 0.034-0.050;  n=32 (16k) 0.035-0.058 / 0.032-0.050;
 *   n=48 (25k) 0.050-0.087 / 0.030-0.047;  n=64 (33k) 0.065-0.121 / 0.031-0.044.
 * The crossover sits at n≈32 at d=512, i.e. ~16k MACs.
 */
export const JS_ROUTING_MAX_MACS = 16_384;

export interface KernelOptions {
  backend?: Backend;
  threads?: number;
  /** Collection window for concurrent calls, µs; 0 (the default) calls the kernel directly. */
  batchWindowUs?: number;
  /** Most queries one batched launch serves (default 64). */
  batchMax?: number;
}

export async function createKernel(opts: KernelOptions = {}): Promise<CreatedKernel> {
  const kernel = await createBareKernel(opts);
  const windowUs = opts.batchWindowUs ?? 0;
  if (windowUs <= 0) return kernel;
  const batched = new BatchWindowKernel(kernel, { windowUs, maxBatch: opts.batchMax ?? 64 });
  const { fallbackReason, resident } = kernel;
  return Object.assign(batched, fallbackReason === undefined ? {} : { fallbackReason }, resident === undefined ? {} : { resident });
}

async function createBareKernel(opts: KernelOptions): Promise<CreatedKernel> {
  const backend = opts.backend ?? 'auto';
  if (backend === 'js') return new JsKernel();
  const loadOnnx = async (): Promise<Kernel> => {
    const { OnnxKernel } = await import('./onnx-kernel.js');
    return OnnxKernel.create({ threads: opts.threads });
  };
  if (backend === 'onnx') return loadOnnx();
  if (backend === 'gpu') {
    const { createGpuKernel } = await import('./gpu.js');
    return createGpuKernel(opts.threads ?? 2, () => autoKernel(loadOnnx));
  }
  return autoKernel(loadOnnx);
}

/**
 * 'auto': ONNX for big work, JS for tiny work; if ONNX cannot be loaded, the JS kernel with
 * fallbackReason set (the caller decides whether and how to report it). Exported for tests.
 */
export async function autoKernel(loadOnnx: () => Promise<Kernel>, maxJsMacs = JS_ROUTING_MAX_MACS): Promise<CreatedKernel> {
  const js = new JsKernel();
  let onnx: Kernel;
  try {
    onnx = await loadOnnx();
  } catch (err) {
    const reason = `onnxruntime-node unavailable: ${err instanceof Error ? err.message : String(err)}`;
    return Object.assign(js, { fallbackReason: reason });
  }
  return {
    name: onnx.name,
    topK(queries, B, rows, n, stride, d, rowScale, k) {
      const kernel = B * n * d <= maxJsMacs ? js : onnx;
      return kernel.topK(queries, B, rows, n, stride, d, rowScale, k);
    },
    topKRows(queries, B, matrix, stride, rowIdx, d, rowScale, k) {
      const kernel = B * rowIdx.length * d <= maxJsMacs ? js : onnx;
      return kernel.topKRows(queries, B, matrix, stride, rowIdx, d, rowScale, k);
    },
    ...(onnx.topKRowsMulti && {
      topKRowsMulti(items: RowsQuery[], matrix: Float32Array, stride: number, d: number) {
        let macs = 0;
        for (const it of items) macs += it.rowIdx.length * d;
        return macs <= maxJsMacs ? js.topKRowsMulti(items, matrix, stride, d) : onnx.topKRowsMulti!(items, matrix, stride, d);
      },
    }),
    close: () => onnx.close(),
  };
}
