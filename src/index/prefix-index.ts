import hnswlib from 'hnswlib-node';
import { normalizedPrefix } from '../core/prefix.js';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface HnswParams {
  m: number;
  efConstruction: number;
  efSearch: number;
}

/**
 * HNSW over the L2-normalised `dim`-prefix of each vector, inner-product space (so the
 * distance is 1 - cosine at that prefix). Labels are the store's seqs (< 2^32, never reused).
 * Callers must have validated vectors: hnswlib-node aborts the process on a non-number and
 * accepts NaN silently; this class only ever passes arrays built from Float32Arrays.
 */
export class PrefixIndex {
  private deleted = 0;
  private constructor(
    private readonly hnsw: Hnsw,
    readonly dim: number,
    readonly params: HnswParams,
  ) {}

  static create(dim: number, params: HnswParams, capacity: number): PrefixIndex {
    const h = new HierarchicalNSW('ip', dim);
    h.initIndex({ maxElements: Math.max(1024, capacity), m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
    h.setEf(params.efSearch);
    return new PrefixIndex(h, dim, params);
  }

  /** Loads a snapshot file; throws when hnswlib finds it unreadable. */
  static load(file: string, dim: number, params: HnswParams): PrefixIndex {
    const h = new HierarchicalNSW('ip', dim);
    h.readIndexSync(file);
    if (h.getNumDimensions() !== dim) throw new Error(`snapshot has ${h.getNumDimensions()} dims, expected ${dim}`);
    h.setEf(params.efSearch); // ef is not stored in the file
    return new PrefixIndex(h, dim, params);
  }

  /** Labels in the graph, deleted ones included (hnswlib keeps them until rebuilt). */
  labels(): number[] {
    return this.hnsw.getIdsList();
  }

  /** Elements in the graph including deleted ones. */
  get elementCount(): number {
    return this.hnsw.getCurrentCount();
  }

  get liveCount(): number {
    return this.hnsw.getCurrentCount() - this.deleted;
  }

  get deletedCount(): number {
    return this.deleted;
  }

  /** Call after load with the number of labels marked deleted in the file, if known. */
  setDeletedCount(n: number): void {
    this.deleted = n;
  }

  add(seq: number, vector: Float32Array): void {
    const cap = this.hnsw.getMaxElements();
    if (this.hnsw.getCurrentCount() >= cap) this.hnsw.resizeIndex(Math.ceil(cap * 1.5) + 1024);
    this.hnsw.addPoint(Array.from(normalizedPrefix(vector, this.dim)), seq);
  }

  /** Marks a label deleted; false when it was not there or already deleted. */
  remove(seq: number): boolean {
    try {
      this.hnsw.markDelete(seq);
      this.deleted++;
      return true;
    } catch {
      return false;
    }
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
    const live = this.liveCount;
    const want = Math.min(k, live);
    if (want <= 0) return { seqs: [], scores: [] };
    this.hnsw.setEf(Math.max(ef, want));
    const r = this.hnsw.searchKnn(Array.from(query), want, filter);
    return { seqs: r.neighbors, scores: r.distances.map((d) => 1 - d) };
  }

  writeSync(file: string): void {
    this.hnsw.writeIndexSync(file);
  }

  /** Approximate memory of the graph: vectors, level-0 links, labels, upper levels (~1/M of nodes). */
  get bytes(): number {
    const n = this.hnsw.getMaxElements();
    const m = this.params.m;
    const level0 = this.dim * 4 + (2 * m + 1) * 4 + 8;
    return Math.round(n * level0 + (n / m) * (m + 1) * 4 + n * 16);
  }
}
