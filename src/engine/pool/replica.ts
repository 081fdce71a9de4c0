import type { ResidentMatrix } from '../../core/resident-matrix.js';
import { PrefixIndex } from '../../index/prefix-index.js';
import type { SearchSource } from '../../search/sources.js';
import type { CollectionRecord } from '../../store/collections.js';
import type { ItemStore } from '../../store/items.js';
import { PendingIndex, queueMissing } from '../pending-index.js';
import { RowCache } from '../row-cache.js';
import type { SharedIndex, WorkerMemory, WriteMessage } from './protocol.js';
import { toldWrite } from './write-message.js';

/**
 * A search worker's view of one collection (src/engine/pool/search-worker.ts): the main thread's
 * resident matrix, attached read-only, and the main thread's HNSW graph, searched by a handle of
 * this thread's own (only the main thread inserts into it or marks rows deleted), beside this
 * thread's result-row cache and pending rows. The pending rows are the committed rows the graph
 * may not hold yet: queued by each write's message, dropped when the main thread says a batch
 * put them in (`indexed`); until then a search may find a row in both, and counts it once.
 * Applying a write twice changes nothing.
 */
export class Replica implements SearchSource {
  index: PrefixIndex;
  /** The main thread's handle of the graph searched (what `indexed` messages name). */
  private indexId: number;
  readonly pending: PendingIndex;
  readonly rows: RowCache;

  constructor(
    public record: CollectionRecord,
    readonly matrix: ResidentMatrix,
    private readonly items: ItemStore,
    shared: SharedIndex,
  ) {
    this.rows = new RowCache(items);
    this.index = PrefixIndex.adopt(shared.handle, record.indexDim, record.hnsw);
    this.indexId = shared.id;
    this.pending = new PendingIndex(record.indexDim, true);
    this.resync();
  }

  get count(): number {
    return this.matrix.size;
  }

  /** A new record; with `shared`, the collection's new graph (a retune): this thread moves to it. */
  update(record: CollectionRecord, shared?: SharedIndex): void {
    this.record = record;
    if (!shared) return;
    this.index.release();
    this.index = PrefixIndex.adopt(shared.handle, record.indexDim, record.hnsw);
    this.indexId = shared.id;
    this.resync();
  }

  /** One committed write (idempotent): removals, rows whose metadata changed, added rows pending until the graph has them; the filter columns journal it. */
  apply(w: WriteMessage): void {
    this.items.noteExternalWrite(this.record.id, toldWrite(w)); // cached filter matches are stale now
    for (const seq of w.removed) this.pending.delete(seq); // the main thread marks them deleted in the graph
    this.rows.forget(w.removed);
    this.rows.forget(w.patched);
    if (w.seqs.length === 0) return;
    const dim = this.index.dim;
    if (w.dim === dim) w.seqs.forEach((seq, i) => this.pending.add(seq, w.prefixes.subarray(i * dim, (i + 1) * dim)));
    else for (const [seq, v] of this.items.vectorsBySeqs(w.seqs)) this.pending.add(seq, v); // sent before a retune reached us
  }

  /** Rows a batch put into graph `id` (the main thread's handle): searched there from now on. */
  indexed(id: number, seqs: number[]): void {
    if (id !== this.indexId) return; // a batch of a graph this thread has moved off
    for (const seq of seqs) this.pending.delete(seq);
  }

  /** What this thread holds of the collection (the graph and the matrix are the main thread's). */
  memory(): WorkerMemory {
    const filters = this.items.filters.stats(this.record.id);
    return {
      indexBytes: 0,
      metadataCacheBytes: this.rows.bytes,
      filterColumnsBytes: filters.bytes,
      filterColumnsBuilds: filters.builds,
    };
  }

  close(): void {
    this.index.release();
  }

  /**
   * Pending rows = the matrix's rows the graph does not hold now. Rows a batch puts in later
   * leave with its `indexed` message; rows the graph holds but the matrix lost are the main
   * thread's to mark deleted (a search drops any it still returns: they have no row here).
   */
  private resync(): void {
    queueMissing(this.index, this.matrix, this.pending, this.items);
  }
}
