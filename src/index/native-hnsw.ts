import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The project's own binding of hnswlib (native/hnsw/hnsw.cc, built by `npm run build:native`
 * from the headers hnswlib-node ships, so snapshot files are the same format). An index is a
 * handle any thread of the process can use; insertion in batches runs on libuv's thread pool,
 * not the calling thread. Searches share a per-index lock; an insertion works out its links
 * under that shared lock too and holds it alone only to set up the element and write the links
 * (a few µs), so searches go on while rows are inserted.
 */
export interface NativeHnsw {
  create(dim: number, maxElements: number, m: number, efConstruction: number, seed: number): number;
  loadSync(file: string, dim: number): number;
  saveSync(handle: number, file: string): void;
  add(handle: number, label: number, vector: Float32Array): void;
  addBatch(handle: number, labels: Uint32Array, rows: Float32Array, nice?: number): Promise<void>;
  markDelete(handle: number, label: number): boolean;
  /** The best `k` (at most the graph's live rows) with beam max(ef, k): n labels, then their n scores (1 − distance), best first. */
  search(handle: number, query: Float32Array, k: number, ef: number, filter?: (label: number) => boolean): Float64Array;
  labels(handle: number): Uint32Array;
  /** Elements including deleted ones. */
  count(handle: number): number;
  /** [elements including deleted ones, capacity, searches that waited for an insertion, their total wait ms, the longest ms] */
  stats(handle: number): [number, number, number, number, number];
  release(handle: number): void;
  /** Another handle to the same graph (for another thread); each is released on its own. */
  share(handle: number): number;
  /** Elements marked deleted. */
  deleted(handle: number): number;
  /** Exact top `want` by inner product of rows in slots [start, end) (slots whose seq is 0 skipped), best first. */
  scanTop(
    rows: Float32Array,
    seqs: Uint32Array,
    start: number,
    end: number,
    query: Float32Array,
    want: number,
  ): { seqs: Uint32Array; scores: Float32Array };
}

const require = createRequire(import.meta.url);

const BUILT = 'native/hnsw/build/Release/mrl_hnsw.node';

function loadAddon(): NativeHnsw {
  // From src/index/ under tsx, or dist/src/index/ once built: the project root is two or three up.
  const file = [`../../${BUILT}`, `../../../${BUILT}`].map((p) => new URL(p, import.meta.url).pathname).find((p) => existsSync(p));
  try {
    return require(file ?? BUILT) as NativeHnsw;
  } catch (err) {
    throw new Error(`the native HNSW binding is not built (${(err as Error).message}); run \`npm run build:native\``, {
      cause: err,
    });
  }
}

export const nativeHnsw: NativeHnsw = loadAddon();
