import type { ResidentMatrix } from '../core/resident-matrix.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { PendingRows } from './pending.js';

/**
 * What a search reads of a collection: its prefix index, its resident rerank matrix, its live
 * row count and the index's default beam. A collection's runtime is one; `overIndex` gives a
 * view of it over another index (a sweep's temporary one at other dims).
 */
export interface SearchSource {
  readonly index: Pick<PrefixIndex, 'search'>;
  readonly matrix: ResidentMatrix;
  readonly count: number;
  readonly record: { readonly hnsw: { readonly efSearch: number } };
  /** Rows the index does not hold yet (searched exactly beside it); absent for another index. */
  readonly pending?: PendingRows;
}

/** Full vectors by seq, for reranks beyond the resident width; seqs not found are absent. */
export interface VectorsBySeq {
  vectorsBySeqs(seqs: number[]): Map<number, Float32Array>;
}

/**
 * Seqs and their scores, best first. `bounds` (from scores over int8 rows, refine-bound.ts): for
 * each, a bound on |score − the exact cosine| at the same dims.
 */
export interface Scored {
  seqs: number[];
  scores: number[];
  bounds?: number[];
}

/** What a hit shows of its row. */
export interface ResultRow {
  id: string;
  label: string | null;
  payload: unknown;
}

/** Result rows by seq, in one query for a page of hits and one by one for stragglers. */
export interface RowsBySeq {
  getBySeqs(seqs: number[]): Map<number, ResultRow>;
  getBySeq(seq: number): ResultRow | undefined;
}

/** `source` with `index` in place of its own (the matrix and count stay live). */
export function overIndex(source: SearchSource, index: SearchSource['index']): SearchSource {
  return {
    index,
    matrix: source.matrix,
    record: source.record,
    get count() {
      return source.count;
    },
  };
}
