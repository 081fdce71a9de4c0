/**
 * Kernel on onnxruntime-node's CPU execution provider: one Gemm + Mul + TopK graph per call.
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
import type { Kernel, TopK } from './kernel.js';
import { checkTopKArgs } from './js-kernel.js';
import { scoreTopKModel } from './onnx-model.js';

type Variant = 'full' | 'sliced';

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
  readonly name = 'onnx-cpu';
  private closed = false;

  private constructor(private readonly sessions: Record<Variant, ort.InferenceSession>) {}

  /** Creates both sessions up front (cached for the kernel's life) so load failures surface here. */
  static async create(opts: { threads?: number } = {}): Promise<OnnxKernel> {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.threads ?? 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    };
    const [full, sliced] = await Promise.all([
      ort.InferenceSession.create(scoreTopKModel('full'), options),
      ort.InferenceSession.create(scoreTopKModel('sliced'), options),
    ]);
    return new OnnxKernel({ full, sliced });
  }

  async topK(queries: Float32Array, B: number, rows: Float32Array, n: number, stride: number, d: number, rowScale: Float32Array, k: number): Promise<TopK[]> {
    if (this.closed) throw new Error('OnnxKernel is closed');
    checkTopKArgs(queries, B, rows, n, stride, d, rowScale, k);
    const kk = Math.min(k, n);
    if (B === 0) return [];
    if (kk === 0) return Array.from({ length: B }, () => ({ indices: new Int32Array(0), scores: new Float32Array(0) }));

    const strategy = columnStrategy(B, d, stride);
    const sliced = strategy === 'sliced';
    // subarray() views, never copies: tensors need data length == product of dims exactly.
    const feeds: Record<string, ort.Tensor> = {
      Q: strategy === 'padded' ? new ort.Tensor('float32', padQueries(queries, B, d, stride), [B, stride]) : new ort.Tensor('float32', queries.subarray(0, B * d), [B, d]),
      M: new ort.Tensor('float32', rows.subarray(0, n * stride), [n, stride]),
      S: new ort.Tensor('float32', rowScale.subarray(0, n), [n]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
    };
    if (sliced) feeds.E = new ort.Tensor('int64', BigInt64Array.of(BigInt(d)), [1]);
    const out = await this.sessions[sliced ? 'sliced' : 'full'].run(feeds);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.sessions.full.release(), this.sessions.sliced.release()]);
  }
}
