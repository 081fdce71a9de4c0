import { normalizedPrefix } from '../core/prefix.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { PendingRows } from '../search/pending.js';

/**
 * While writes arrive (one within this many ms), indexing takes short slices with long gaps
 * between (about a tenth of the event loop): HNSW insertion costs several times what the commit
 * does, so this keeps acknowledged ingest near the commit's speed; the index catches up after.
 */
const WRITE_QUIET_MS = 50;
const BUSY_SLICE_MS = 1;
const BUSY_GAP_MS = 9;
/** Otherwise (or while someone waits for the index) it runs in slices of this length, back to back. */
const IDLE_SLICE_MS = 8;
const ROWS_PER_CLOCK_CHECK = 16;

/**
 * Committed rows waiting for the prefix index (HNSW insertion is the slow part of a write, so it
 * runs behind the commit). Holds each row's normalised prefix at the index's dims: what the
 * search path scans exactly meanwhile (src/search/pending.ts) and what the index is given.
 * Indexing runs in time slices that leave most of the event loop to writes while they arrive.
 */
export class PendingIndex implements PendingRows {
  readonly rows = new Map<number, Float32Array>();
  private lastWriteAt = -Infinity;
  /** Callers waiting for the index to catch up (it then runs at full speed). */
  waiters = 0;

  constructor(public dim: number) {}

  get size(): number {
    return this.rows.size;
  }

  /** Queues a committed row (its first `dim` values are kept, normalised). */
  add(seq: number, vector: Float32Array): void {
    this.rows.set(seq, normalizedPrefix(vector, this.dim));
    this.lastWriteAt = performance.now();
  }

  /** Drops a row not indexed yet; false when it was not pending. */
  delete(seq: number): boolean {
    return this.rows.delete(seq);
  }

  /** Empties the queue for an index at `dim` dims (the caller queues what that index lacks). */
  reset(dim: number): void {
    this.dim = dim;
    this.rows.clear();
  }

  /** Whether writes are arriving now: indexing then yields more of the event loop. */
  get busy(): boolean {
    return this.waiters === 0 && performance.now() - this.lastWriteAt < WRITE_QUIET_MS;
  }

  /** The pause before the next slice. */
  get gapMs(): number {
    return this.busy ? BUSY_GAP_MS : 0;
  }

  /** Inserts pending rows into `index` in commit order for one time slice; returns how many. */
  indexSlice(index: PrefixIndex): number {
    const until = performance.now() + (this.busy ? BUSY_SLICE_MS : IDLE_SLICE_MS);
    let n = 0;
    for (const [seq, p] of this.rows) {
      index.add(seq, p);
      this.rows.delete(seq);
      if (++n % ROWS_PER_CLOCK_CHECK === 0 && performance.now() >= until) break;
    }
    return n;
  }
}
