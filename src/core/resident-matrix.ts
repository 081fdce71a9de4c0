import { BlockStamps } from './block-stamps.js';
import { PrefixNorms } from './prefix-norms.js';
import { encodeHalfRow, encodeInt8Row, HALF_TABLE, type ResidentType } from './quantize.js';
import { SeqSlots } from './seq-slots.js';

/**
 * The rerank prefix of every live vector, resident in memory: one contiguous typed array, one
 * row of `width` (R) values per slot: float32 in `data` (type 'f32'), or the codes of
 * quantize.ts in `half` ('f16') or `codes` + `codeScale` ('int8'); the arrays of the other
 * types stay empty. Every piece of storage is a plain typed array. Rows are kept dense (a removed row is replaced by
 * the last one) so exact scans pass the whole buffer to a kernel without copying.
 * Prefix norms at the nesting dims ≤ R are kept per row (prefix-norms.ts) so any such prefix is
 * renormalised without touching the row; other prefix lengths are computed on demand.
 *
 * Slots are grouped in blocks of `blockRows`; each block carries the value `version` had after
 * the last write to one of its slots (its stamp; block-stamps.ts).
 */
/** One typed array of the matrix as a snapshot sees it (`perRow` values per slot). */
export interface MatrixPart {
  name: string;
  array: Float32Array | Uint32Array | Uint16Array | Int8Array | Uint8Array;
  perRow: number;
}

export class ResidentMatrix {
  data: Float32Array;
  /** f16 rows (type 'f16'). */
  half: Uint16Array;
  /** int8 rows and their per-row scales (type 'int8'): row value j ≈ codes[j] · codeScale. */
  codes: Int8Array;
  codeScale: Float32Array;
  /** seq of the row in each slot (seqs are < 2^32). */
  slotSeq: Uint32Array;
  private readonly norms: PrefixNorms;
  private readonly seqSlot = new SeqSlots();
  private capacity: number;
  size = 0;
  /** Bumped on every change; lets callers detect that slots moved under them. */
  version = 0;
  private scaleCache = new Map<number, { version: number; scale: Float32Array }>();
  /** Slots per block (the granularity of the stamps). */
  readonly blockRows: number;
  private readonly stamps: BlockStamps;

  readonly type: ResidentType;

  constructor(
    readonly width: number,
    nesting: number[],
    initialCapacity = 1024,
    opts: { blockRows?: number; type?: ResidentType } = {},
  ) {
    this.type = opts.type ?? 'f32';
    this.capacity = Math.max(16, initialCapacity);
    this.stamps = new BlockStamps(opts.blockRows ?? ResidentMatrix.BLOCK_ROWS, this.capacity);
    this.blockRows = this.stamps.blockRows;
    this.data = new Float32Array(this.type === 'f32' ? this.capacity * width : 0);
    this.half = new Uint16Array(this.type === 'f16' ? this.capacity * width : 0);
    this.codes = new Int8Array(this.type === 'int8' ? this.capacity * width : 0);
    this.codeScale = new Float32Array(this.type === 'int8' ? this.capacity : 0);
    this.slotSeq = new Uint32Array(this.capacity);
    this.norms = new PrefixNorms(width, nesting, this.capacity);
  }

  /** Default block size: small enough that a segment's check reads few stamps, large enough to cost nothing. */
  static readonly BLOCK_ROWS = 1024;

  /** The stamp of block b: `version` after the last write to one of its slots (0 if none). */
  blockVersion(b: number): number {
    return this.stamps.block(b);
  }

  /** The largest stamp over the blocks holding slots [from, from + count). */
  rangeVersion(from: number, count: number): number {
    return this.stamps.range(from, count);
  }

  /** Called after a write to `slot` has bumped `version`: stamps the slot's block with it. */
  private touch(slot: number): void {
    this.stamps.touch(slot, this.version);
  }

  get normDims(): number[] {
    return this.norms.dims;
  }

