/**
 * A set of seqs as a filter's match holds it: the seqs in ascending order (for scans over the
 * matching rows) and a bitset over their span (for the per-node test of a filtered HNSW walk).
 * Built once per match and shared by every search that reuses the match.
 */
export class SeqSet {
  readonly base: number;
  private readonly span: number;
  private readonly bits: Uint32Array;

  /** `seqs` ascending, without repeats; the set keeps the array (it must not change afterwards). */
  constructor(readonly seqs: Uint32Array) {
    const n = seqs.length;
    this.base = n === 0 ? 0 : seqs[0];
    this.span = n === 0 ? 0 : seqs[n - 1] - this.base + 1;
    this.bits = new Uint32Array((this.span + 31) >>> 5);
    for (let i = 0; i < n; i++) {
      const o = seqs[i] - this.base;
      this.bits[o >>> 5] |= 1 << (o & 31);
    }
  }

  get size(): number {
    return this.seqs.length;
  }

  /** Bytes of its two arrays. */
  get bytes(): number {
    return this.seqs.byteLength + this.bits.byteLength;
  }

  has(seq: number): boolean {
    const o = seq - this.base;
    return o >= 0 && o < this.span && (this.bits[o >>> 5] & (1 << (o & 31))) !== 0;
  }
}
