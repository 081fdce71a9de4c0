import { allocate, current, grow, view } from './shared-array.js';

/** The buffers of a shared SeqSlots, for a reader in another thread. */
export interface SeqSlotsBuffers {
  table: SharedArrayBuffer;
  meta: SharedArrayBuffer;
}

/**
 * seq → slot of the resident matrix as a flat Int32Array over the seqs' range (-1: absent).
 * A rerank looks up every candidate: a typed array read is several times cheaper than a Map
 * lookup on a large Map (bench/search.ts profile, 100 candidates a query). Seqs are issued in
 * increasing order and never reused, so the range grows with the seqs issued, not the rows
 * held: 4 bytes per seq between the lowest and highest held. The table and its base and count
 * may live on shared buffers (shared-array.ts) that worker threads read.
 */
export class SeqSlots {
  private table: Int32Array;
  /** [base, size]: the seq of table[0] and the entries held (shared with readers). */
  private readonly meta: Float64Array;

  constructor(shared = false, attached?: SeqSlotsBuffers) {
    this.table = attached ? view(Int32Array, attached.table) : allocate(Int32Array, 0, shared, 'seq table');
    this.meta = attached ? view(Float64Array, attached.meta) : allocate(Float64Array, 2, shared, 'seq table');
  }

  /** True when the writer grew the shared table since this view of it was made. */
  get stale(): boolean {
    return this.table.byteLength !== this.table.buffer.byteLength;
  }

  /** A reader's table after the writer grew it (shared-array.ts). */
  refresh(): void {
    this.table = current(Int32Array, this.table);
  }

  get buffers(): SeqSlotsBuffers {
    return { table: this.table.buffer as SharedArrayBuffer, meta: this.meta.buffer as SharedArrayBuffer };
  }

  private get base(): number {
    return this.meta[0];
  }

  get size(): number {
    return this.meta[1];
  }

  get(seq: number): number | undefined {
    const i = seq - this.meta[0];
    if (i < 0 || i >= this.table.length) return undefined;
    const s = this.table[i];
    return s < 0 ? undefined : s;
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  set(seq: number, slot: number): void {
    if (this.table.length === 0) this.meta[0] = seq;
    let i = seq - this.base;
    if (i < 0) {
      this.rebase(seq);
      i = 0;
    } else if (i >= this.table.length) {
      this.table = grow(Int32Array, this.table, Math.max(i + 1, Math.ceil(this.table.length * 1.5), 1024), -1, 'seq table');
    }
    if (this.table[i] < 0) this.meta[1]++;
    this.table[i] = slot;
  }

  delete(seq: number): void {
    const i = seq - this.base;
    if (i >= 0 && i < this.table.length && this.table[i] >= 0) {
      this.table[i] = -1;
      this.meta[1]--;
    }
  }

  get bytes(): number {
    return this.table.byteLength;
  }

  /** A seq below the lowest held (only when rows are added out of seq order): the table shifts up. */
  private rebase(seq: number): void {
    const shift = this.base - seq;
    const len = this.table.length;
    this.table = grow(Int32Array, this.table, len + shift, -1, 'seq table');
    this.table.copyWithin(shift, 0, len);
    this.table.fill(-1, 0, shift);
    this.meta[0] = seq;
  }
}
