import { normalizedPrefix } from '../core/prefix.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { PendingRows } from '../search/pending.js';
import type { VectorsBySeq } from '../search/sources.js';

/**
 * While writes arrive (one within this many ms), indexing takes short slices with long gaps
 * between (about a tenth of the event loop): HNSW insertion costs several times what the commit
 * does, so this keeps acknowledged ingest near the commit's speed; the index catches up after.
 */
const WRITE_QUIET_MS = 50;
const BUSY_SLICE_MS = 1;
const BUSY_GAP_MS = 9;
/** Otherwise (or while someone waits for the index) it runs in slices of this length, back to back. */
const IDLE_SLICE_MS = 2;
const ROWS_PER_CLOCK_CHECK = 4;

/**
 * Committed rows waiting for the prefix index (HNSW insertion is the slow part of a write, so it
 * runs behind the commit). Holds each row's normalised prefix at the index's dims, in commit
 * order in one block (`data`, slots [start, end), `seqs[slot]` 0 where a row left): what the
 * search path scans exactly meanwhile (src/search/pending.ts) in one pass over contiguous
 * memory, and what the index is given. Indexing runs in time slices that leave most of the
 * event loop to writes while they arrive.
 */
export class PendingIndex implements PendingRows {
  data = new Float32Array(0);
  seqs = new Uint32Array(0);
  start = 0;
  end = 0;
  private readonly slotOf = new Map<number, number>();
  private lastWriteAt = -Infinity;
  /** Callers waiting for the index to catch up (it then runs at full speed). */
  waiters = 0;

  constructor(public dim: number) {}

  get size(): number {
    return this.slotOf.size;
  }

  has(seq: number): boolean {
    return this.slotOf.has(seq);
  }

  /** The queued prefix of `seq` (a view), if it is pending. */
  prefixOf(seq: number): Float32Array | undefined {
    const slot = this.slotOf.get(seq);
    return slot === undefined ? undefined : this.data.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /** Queues a committed row (seq ≥ 1; its first `dim` values are kept, normalised); a seq queued again takes the new values. */
  add(seq: number, vector: Float32Array): void {
    let slot = this.slotOf.get(seq);
    if (slot === undefined) {
      if (this.end * this.dim === this.data.length) this.makeRoom();
      slot = this.end++;
      this.seqs[slot] = seq;
      this.slotOf.set(seq, slot);
    }
    this.data.set(normalizedPrefix(vector, this.dim), slot * this.dim);
    this.lastWriteAt = performance.now();
  }

  /** Drops a row not indexed yet; false when it was not pending. */
  delete(seq: number): boolean {
    const slot = this.slotOf.get(seq);
    if (slot === undefined) return false;
    this.slotOf.delete(seq);
    this.seqs[slot] = 0;
    if (this.slotOf.size === 0) this.start = this.end = 0;
    return true;
  }

  /** Empties the queue for an index at `dim` dims (the caller queues what that index lacks). */
  reset(dim: number): void {
    if (dim !== this.dim) this.data = new Float32Array(0);
    this.dim = dim;
    this.slotOf.clear();
    this.seqs.fill(0, this.start, this.end);
    this.start = this.end = 0;
  }

  /** Room for one more row at `end`: the live rows moved to the front, into a block twice as large when over half full. */
  private makeRoom(): void {
    const d = this.dim;
    const cap = this.data.length / d;
    const live = this.slotOf.size;
    let data = this.data;
    let seqs = this.seqs;
    if (live * 2 > cap || cap === 0) {
      const next = Math.max(1024, cap * 2);
      data = new Float32Array(next * d);
      seqs = new Uint32Array(next);
    }
    let to = 0;
    for (let slot = this.start; slot < this.end; slot++) {
      const seq = this.seqs[slot];
      if (seq === 0) continue;
      if (to !== slot || data !== this.data) data.set(this.data.subarray(slot * d, (slot + 1) * d), to * d);
      seqs[to] = seq;
      this.slotOf.set(seq, to++);
    }
    seqs.fill(0, to, Math.max(to, this.end));
    this.data = data;
    this.seqs = seqs;
    this.start = 0;
    this.end = to;
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
    const d = this.dim;
    let n = 0;
    while (this.start < this.end) {
      const slot = this.start++;
      const seq = this.seqs[slot];
      if (seq === 0) continue;
      index.add(seq, this.data.subarray(slot * d, (slot + 1) * d));
      this.delete(seq);
      if (++n % ROWS_PER_CLOCK_CHECK === 0 && performance.now() >= until) break;
    }
    return n;
  }
}

/** Rows read per step when a resync fetches prefixes (from the matrix or the store). */
const RESYNC_CHUNK = 2000;

/**
 * Re-reads `fn` until no write of the matrix overlapped it (another thread may write a shared
 * matrix; on the writer's own thread the first read stands).
 */
export function readStable<T>(m: ResidentMatrix, fn: () => T): T {
  for (;;) {
    const v = m.version;
    if (Number.isNaN(v)) continue;
    const r = fn();
    if (m.version === v) return r;
  }
}

/**
 * Makes `index` hold exactly the matrix's rows: labels the matrix lacks (deleted or replaced
 * since) are removed, rows the index lacks are queued in `pending` (emptied first), their
 * prefix from the matrix when it is wide enough and holds float32, else from the store's full
 * vectors. Used by a collection's runtime and by a search worker's replica. Returns how many of each.
 */
export function resyncPending(
  index: PrefixIndex,
  m: ResidentMatrix,
  pending: PendingIndex,
  vectors: VectorsBySeq,
): { queued: number; removed: number } {
  const live = new Set(readStable(m, () => Array.from(m.slotSeq.subarray(0, m.size))));
  const labels = index.labels();
  const inIndex = new Set(labels);
  let removed = 0;
  for (const seq of labels) if (!live.has(seq) && index.remove(seq)) removed++;
  const missing = [...live].filter((seq) => !inIndex.has(seq));
  const dim = index.dim;
  pending.reset(dim);
  // Quantised rows are not read back as prefixes: those come from the store's full vectors.
  const fromMatrix = m.type === 'f32' && m.width >= dim;
  for (let i = 0; i < missing.length; i += RESYNC_CHUNK) {
    const part = missing.slice(i, i + RESYNC_CHUNK);
    const found = fromMatrix ? readStable(m, () => prefixesOf(m, part, dim)) : vectors.vectorsBySeqs(part);
    for (const [seq, v] of found) pending.add(seq, v);
  }
  return { queued: missing.length, removed };
}

/** Copies of the first `dim` values of the given seqs' rows (seqs no longer held are left out). */
function prefixesOf(m: ResidentMatrix, seqs: number[], dim: number): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  for (const seq of seqs) {
    const slot = m.slotOf(seq);
    if (slot !== undefined) out.set(seq, m.data.slice(slot * m.width, slot * m.width + dim));
  }
  return out;
}
