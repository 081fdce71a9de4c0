/**
 * The rerank kernels of the project's native addon (native/hnsw/rerank.cc, built by `npm run
 * build:native` with the HNSW binding): one query's top k over chosen rows of the resident matrix,
 * read in place, for float32, int8 and f16 rows, with js-kernel.ts's scores and order. Synchronous
 * and usable on any thread, SharedArrayBuffer rows included (onnxruntime-node refuses those).
 * The same scores as the JS kernel, bit for bit (its sums in doubles, term for term). Measured
 * (300 queries over random rows of a 200k × 768 float32 matrix, k = 10, 2-core machine, one run):
 * 100 rows at 768 dims 96 µs against 271 (ONNX) and 206 (JS); 800 rows 727 against 661 and
 * 1,456; at 256 dims 46 / 158 / 168 and 344 / 544 / 823.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkQuantizedArgs, checkRerankArgs } from './check-args.js';
import type { CreatedKernel, QuantizedMatrix, RerankMatrix, RowsQuery, TopK } from './kernel.js';

interface NativeRerank {
  rerankF32(rows: Float32Array, width: number, slots: Int32Array, rowScale: Float32Array, query: Float32Array, k: number): Float64Array;
  rerankInt8(
    codes: Int8Array,
    width: number,
    slots: Int32Array,
    rowScale: Float32Array,
    query: Float32Array,
    k: number,
    codeScale: Float32Array,
  ): Float64Array;
  rerankHalf(half: Uint16Array, width: number, slots: Int32Array, rowScale: Float32Array, query: Float32Array, k: number): Float64Array;
}

const BUILT = 'native/hnsw/build/Release/mrl_hnsw.node';

/** The addon (the same file the HNSW binding loads), or null where it is not built. */
function load(): NativeRerank | null {
  const file = [`../../${BUILT}`, `../../../${BUILT}`].map((p) => new URL(p, import.meta.url).pathname).find((p) => existsSync(p));
  if (!file) return null;
  const addon = createRequire(import.meta.url)(file) as Partial<NativeRerank>;
  return typeof addon.rerankF32 === 'function' ? (addon as NativeRerank) : null;
}

const addon = load();

/** Whether the native rerank kernels are here (the addon is built). */
export const nativeRerankAvailable = addon !== null;

/** [n indices, n scores] → TopK. */
function topK(r: Float64Array): TopK {
  const n = r.length >> 1;
  return { indices: Int32Array.from(r.subarray(0, n)), scores: Float32Array.from(r.subarray(n)) };
}

/** Kernel.rerank's lists, natively (the query's first d values are read). */
export function nativeRerankSync(matrix: RerankMatrix, items: RowsQuery[], d: number): TopK[] {
  checkRerankArgs(matrix, items, d);
  return items.map((it) =>
    topK(addon!.rerankF32(matrix.data, matrix.width, it.rowIdx, it.rowScale.subarray(0, it.rowIdx.length), it.query.subarray(0, d), it.k)),
  );
}

/** Kernel.rerankQuantized's lists, natively. */
export function nativeRerankQuantizedSync(matrix: QuantizedMatrix, items: RowsQuery[], d: number): TopK[] {
  checkQuantizedArgs(matrix, items, d);
  return items.map((it) => {
    const scale = it.rowScale.subarray(0, it.rowIdx.length);
    const q = it.query.subarray(0, d);
    return topK(
      matrix.type === 'int8'
        ? addon!.rerankInt8(matrix.codes, matrix.width, it.rowIdx, scale, q, it.k, matrix.codeScale)
        : addon!.rerankHalf(matrix.half, matrix.width, it.rowIdx, scale, q, it.k),
    );
  });
}

/**
 * `kernel` with its reranks of the resident matrix on the native kernels (its topK, over rows
 * given whole, stays its own); `kernel` itself where the addon is not built. The name stays the
 * wrapped kernel's: it says which kernel scans and scores the rest.
 */
export function withNativeRerank(kernel: CreatedKernel): CreatedKernel {
  if (!addon) return kernel;
  return Object.assign(Object.create(kernel) as CreatedKernel, {
    name: kernel.name,
    topK: kernel.topK.bind(kernel),
    rerank: async (matrix: RerankMatrix, items: RowsQuery[], d: number) => nativeRerankSync(matrix, items, d),
    rerankQuantized: async (matrix: QuantizedMatrix, items: RowsQuery[], d: number) => nativeRerankQuantizedSync(matrix, items, d),
    close: () => kernel.close(),
  });
}