  get bytes(): number {
    const b = this.breakdown;
    return b.rows + b.norms + b.slots;
  }

  /** What GET /collections/:c reports of the matrix: bytes in all and by part, width and type. */
  get memory() {
    const b = this.breakdown;
    return {
      matrixBytes: this.bytes,
      rowBytes: b.rows,
      normBytes: b.norms,
      slotBytes: b.slots,
      residentDim: this.width,
      residentType: this.type,
    };
  }

  /** Bytes of the rows, of the prefix norms (and int8 scales), of the slot ↔ seq maps. */
  get breakdown(): { rows: number; norms: number; slots: number } {
    return {
      rows: this.data.byteLength + this.half.byteLength + this.codes.byteLength,
      norms: this.norms.values.byteLength + this.codeScale.byteLength,
      slots: this.slotSeq.byteLength + this.seqSlot.bytes,
    };
  }

  has(seq: number): boolean {
    return this.seqSlot.has(seq);
  }

  slotOf(seq: number): number | undefined {
    return this.seqSlot.get(seq);
  }

  /** Adds (or replaces) the row of `seq` from a full vector (its first R values are kept). */
  add(seq: number, v: Float32Array): void {
    let slot = this.seqSlot.get(seq);
    if (slot === undefined) {
      if (this.size === this.capacity) this.grow();
      slot = this.size++;
      this.seqSlot.set(seq, slot);
      this.slotSeq[slot] = seq;
    }
    const w = this.width;
    const off = slot * w;
    if (this.type === 'f32') this.data.set(v.subarray(0, w), off);
    else if (this.type === 'f16') encodeHalfRow(v, w, this.half, off);
    else this.codeScale[slot] = encodeInt8Row(v, w, this.codes, off);
    this.norms.write(slot, v);
    this.version++;
    this.touch(slot);
  }

  remove(seq: number): boolean {
    const slot = this.seqSlot.get(seq);
    if (slot === undefined) return false;
    const last = this.size - 1;
    if (slot !== last) {
      const w = this.width;
      if (this.type === 'f32') this.data.copyWithin(slot * w, last * w, (last + 1) * w);
      else if (this.type === 'f16') this.half.copyWithin(slot * w, last * w, (last + 1) * w);
      else {
        this.codes.copyWithin(slot * w, last * w, (last + 1) * w);
        this.codeScale[slot] = this.codeScale[last];
      }
      this.norms.move(last, slot);
      const moved = this.slotSeq[last];
      this.slotSeq[slot] = moved;
      this.seqSlot.set(moved, slot);
    }
    this.seqSlot.delete(seq);
    this.size = last;
    this.version++;
    this.touch(slot);
    this.touch(last);
    return true;
  }

  /** Grows by half: a doubling would leave up to half of a large matrix unused. */
  private grow(): void {
    const cap = Math.ceil(this.capacity * 1.5);
    const grown = <T extends Float32Array | Uint16Array | Int8Array>(a: T, make: (n: number) => T, per: number): T => {
      if (a.length === 0) return a;
      const b = make(cap * per);
      b.set(a);
      return b;
    };
    const data = grown(this.data, (n) => new Float32Array(n), this.width);
    this.half = grown(this.half, (n) => new Uint16Array(n), this.width);
    this.codes = grown(this.codes, (n) => new Int8Array(n), this.width);
    this.codeScale = grown(this.codeScale, (n) => new Float32Array(n), 1);
    const slotSeq = new Uint32Array(cap);
    slotSeq.set(this.slotSeq);
    this.norms.grow(cap);
    this.data = data;
    this.slotSeq = slotSeq;
    this.capacity = cap;
    this.stamps.grow(cap);
  }

