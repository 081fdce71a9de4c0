import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ResidentMatrix } from '../core/resident-matrix.js';
import { PrefixIndex } from '../index/prefix-index.js';
import { loadSnapshot, writeSnapshot } from '../index/snapshot.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';

export interface OpenReport { loadedSnapshot: boolean; reason: string; replayed: number; removed: number; rows: number; ms: number }
type Row = { seq: number; vector: Float32Array };

/** Rows per page when loading, and per chunk when applying writes: bounds event-loop stalls. */
export const LOAD_PAGE = 2000;
export const APPLY_CHUNK = 64;

/**
 * One collection's caches of SQLite: the prefix HNSW index and the resident rerank matrix.
 * Both can always be rebuilt from the store; opening loads a valid snapshot and replays what
 * the store has beyond it, or rebuilds. Cache updates run in commit order through one queue.
 */
export class CollectionRuntime {
  /** Changes since the last snapshot. */
  dirty = 0;
  highestSeq = 0;
  lastOpen?: OpenReport;
  private queue: Promise<void> = Promise.resolve();

  private constructor(public record: CollectionRecord, public index: PrefixIndex, readonly matrix: ResidentMatrix) {}

  static create(record: CollectionRecord): CollectionRuntime {
    return new CollectionRuntime(record, PrefixIndex.create(record.indexDim, record.hnsw, 1024), new ResidentMatrix(record.residentDim, record.nesting, 1024, { type: record.residentType }));
  }

  /** Loads a valid snapshot and replays the store beyond it (or rebuilds), yielding between pages. */
  static async open(record: CollectionRecord, items: ItemStore, snapshotDir: string): Promise<CollectionRuntime> {
    const load = new Loader(record, items, snapshotDir);
    for (let page = items.page(record.id, 0, LOAD_PAGE); page.length; page = items.page(record.id, load.lastSeq, LOAD_PAGE)) {
      load.add(page);
      await yieldToLoop();
    }
    return load.finish();
  }

  /** Queues a committed write; applied in commit order, in chunks that yield to the event loop. */
  apply(added: Row[], removedSeqs: number[]): Promise<void> {
    const run = async () => {
      this.applyNow([], removedSeqs);
      for (let i = 0; i < added.length; i += APPLY_CHUNK) {
        if (i > 0) await yieldToLoop();
        this.applyNow(added.slice(i, i + APPLY_CHUNK), []);
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Runs `fn` in the write queue: no cache update lands while it runs (commits still reach
   * SQLite; their cache updates wait behind it). Used to rebuild the index at other dims.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.then(() => undefined, () => undefined);
    return p;
  }

  /** Replaces the record and the index together (inside `exclusive`). */
  swap(record: CollectionRecord, index: PrefixIndex): void {
    this.record = record;
    this.index = index;
    this.dirty++;
  }

  /** Resolves once every queued write is in the caches. */
  settled(): Promise<void> {
    return this.queue;
  }

  private applyNow(added: Row[], removedSeqs: number[]): void {
    for (const seq of removedSeqs) {
      this.matrix.remove(seq);
      this.index.remove(seq);
    }
    for (const { seq, vector } of added) {
      this.matrix.add(seq, vector);
      this.index.add(seq, vector);
      if (seq > this.highestSeq) this.highestSeq = seq;
    }
    this.dirty += added.length + removedSeqs.length;
  }

  /** Writes a snapshot when anything changed since the last one (or when forced). */
  snapshot(dir: string, force = false): boolean {
    if (!force && this.dirty === 0) return false;
    writeSnapshot(dir, this.record.id, this.index, this.highestSeq);
    this.dirty = 0;
    return true;
  }

  get count(): number {
    return this.matrix.size;
  }

  /** Internal: used by Loader. */
  static assemble(record: CollectionRecord, index: PrefixIndex, matrix: ResidentMatrix): CollectionRuntime {
    return new CollectionRuntime(record, index, matrix);
  }
}

/** Builds the caches from pages of rows, reusing a valid snapshot for the index. */
class Loader {
  private readonly t0 = performance.now();
  private readonly snap: ReturnType<typeof loadSnapshot>;
  private readonly rt: CollectionRuntime;
  private readonly inIndex: Set<number>;
  private readonly live = new Set<number>();
  private replayed = 0;
  private readonly count: number;
  lastSeq = 0;

  constructor(record: CollectionRecord, items: ItemStore, snapshotDir: string) {
    this.count = items.count(record.id);
    this.snap = loadSnapshot(snapshotDir, record.id, record.indexDim, record.hnsw, items.highestIssuedSeq());
    const index = this.snap.index ?? PrefixIndex.create(record.indexDim, record.hnsw, this.count);
    this.rt = CollectionRuntime.assemble(record, index, new ResidentMatrix(record.residentDim, record.nesting, this.count, { type: record.residentType }));
    this.inIndex = this.snap.index ? new Set(index.labels()) : new Set<number>();
  }

  add(rows: Row[]): void {
    for (const { seq, vector } of rows) {
      this.rt.matrix.add(seq, vector);
      this.live.add(seq);
      if (!this.inIndex.has(seq)) {
        this.rt.index.add(seq, vector);
        this.replayed++;
      }
      this.lastSeq = seq;
    }
  }

  finish(): CollectionRuntime {
    const rt = this.rt;
    // Labels the snapshot holds but the store no longer does: deleted or replaced since.
    let removed = 0;
    for (const seq of this.inIndex) if (!this.live.has(seq) && rt.index.remove(seq)) removed++;
    rt.highestSeq = Math.max(this.lastSeq, this.snap.index ? this.snap.manifest.highestSeq : 0);
    rt.dirty = this.snap.index ? this.replayed + removed : this.live.size;
    rt.lastOpen = {
      loadedSnapshot: this.snap.index !== null, reason: this.snap.index ? 'snapshot loaded' : this.snap.reason,
      replayed: this.replayed, removed, rows: this.live.size, ms: performance.now() - this.t0,
    };
    return rt;
  }
}
