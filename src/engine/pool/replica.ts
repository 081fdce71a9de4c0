import type { ResidentMatrix } from '../../core/resident-matrix.js';
import { PrefixIndex } from '../../index/prefix-index.js';
import { loadSnapshot } from '../../index/snapshot.js';
import type { SearchSource } from '../../search/sources.js';
import type { CollectionRecord } from '../../store/collections.js';
import { PendingIndex, resyncPending } from '../pending-index.js';
import { RowCache } from '../row-cache.js';
import { SliceScheduler } from '../slice-scheduler.js';
import type { WorkerMemory, WriteMessage } from './protocol.js';
import { toldWrite } from './write-message.js';
import type { ItemStore } from '../../store/items.js';

/**
 * A search worker's copy of one collection (src/engine/pool/search-worker.ts): the main thread's
 * resident matrix, attached read-only, beside this thread's own prefix index (hnswlib objects
 * cannot cross threads) and result-row cache. The index starts from the collection's snapshot
 * when valid, is made to hold exactly the matrix's rows, then follows the write messages; rows
 * not in it yet are searched exactly beside it (PendingIndex), inserted in time slices between
 * searches. Applying a write twice changes nothing.
 */
export class Replica implements SearchSource {
  index: PrefixIndex;
  readonly pending: PendingIndex;
  readonly rows: RowCache;
  /** Index insertion in time slices between searches (an error ends the worker: the pool replaces it). */
  private readonly indexing: SliceScheduler;

  constructor(
    public record: CollectionRecord,
    readonly matrix: ResidentMatrix,
    private readonly items: ItemStore,
    private readonly snapshotDir: string,
  ) {
    this.rows = new RowCache(items);
    this.index = this.openIndex();
    this.pending = new PendingIndex(this.index.dim);
    this.indexing = new SliceScheduler(this.pending, () => this.pending.indexBatch(this.index));
    this.resync();
  }

  get count(): number {
    return this.matrix.size;
  }

  /** A new record; other index dims or HNSW parameters (a retune) rebuild the index from its new snapshot. */
  update(record: CollectionRecord): void {
    const old = this.record;
    this.record = record;
    if (old.indexDim === record.indexDim && JSON.stringify(old.hnsw) === JSON.stringify(record.hnsw)) return;
    this.index = this.openIndex();
    this.resync(); // the pending rows are emptied for the new index's dims and queued again
  }

  /** One committed write (idempotent): removals, rows whose metadata changed, added rows queued for the index; the filter columns journal it. */
  apply(w: WriteMessage): void {
    this.items.noteExternalWrite(this.record.id, toldWrite(w)); // cached filter matches are stale now
    for (const seq of w.removed) if (!this.pending.delete(seq)) this.index.remove(seq);
    this.rows.forget(w.removed);
    this.rows.forget(w.patched);
    if (w.seqs.length === 0) return;
    const dim = this.index.dim;
    if (w.dim === dim) w.seqs.forEach((seq, i) => this.pending.add(seq, w.prefixes.subarray(i * dim, (i + 1) * dim)));
    else for (const [seq, v] of this.items.vectorsBySeqs(w.seqs)) this.pending.add(seq, v); // sent before a retune reached us
    this.indexing.kick();
  }

  /** What this thread holds of the collection. */
  memory(): WorkerMemory {
    const filters = this.items.filters.stats(this.record.id);
    return {
      indexBytes: this.index.bytes,
      metadataCacheBytes: this.rows.bytes,
      filterColumnsBytes: filters.bytes,
      filterColumnsBuilds: filters.builds,
    };
  }

  close(): void {
    this.indexing.stop();
  }

  private openIndex(): PrefixIndex {
    const r = this.record;
    const snap = loadSnapshot(this.snapshotDir, r.id, r.indexDim, r.hnsw, this.items.highestIssuedSeq());
    return snap.index ?? PrefixIndex.create(r.indexDim, r.hnsw, this.matrix.size);
  }

  /** Makes the index hold exactly the matrix's rows (pending-index.ts), then indexes what it queued. */
  private resync(): void {
    resyncPending(this.index, this.matrix, this.pending, this.items);
    this.indexing.kick();
  }
}
