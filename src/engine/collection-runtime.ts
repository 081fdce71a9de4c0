import { ResidentMatrix } from '../core/resident-matrix.js';
import { PrefixIndex } from '../index/prefix-index.js';
import { loadSnapshot, writeSnapshot } from '../index/snapshot.js';
import type { CollectionRecord } from '../store/collections.js';
import type { ItemStore } from '../store/items.js';

export type IndexState = 'ready' | 'loading' | 'stale';

export interface OpenReport { loadedSnapshot: boolean; reason: string; replayed: number; removed: number; rows: number; ms: number }

/**
 * One collection's caches of SQLite: the prefix HNSW index and the resident rerank matrix.
 * Both can always be rebuilt from the store; `open` loads a valid snapshot and replays what
 * the store has beyond it, or rebuilds.
 */
export class CollectionRuntime {
  /** Changes since the last snapshot. */
  dirty = 0;
  highestSeq = 0;
  state: IndexState = 'loading';
  lastOpen?: OpenReport;

  private constructor(
    readonly record: CollectionRecord,
    public index: PrefixIndex,
    readonly matrix: ResidentMatrix,
  ) {}

  static create(record: CollectionRecord): CollectionRuntime {
    const rt = new CollectionRuntime(record, PrefixIndex.create(record.indexDim, record.hnsw, 1024), new ResidentMatrix(record.residentDim, record.nesting));
    rt.state = 'ready';
    return rt;
  }

  static open(record: CollectionRecord, items: ItemStore, snapshotDir: string): CollectionRuntime {
    const t0 = performance.now();
    const count = items.count(record.id);
    const snap = loadSnapshot(snapshotDir, record.id, record.indexDim, record.hnsw, items.highestIssuedSeq());
    const index = snap.index ?? PrefixIndex.create(record.indexDim, record.hnsw, count);
    const matrix = new ResidentMatrix(record.residentDim, record.nesting, count);
    const rt = new CollectionRuntime(record, index, matrix);
    const inIndex = snap.index ? new Set(index.labels()) : new Set<number>();
    let replayed = 0;
    const live = new Set<number>();
    for (const { seq, vector } of items.scan(record.id)) {
      matrix.add(seq, vector);
      live.add(seq);
      if (!inIndex.has(seq)) {
        index.add(seq, vector);
        replayed++;
      }
      if (seq > rt.highestSeq) rt.highestSeq = seq;
    }
    // Labels the snapshot holds but the store no longer does: deleted or replaced since.
    let removed = 0;
    for (const seq of inIndex) if (!live.has(seq) && index.remove(seq)) removed++;
    if (snap.index) rt.highestSeq = Math.max(rt.highestSeq, snap.manifest.highestSeq);
    rt.dirty = snap.index ? replayed + removed : count;
    rt.state = 'ready';
    rt.lastOpen = {
      loadedSnapshot: snap.index !== null, reason: snap.index ? 'snapshot loaded' : snap.reason,
      replayed, removed, rows: count, ms: performance.now() - t0,
    };
    return rt;
  }

  /** Applies a committed write to the caches. */
  apply(added: { seq: number; vector: Float32Array }[], removedSeqs: number[]): void {
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
}
