/**
 * The types of the vector kernels, and nothing else: what a kernel computes (scores and top-k
 * of queries against rows), what a rerank reads (RerankMatrix), what createKernel returns and
 * takes. Implementations: js-kernel.ts (the reference), onnx-kernel.ts (onnxruntime-node), the
 * routing and the factory in create-kernel.ts, the GPU-only wrappers under gpu/.
 * This file imports nothing, so every other module of the layer can import it.
 */

export interface TopK { indices: Int32Array; scores: Float32Array } // sorted by score descending; ties broken by lower index; length min(k, n)

/** One query of a rerank: d values, its own candidate rows (slots of the matrix), their scales and its k. */
export interface RowsQuery { query: Float32Array; rowIdx: Int32Array; rowScale: Float32Array; k: number }

/**
 * The matrix a rerank reads: `width` floats per slot, slot i at data[i·width …], `size` slots
 * in use. `version` grows with every write, and each block of `blockRows` slots keeps the
 * version of its last write (rangeVersion: the largest over some slots), so a kernel keeping a
 * copy of rows on a device can tell whether they are unchanged. core/resident-matrix.ts's
 * ResidentMatrix is one.
 */
export interface RerankMatrix {
  readonly data: Float32Array;
  readonly width: number;
  readonly size: number;
  readonly version: number;
  readonly blockRows: number;
  rangeVersion(from: number, count: number): number;
}

export interface Kernel {
  readonly name: string; // 'onnx-cpu', 'js', 'onnx-cuda', 'onnx-webgpu'
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
   * Optional: the rerank of one query over rows (slots) of a RerankMatrix, given the matrix
   * itself rather than its buffer, so that a kernel keeping unchanged parts of it on a device can
   * tell which parts those are (resident-kernel.ts). Equals
   * topKRows(query, 1, matrix.data, matrix.width, slots, d, scale, k)[0] up to float rounding.
   */
  topKMatrixRows?(matrix: RerankMatrix, query: Float32Array, slots: Int32Array, d: number, scale: Float32Array, k: number): Promise<TopK>;
  /** Optional: several such reranks over one matrix in one go (the batching window's path). */
  topKMatrixRowsMulti?(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]>;
  close(): Promise<void>;
}

/** What the batching window reports (GET /health's kernelBatch). */
export interface BatchStats { windowUs: number; maxBatch: number; calls: number; launches: number; queries: number; meanBatchSize: number }

/** What the device-resident segments report (GET /health's kernelResident). */
export interface ResidentStats {
  /** Current segments (usable by reranks) and the bytes of rows they hold. */
  segments: number;
  bytes: number;
  /** Segments waiting to be built. */
  pending: number;
  /** ORT sessions not yet released (current, plus stale ones that a rerank still runs on). */
  sessions: number;
  builds: number;
  /** Runs on segment sessions (launches that used device-resident rows). */
  runs: number;
  failures: number;
  lastError: string | null;
}

/**
 * What createKernel returns: fallbackReason is set when 'auto' wanted ONNX, or 'gpu' a GPU
 * provider, and got something else; batch is set when calls go through a batching window;
 * resident when reranks use device-resident segments of the matrix (a GPU provider started).
 */
export type CreatedKernel = Kernel & { readonly fallbackReason?: string; readonly batch?: { stats(): BatchStats }; readonly resident?: { stats(): ResidentStats } };

export type Backend = 'auto' | 'onnx' | 'js' | 'gpu';

export interface KernelOptions {
  backend?: Backend;
  threads?: number;
  /** Collection window for concurrent calls, µs; 0 (the default) calls the kernel directly. */
  batchWindowUs?: number;
  /** Most queries one batched launch serves (default 64). */
  batchMax?: number;
}
