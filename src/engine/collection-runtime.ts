import { ResidentMatrix } from '../core/resident-matrix.js';
import { writeMatrixSnapshot } from '../index/matrix-snapshot.js';
import { PrefixIndex } from '../index/prefix-index.js';
import { writeSnapshot } from '../index/snapshot.js';
import type { SearchSource, VectorsBySeq } from '../search/sources.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';
import { openCollection, type OpenReport } from './collection-loader.js';
import { PendingIndex, resyncPending } from './pending-index.js';
import { SliceScheduler } from './slice-scheduler.js';

export type { OpenReport } from './collection-loader.js';
type Row = { seq: number; vector: Float32Array };
/** For a swap that keeps the index: no row needs reading. */
const NO_VECTORS: VectorsBySeq = { vectorsBySeqs: () => new Map() };

/**
 * One collection's caches of SQLite: the prefix HNSW index and the resident rerank matrix.
 * Both can always be rebuilt from the store; opening loads valid snapshots and replays what the
 * store has beyond them, or rebuilds (collection-loader.ts). A committed write reaches the
 * matrix at once; its HNSW insertion runs behind it (pending-index.ts), the rows meanwhile
 * searched exactly beside the index. Index insertion and rebuilds run in one queue.
 */
export class CollectionRuntime implements SearchSource {
  /** Index changes since its last snapshot. */
  dirty = 0;
  /** Matrix changes since its last snapshot. */
  matrixDirty = 0;
  highestSeq = 0;
  lastOpen?: OpenReport;
  readonly pending: PendingIndex;
  private queue: Promise<void> = Promise.resolve();
  /** Index insertion in time slices, run in the queue. */
  private readonly indexing: SliceScheduler;
  /** Told of the rows each batch put into `index` (the search pool's workers drop them from their pending rows). */
  onIndexed?: (seqs: number[], index: PrefixIndex) => void;

  private constructor(
    public record: CollectionRecord,
    public index: PrefixIndex,
    readonly matrix: ResidentMatrix,
  ) {
    this.pending = new PendingIndex(index.dim);
    // In the queue (no insertion during a rebuild); an error is kept for `settled` to throw.
    const slice = async () => {
      const index = this.index;
      const done = await this.pending.indexBatch(index);
      this.dirty += done.length;
      if (done.length > 0) this.onIndexed?.(done, index);
    };
    this.indexing = new SliceScheduler(this.pending, slice, {
      run: (slice) => this.exclusive(slice),
      failed: () => {},
    });
  }

  /** `shared`: the matrix on SharedArrayBuffers, for the search pool's workers (src/engine/pool/). */
  static create(record: CollectionRecord, shared = false): CollectionRuntime {
    return new CollectionRuntime(
      record,
      PrefixIndex.create(record.indexDim, record.hnsw, 1024),
      new ResidentMatrix(record.residentDim, record.nesting, 1024, { type: record.residentType, shared }),
    );
  }

  /** Loads valid snapshots and replays the store beyond them (or rebuilds), yielding between pages. */
  static open(record: CollectionRecord, items: ItemStore, snapshotDir: string, shared = false): Promise<CollectionRuntime> {
    return openCollection(record, items, snapshotDir, (index, matrix) => new CollectionRuntime(record, index, matrix), shared);
  }

  /**
   * Applies a committed write to the caches at once: the matrix, removals from the index; added
   * rows are queued for the index (and found by the pending scan until they are in it).
   */
  apply(added: Row[], removedSeqs: number[]): void {
    // One write of the matrix's seqlock: a worker's search overlapping it reads again once.
    this.matrix.batch(() => {
      for (const seq of removedSeqs) {
        this.matrix.remove(seq);
        if (this.pending.delete(seq) || this.index.remove(seq)) this.dirty++;
      }
      for (const { seq, vector } of added) {
        this.matrix.add(seq, vector);
        this.pending.add(seq, vector);
        if (seq > this.highestSeq) this.highestSeq = seq;
      }
    });
    // Pending rows count as index changes: a snapshot written before they are indexed holds
    // what the index holds (the rest is replayed at open), and the next one holds them.
    this.dirty += added.length;
    this.matrixDirty += added.length + removedSeqs.length;
    this.indexing.kick();
  }

  /**
   * Makes the index hold exactly the matrix's rows: labels the matrix lacks (deleted or replaced
   * since) are removed, rows the index lacks are queued for it (their prefix from the matrix
   * when it is wide enough and holds float32, else from the store). Returns how many of each.
   */
  resyncIndex(vectors: VectorsBySeq): { queued: number; removed: number } {
    const r = resyncPending(this.index, this.matrix, this.pending, vectors);
    this.dirty += r.removed + r.queued;
    this.indexing.kick();
    return r;
  }

  /**
   * Runs `fn` in the index queue: no index insertion runs meanwhile (commits still reach SQLite
   * and the matrix; their rows wait as pending). Used to rebuild the index at other dims.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Replaces the record and the index together (inside `exclusive`), then resyncs the index. */
  swap(record: CollectionRecord, index: PrefixIndex, vectors: VectorsBySeq = NO_VECTORS): void {
    const changed = index !== this.index;
    this.record = record;
    this.index = index;
    this.dirty++;
    if (changed) this.resyncIndex(vectors);
  }

  /** Resolves once at most `rows` committed rows wait for the index. */
  async pendingAtMost(rows: number): Promise<void> {
    do {
      this.indexing.kick();
      await this.queue;
      if (this.indexing.error) throw this.indexing.error;
    } while (this.pending.size > rows);
  }

  /** Resolves once every committed row is in the index. */
  settled(): Promise<void> {
    return this.pendingAtMost(0);
  }

  /**
   * Writes the snapshots of what changed since the last ones: the index (also when forced: a
   * retune swapped it), then the resident matrix. True when anything was written.
   */
  snapshot(dir: string, force = false): boolean {
    let wrote = false;
    if (force || this.dirty > 0) {
      writeSnapshot(dir, this.record.id, this.index, this.highestSeq);
      this.dirty = 0;
      wrote = true;
    }
    if (this.matrixDirty > 0) {
      writeMatrixSnapshot(dir, this.record.id, this.matrix, this.highestSeq);
      this.matrixDirty = 0;
      wrote = true;
    }
    return wrote;
  }

  get count(): number {
    return this.matrix.size;
  }
}