  /**
   * Snapshot hook: the typed arrays that hold the matrix, each with its values per slot (the
   * first size·perRow values of each are the state). A snapshot writes them in this order and
   * a restore fills the same arrays of a matrix made with capacity ≥ size, then `restored`.
   */
  snapshotParts(): MatrixPart[] {
    const rows: MatrixPart[] =
      this.type === 'f32'
        ? [{ name: 'data', array: this.data, perRow: this.width }]
        : this.type === 'f16'
          ? [{ name: 'half', array: this.half, perRow: this.width }]
          : [
              { name: 'codes', array: this.codes, perRow: this.width },
              { name: 'codeScale', array: this.codeScale, perRow: 1 },
            ];
    return [
      ...rows,
      { name: 'slotSeq', array: this.slotSeq, perRow: 1 },
      { name: 'norms', array: this.norms.values, perRow: this.norms.perRow },
    ];
  }

  /**
   * Snapshot hook: after a reader filled the first `size` slots of every part of a new matrix,
   * builds the seq → slot map. False when a seq repeats: not a valid snapshot (discard the matrix).
   */
  restored(size: number): boolean {
    if (size > this.capacity) throw new RangeError(`restored ${size} rows into a capacity of ${this.capacity}`);
    if (this.size !== 0) throw new Error('restored() is for a new, empty matrix');
    for (let s = 0; s < size; s++) this.seqSlot.set(this.slotSeq[s], s);
    if (this.seqSlot.size !== size) return false;
    this.size = size;
    this.version++;
    this.stamps.fill(this.version, size);
    return true;
  }

  /** ||row[0:d]|| of one slot. */
  norm(slot: number, d: number): number {
    const idx = this.norms.column(d);
    if (idx !== undefined) return this.norms.values[slot * this.norms.perRow + idx];
    let s = 0;
    const row = this.row(slot, d);
    for (let i = 0; i < d; i++) s += row[i] * row[i];
    return Math.sqrt(s);
  }

  /** The first d values of one slot's row as float32 (a view for 'f32', decoded otherwise). */
  row(slot: number, d = this.width): Float32Array {
    const off = slot * this.width;
    if (this.type === 'f32') return this.data.subarray(off, off + d);
    const out = new Float32Array(d);
    if (this.type === 'f16') for (let i = 0; i < d; i++) out[i] = HALF_TABLE[this.half[off + i]];
    else for (let i = 0; i < d; i++) out[i] = this.codes[off + i] * this.codeScale[slot];
    return out;
  }

  /** Copies the first d values of the given slots into a dense n×d block, plus 1/||row[0:d]||. */
  gather(slots: ArrayLike<number>, d: number): { rows: Float32Array; scale: Float32Array } {
    if (d > this.width) throw new RangeError(`prefix ${d} exceeds the resident width ${this.width}`);
    const n = slots.length;
    const rows = new Float32Array(n * d);
    const scale = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      rows.set(this.row(slots[i], d), i * d);
      const nrm = this.norm(slots[i], d);
      scale[i] = nrm > 0 ? 1 / nrm : 0;
    }
    return { rows, scale };
  }

  /** 1/||row[0:d]|| of the given slots (0 for a zero prefix). */
  scales(slots: ArrayLike<number>, d: number): Float32Array {
    const out = new Float32Array(slots.length);
    const idx = this.norms.column(d);
    const nd = this.norms.perRow;
    const norms = this.norms.values;
    for (let i = 0; i < slots.length; i++) {
      const nrm = idx === undefined ? this.norm(slots[i], d) : norms[slots[i] * nd + idx];
      out[i] = nrm > 0 ? 1 / nrm : 0;
    }
    return out;
  }

  /** 1/||row[0:d]|| for every slot 0..size-1, cached until the next change. */
  scaleAll(d: number): Float32Array {
    const hit = this.scaleCache.get(d);
    if (hit && hit.version === this.version && hit.scale.length === this.size) return hit.scale;
    const scale = new Float32Array(this.size);
    for (let s = 0; s < this.size; s++) {
      const nrm = this.norm(s, d);
      scale[s] = nrm > 0 ? 1 / nrm : 0;
    }
    if (this.scaleCache.size > 16) this.scaleCache.clear();
    this.scaleCache.set(d, { version: this.version, scale });
    return scale;
  }
}
