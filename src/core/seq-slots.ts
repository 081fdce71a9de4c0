/**
 * seq → slot of the resident matrix as a flat Int32Array over the seqs' range (-1: absent).
 * A rerank looks up every candidate: a typed array read is several times cheaper than a Map
 * lookup on a large Map (bench/search.ts profile, 100 candidates a query). Seqs are issued in
 * increasing order and never reused, so the range grows with the seqs issued, not the rows
 * held: 4 bytes per seq between the lowest and highest held.
 */
export class SeqSlots {
  private table = new Int32Array(0).fill(-1);
  private base = 0;
  size = 0;

  get(seq: number): number | undefined {
    const i = seq - this.base;
    if (i < 0 || i >= this.table.length) return undefined;
    const s = this.table[i];
    return s < 0 ? undefined : s;
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  set(seq: number, slot: number): void {
    if (this.table.length === 0) this.base = seq;
    let i = seq - this.base;
    if (i < 0) {
      this.rebase(seq);
      i = 0;
    } else if (i >= this.table.length) {
      this.resize(Math.max(i + 1, Math.ceil(this.table.length * 1.5), 1024));
    }
    if (this.table[i] < 0) this.size++;
    this.table[i] = slot;
  }

  delete(seq: number): void {
    const i = seq - this.base;
    if (i >= 0 && i < this.table.length && this.table[i] >= 0) {
      this.table[i] = -1;
      this.size--;
    }
  }

  get bytes(): number {
    return this.table.byteLength;
  }

  private resize(len: number): void {
    const t = new Int32Array(len).fill(-1);
    t.set(this.table);
    this.table = t;
  }

  /** A seq below the lowest held (only when rows are added out of seq order). */
  private rebase(seq: number): void {
    const shift = this.base - seq;
    const t = new Int32Array(this.table.length + shift).fill(-1);
    t.set(this.table, shift);
    this.table = t;
    this.base = seq;
  }
}
