import { normalizedPrefix } from '../core/prefix.js';
import type { ResidentMatrix } from '../core/resident-matrix.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { PendingRows } from '../search/pending.js';
import type { VectorsBySeq } from '../search/sources.js';

/**
 * Rows per native insertion call: ~10–50 ms of a thread-pool thread at 32 dims, short enough
 * that rows arriving meanwhile wait little, long enough that the hand-offs cost nothing.
 */
const BATCH_ROWS = 512;

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
  /** Seqs of the batch the thread pool is inserting now (they stay pending, and scanned, until it is done). */
  private flight: Set<number> | null = null;
  /** Of those, rows deleted or given new values since the batch left (they are not done by it). */
  private flightStale = new Set<number>();
  /** Of those, rows deleted since: removed from the index once the batch is in it. */
  private flightRemoved: number[] = [];
  /** Bumped by reset: a batch that left before belongs to another index. */
  private generation = 0;
  /** The index the batch goes into, and how many elements it held when the batch left. */
  private flightInto: PrefixIndex | null = null;
  private flightBase = 0;

  /**
   * `follower`: the rows wait for an index another thread inserts into (a search worker's view of
   * the main thread's graph, told which rows went in): any of them may be in that index already.
   */
  constructor(
    public dim: number,
    private readonly follower = false,
  ) {}

  get size(): number {
    return this.slotOf.size;
  }

  /**
   * `index`'s elements less those of the batch being inserted into it (they still count as
   * pending): with `size`, a count of the rows that adds up while a batch is half inserted.
   */
  elementsOf(index: PrefixIndex): number {
    return this.flight && this.flightInto === index ? this.flightBase : index.elementCount;
  }

  has(seq: number): boolean {
    return this.slotOf.has(seq);
  }

  /** The queued prefix of `seq` (a view), if it is pending. */
  prefixOf(seq: number): Float32Array | undefined {
    const slot = this.slotOf.get(seq);
    return slot === undefined ? undefined : this.data.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /**
   * True while a batch is being inserted: its rows are then both pending and (some of them)
   * already found by the index, so the search path drops the pending copies it finds twice.
   */
  get overlapping(): boolean {
    return this.follower || this.flight !== null;
  }

  /** Queues a committed row (seq ≥ 1; its first `dim` values are kept, normalised); a seq queued again takes the new values. */
  add(seq: number, vector: Float32Array): void {
    if (this.flight?.has(seq)) this.flightStale.add(seq);
    let slot = this.slotOf.get(seq);
    if (slot === undefined) {
      if (this.end * this.dim === this.data.length) this.makeRoom();
      slot = this.end++;
      this.seqs[slot] = seq;
      this.slotOf.set(seq, slot);
    }
    this.data.set(normalizedPrefix(vector, this.dim), slot * this.dim);
  }

  /** Drops a row not indexed yet; false when it was not pending. */
  delete(seq: number): boolean {
    const slot = this.slotOf.get(seq);
    if (slot === undefined) return false;
    if (this.flight?.has(seq)) {
      this.flightStale.add(seq);
      this.flightRemoved.push(seq);
    }
    this.slotOf.delete(seq);
    this.seqs[slot] = 0;
    if (this.slotOf.size === 0) this.start = this.end = 0;
    return true;
  }

  /** Empties the queue for an index at `dim` dims (the caller queues what that index lacks). */
  reset(dim: number): void {
    if (dim !== this.dim) this.data = new Float32Array(0);
    this.dim = dim;
    this.generation++;
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

  /**
   * Inserts the next pending rows (up to BATCH_ROWS, in commit order) into `index` on the thread
   * pool; resolves with the seqs it inserted that left the pending set, once they did. One
   * batch at a time. Rows deleted meanwhile are removed from the index after, rows given new
   * values meanwhile stay pending (the next batch gives the index their new values).
   */
  async indexBatch(index: PrefixIndex): Promise<number[]> {
    if (this.flight) throw new Error('PendingIndex.indexBatch: a batch is already being inserted');
    const d = this.dim;
    const slots: number[] = [];
    for (let slot = this.start; slot < this.end && slots.length < BATCH_ROWS; slot++) if (this.seqs[slot] !== 0) slots.push(slot);
    if (slots.length === 0) return [];
    const labels = new Uint32Array(slots.length);
    const rows = new Float32Array(slots.length * d);
    slots.forEach((slot, i) => {
      labels[i] = this.seqs[slot];
      rows.set(this.data.subarray(slot * d, (slot + 1) * d), i * d);
    });
    const gen = this.generation;
    this.flight = new Set(labels);
    this.flightInto = index;
    this.flightBase = index.elementCount;
    let stale: Set<number>;
    let removed: number[];
    try {
      await index.addBatch(labels, rows);
    } finally {
      stale = this.flightStale;
      removed = this.flightRemoved;
      this.flight = null;
      this.flightInto = null;
      this.flightStale = new Set();
      this.flightRemoved = [];
    }
    if (gen !== this.generation) return []; // reset for another index meanwhile
    const left: number[] = [];
    for (const seq of labels) if (!stale.has(seq) && this.delete(seq)) left.push(seq);
    for (const seq of removed) index.remove(seq);
    while (this.start < this.end && this.seqs[this.start] === 0) this.start++;
    return left;
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
 * since) are removed, rows the index lacks are queued in `pending` (queueMissing). Used by a
 * collection's runtime. Returns how many of each.
 */
export function resyncPending(
  index: PrefixIndex,
  m: ResidentMatrix,
  pending: PendingIndex,
  vectors: VectorsBySeq,
): { queued: number; removed: number } {
  const live = new Set(readStable(m, () => Array.from(m.slotSeq.subarray(0, m.size))));
  const labels = index.labels();
  let removed = 0;
  for (const seq of labels) if (!live.has(seq) && index.remove(seq)) removed++;
  return { queued: queueMissing(index, m, pending, vectors, live, new Set(labels)), removed };
}

/**
 * Empties `pending` (for `index`'s dims) and queues the matrix's rows (`live`, default: all it
 * holds now) that `inIndex` (default: the index's labels) lacks, each one's prefix from the matrix
 * when it is wide enough and holds float32, else from the store's full vectors. Also what a
 * search worker's replica does, which never changes the index. Returns how many it queued.
 */
export function queueMissing(
  index: PrefixIndex,
  m: ResidentMatrix,
  pending: PendingIndex,
  vectors: VectorsBySeq,
  live: Iterable<number> = readStable(m, () => Array.from(m.slotSeq.subarray(0, m.size))),
  inIndex: Set<number> = new Set(index.labels()),
): number {
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
  return missing.length;
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
