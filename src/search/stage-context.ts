import type { Kernel } from '../compute/kernel.js';
import { normalizedPrefix } from '../core/prefix.js';
import type { SearchSource, VectorsBySeq } from './sources.js';

/** What a search reads besides its query: the collection's caches, the store's vectors, the kernel. */
export interface StageDeps {
  readonly source: SearchSource;
  readonly vectors: VectorsBySeq;
  readonly kernel: Kernel;
}

/**
 * One search's stage context, built once per search and handed to every stage: what the stages
 * read (StageDeps), the query, and the seq that never comes back (a query item's own). The
 * query's normalised prefixes are made once per dims: consecutive stages (a rerank and its
 * refine, the tries of a widened first stage) share them.
 */
export class StageContext implements StageDeps {
  readonly source: SearchSource;
  readonly vectors: VectorsBySeq;
  readonly kernel: Kernel;
  private readonly prefixes = new Map<number, Float32Array>();

  constructor(
    deps: StageDeps,
    readonly query: Float32Array,
    readonly exclude?: number,
  ) {
    this.source = deps.source;
    this.vectors = deps.vectors;
    this.kernel = deps.kernel;
  }

  /** p_dims(query): its first `dims` values, L2-normalised (shared: callers only read it). */
  prefix(dims: number): Float32Array {
    let q = this.prefixes.get(dims);
    if (!q) this.prefixes.set(dims, (q = normalizedPrefix(this.query, dims)));
    return q;
  }
}
