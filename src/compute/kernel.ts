/**
 * The types of the vector kernels, and nothing else: what a kernel computes (scores and top-k
 * of queries against rows), what a rerank reads (RerankMatrix), what createKernel returns and
 * takes. Implementations: js-kernel.ts (the reference), onnx-kernel.ts (onnxruntime-node), the
 * routing and the factory in create-kernel.ts, the GPU-only wrappers under gpu/.
 * This file imports nothing, so every other module of the layer can import it.
 */

export interface TopK {
  indices: Int32Array;
  scores: Float32Array;
} // sorted by score descending; ties broken by lower index; length min(k, n)

/** One query of a rerank: d values, its own candidate rows (slots of the matrix), their scales and its k. */
export interface RowsQuery {
  query: Float32Array;
  rowIdx: Int32Array;
  rowScale: Float32Array;
  k: number;
}

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

/**
 * A resident matrix whose rows are quantised (core/quantize.ts): type 'f16' holds `width`
 * halves per slot in `half`; type 'int8' holds `width` codes per slot in `codes`, row value j
 * being codes[slot·width + j] · codeScale[slot]. core/resident-matrix.ts's ResidentMatrix of
 * either type is one.
 */
export interface QuantizedMatrix {
  readonly type: 'f16' | 'int8';
  readonly width: number;
  readonly size: number;
  readonly half: Uint16Array;
  readonly codes: Int8Array;
  readonly codeScale: Float32Array;
}

/** Kernel.topK's arguments (documented there), declared once for every kernel and check. */
export type TopKArgs = [
  queries: Float32Array,
  B: number,
  rows: Float32Array,
  n: number,
  stride: number,
  d: number,
  rowScale: Float32Array,
  k: number,
];

/**
 * The arguments of a single rerank list (JsKernel.topKRows, OnnxKernel.topKRows): B queries over
 * the rows rowIdx of `matrix` (row i is matrix[rowIdx[i]·stride …]), one scale per selected row.
 */
export type TopKRowsArgs = [
  queries: Float32Array,
  B: number,
  matrix: Float32Array,
  stride: number,
  rowIdx: Int32Array,
  d: number,
  rowScale: Float32Array,
  k: number,
];

export interface Kernel {
  readonly name: string; // 'onnx-cpu', 'js', 'onnx-cuda', 'onnx-webgpu'
  /**
   * queries: B × d float32, row-major, each already L2-normalised at d.
   * rows: n × stride float32, row-major; only the first d columns of each row are used (1 ≤ d ≤ stride).
   * rowScale: length n; the score of row i is (q · rows[i][0:d]) * rowScale[i]  (the caller passes 1/||rows[i][0:d]||, or 0 for a zero row).
   * Returns, for each of the B queries, the top k (k ≥ 1; clamp to n) indices into rows and their scores.
   */
  topK(...args: TopKArgs): Promise<TopK[]>;
  /**
   * The rerank of a shortlist against the resident matrix, for several queries at once: query i
   * (d values, L2-normalised at d) scores the rows (slots) items[i].rowIdx of `matrix` at prefix d
   * (1 ≤ d ≤ matrix.width), row j's score times items[i].rowScale[j]. result[i] is its top
   * min(k_i, n_i), indices into items[i].rowIdx, ordered as topK orders them; it equals topK over
   * those rows gathered, up to float rounding. Rows are read in place, never gathered first; a
   * kernel may serve all items with one launch (the batching window merges concurrent reranks
   * into one call), and one given the matrix itself may score parts of it that are unchanged
   * since it copied them to a device (gpu/resident-kernel.ts).
   */
  rerank(matrix: RerankMatrix, items: RowsQuery[], d: number): Promise<TopK[]>;
  /**
   * As rerank, over quantised rows: row j is decoded (a half, or codes times the row's scale)
   * before the product, then times items[i].rowScale[j]. Optional: a kernel without it leaves
   * these reranks to the JS kernel (src/search/rescore.ts).
   */
  rerankQuantized?(matrix: QuantizedMatrix, items: RowsQuery[], d: number): Promise<TopK[]>;
  close(): Promise<void>;
}

/** What the batching window reports (GET /health's kernelBatch). */
export interface BatchStats {
  windowUs: number;
  maxBatch: number;
  calls: number;
  launches: number;
  queries: number;
  meanBatchSize: number;
}

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
export type CreatedKernel = Kernel & {
  readonly fallbackReason?: string;
  readonly batch?: { stats(): BatchStats };
  readonly resident?: { stats(): ResidentStats };
};

export type Backend = 'auto' | 'onnx' | 'js' | 'gpu';

export interface KernelOptions {
  backend?: Backend;
  threads?: number;
  /** Collection window for concurrent calls, µs; 0 (the default) calls the kernel directly. */
  batchWindowUs?: number;
  /** Most queries one batched launch serves (default 64). */
  batchMax?: number;
}
