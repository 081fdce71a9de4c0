import { normalizedPrefix } from '../core/prefix.js';
import { nativeHnsw as native } from './native-hnsw.js';

export interface HnswParams {
  m: number;
  efConstruction: number;
  efSearch: number;
}

/** Frees an index's native graph once its PrefixIndex is garbage (one not released explicitly). */
const finalizer = new FinalizationRegistry<number>((handle) => native.release(handle));

/**
 * HNSW over the L2-normalised `dim`-prefix of each vector, inner-product space (so the
 * distance is 1 - cosine at that prefix). Labels are the store's seqs (< 2^32, never reused).
 * The graph is native (src/index/native-hnsw.ts): `addBatch` inserts on the thread pool while
 * this thread goes on searching it. Callers must have validated vectors (finite float32).
 */
export class PrefixIndex {
  /**
   * Nice value of the thread-pool thread while it inserts a batch (process-wide: the data
   * context sets it from MRL_INDEX_NICE), so that where cores are short searches run first.
   */
  static insertionNice = 0;
  private released = false;
  private constructor(
    readonly handle: number,
    readonly dim: number,
    readonly params: HnswParams,
  ) {
    finalizer.register(this, handle, this);
  }

  static create(dim: number, params: HnswParams, capacity: number): PrefixIndex {
    const handle = native.create(dim, Math.max(1024, capacity), params.m, params.efConstruction, 100);
    return new PrefixIndex(handle, dim, params);
  }

  /**
   * The graph behind a handle another thread got from `share()` (a search worker's view of the
   * main thread's index): searched here, written only by the thread that shared it.
   */
  static adopt(handle: number, dim: number, params: HnswParams): PrefixIndex {
    return new PrefixIndex(handle, dim, params);
  }

  /** A new handle to this graph for another thread, which adopts it (`adopt`) or has it released; this index is unaffected. */
  share(): number {
    return native.share(this.handle);
  }

  /** Releases a handle from `share()` (one released already, or adopted and released, is ignored). */
  static releaseHandle(handle: number): void {
    native.release(handle);
  }

  /** Loads a snapshot file; throws when hnswlib finds it unreadable or its dims differ. */
  static load(file: string, dim: number, params: HnswParams): PrefixIndex {
    return new PrefixIndex(native.loadSync(file, dim), dim, params);
  }

  /** Labels in the graph, deleted ones included (hnswlib keeps them until rebuilt). */
  labels(): number[] {
    return Array.from(native.labels(this.handle));
  }

  /** Elements in the graph including deleted ones. */
  get elementCount(): number {
    return native.count(this.handle);
  }

  /** Elements not marked deleted (the graph counts both: right on every thread that shares it). */
  get liveCount(): number {
    return this.elementCount - this.deletedCount;
  }

  get deletedCount(): number {
    return native.deleted(this.handle);
  }

  /** Searches that waited for a row's insertion to finish (the graph's lock), since it was made or loaded. */
  searchWaits(): { count: number; totalMs: number; maxMs: number } {
    const [, , count, totalMs, maxMs] = native.stats(this.handle);
    return { count, totalMs, maxMs };
  }

  /** Inserts one row on this thread (its first `dim` values, normalised here). */
  add(seq: number, vector: Float32Array): void {
    native.add(this.handle, seq, normalizedPrefix(vector, this.dim));
  }

  /**
   * Inserts rows already normalised at `dim` (`rows` holds `seqs.length` of them, copied at the
   * call) on the thread pool, in order; searches on any thread go on meanwhile. A seq already
   * in the graph takes the new values.
   */
  addBatch(seqs: Uint32Array, rows: Float32Array): Promise<void> {
    return native.addBatch(this.handle, seqs, rows, PrefixIndex.insertionNice);
  }

  /** Marks a label deleted; false when it was not there or already deleted. */
  remove(seq: number): boolean {
    return native.markDelete(this.handle, seq);
  }

  /**
   * Top `k` labels for a query (already normalised at `dim`); `ef` is raised to at least k
   * because HNSW cannot return more candidates than its beam holds. With `filter`, only labels
   * it accepts are returned (hnswlib walks the whole graph but keeps only those in its beam).
   */
  search(
    query: Float32Array,
    k: number,
    ef = this.params.efSearch,
    filter?: (seq: number) => boolean,
  ): { seqs: number[]; scores: number[] } {
    const seqs: number[] = [];
    const scores: number[] = [];
    if (k <= 0) return { seqs, scores };
    // One native call: the graph returns at most its live rows, and none when it is empty.
    const r = native.search(this.handle, query, k, Math.max(ef, k), filter);
    const n = r.length >> 1;
    for (let i = 0; i < n; i++) {
      seqs.push(r[i]);
      scores.push(r[n + i]);
    }
    return { seqs, scores };
  }

  writeSync(file: string): void {
    native.saveSync(this.handle, file);
  }

  /** Frees the native graph now (a later call on this index throws). Safe twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    finalizer.unregister(this);
    native.release(this.handle);
  }

  /** Approximate memory of the graph: vectors, level-0 links, labels, upper levels (~1/M of nodes). */
  get bytes(): number {
    const n = native.stats(this.handle)[1];
    const m = this.params.m;
    const level0 = this.dim * 4 + (2 * m + 1) * 4 + 8;
    return Math.round(n * level0 + (n / m) * (m + 1) * 4 + n * 16);
  }
}
