import { MatrixStorage, type MatrixHandle, type MatrixPart } from './matrix-storage.js';
import { encodeHalfRow, encodeInt8Row, HALF_TABLE, type ResidentType } from './quantize.js';

/**
 * The rerank prefix of every live vector, resident in memory: one contiguous typed array, one
 * row of `width` (R) values per slot: float32 in `data` (type 'f32'), or the codes of
 * quantize.ts in `half` ('f16') or `codes` + `codeScale` ('int8'); the arrays of the other
 * types stay empty (storage: matrix-storage.ts). Rows are kept dense (a removed row is replaced
 * by the last one) so exact scans pass the whole buffer to a kernel without copying.
 * Prefix norms at the nesting dims ≤ R are kept per row (prefix-norms.ts) so any such prefix is
 * renormalised without touching the row; other prefix lengths are computed on demand.
 *
 * Slots are grouped in blocks of `blockRows`; each block carries the value `version` had after
 * the last write to one of its slots (its stamp; block-stamps.ts).
 * With `shared`, every part lives on growable SharedArrayBuffers (shared-array.ts; 4 GiB a part
 * at most) and `share()` hands them to worker threads, which `attach` a read-only view. Each
 * change (or `batch` of changes) runs inside the seqlock of seqlock.ts; a reader's `version` is
 * that lock's counter (NaN during a write), so the retries of src/search/retry.ts re-run a read
 * that a write overlapped.
 */
export type { MatrixHandle, MatrixPart } from './matrix-storage.js';

export class ResidentMatrix {
  private readonly st: MatrixStorage;
  private localVersion = 0;
  /** True for a worker thread's view of a shared matrix (it never writes). */
  readonly reader: boolean;
  private scaleCache = new Map<number, { version: number; scale: Float32Array }>();
  readonly blockRows: number;
  readonly type: ResidentType;
  readonly shared: boolean;

  constructor(
    readonly width: number,
    readonly nesting: number[],
    initialCapacity = 1024,
    opts: { blockRows?: number; type?: ResidentType; shared?: boolean } = {},
    attached?: MatrixHandle,
  ) {
    this.type = opts.type ?? 'f32';
    this.shared = attached !== undefined || (opts.shared ?? false);
    this.reader = attached !== undefined;
    const blockRows = opts.blockRows ?? ResidentMatrix.BLOCK_ROWS;
    const shape = { width, nesting, type: this.type, blockRows, capacity: Math.max(16, initialCapacity), shared: this.shared };
    this.st = new MatrixStorage(shape, attached);
    this.blockRows = this.st.stamps.blockRows;
  }

  get data(): Float32Array {
    return this.st.data;
  }
  /** f16 rows (type 'f16'). */
  get half(): Uint16Array {
    return this.st.half;
  }
  /** int8 rows and their per-row scales (type 'int8'): row value j ≈ codes[j] · codeScale. */
  get codes(): Int8Array {
    return this.st.codes;
  }
  get codeScale(): Float32Array {
    return this.st.codeScale;
  }
  /** seq of the row in each slot (seqs are < 2^32). */
  get slotSeq(): Uint32Array {
    return this.st.slotSeq;
  }

  /** A read-only view, in a worker thread, of a matrix another thread shares (`share()`). */
  static attach(h: MatrixHandle): ResidentMatrix {
    return new ResidentMatrix(h.width, h.nesting, 16, { blockRows: h.blockRows, type: h.type }, h);
  }

  /** The buffers and shape a worker thread attaches (a shared matrix only). */
  share(): MatrixHandle {
    if (!this.shared) throw new Error('share() needs a matrix made with shared: true');
    return this.st.share();
  }

  /** Live rows (slots 0..size-1; beside the seqlock). */
  get size(): number {
    const n = this.st.lock.size;
    if (this.reader) this.st.refresh(); // the buffers grew before the size did: the views then cover n
    return n;
  }
  private set size(n: number) {
    this.st.lock.size = n;
  }

  /** Bumped on every change (slots may have moved); a reader's is the seqlock's counter, NaN during a write. */
  get version(): number {
    if (!this.reader) return this.localVersion;
    const v = this.st.lock.read();
    this.st.refresh();
    return v;
  }

  /** Runs `fn` (several changes) as one write of the seqlock: readers retry once, not per row. */
  batch<T>(fn: () => T): T {
    if (this.reader) throw new Error('an attached matrix is read-only');
    this.st.lock.enter();
    try {
      return fn();
    } finally {
      this.st.lock.exit();
    }
  }

  /** Default block size: small enough that a segment's check reads few stamps, large enough to cost nothing. */
  static readonly BLOCK_ROWS = 1024;

  /** The stamp of block b: `version` after the last write to one of its slots (0 if none). */
  blockVersion(b: number): number {
    return this.st.stamps.block(b);
  }

  /** The largest stamp over the blocks holding slots [from, from + count). */
  rangeVersion(from: number, count: number): number {
    return this.st.stamps.range(from, count);
  }

  get normDims(): number[] {
    return this.st.norms.dims;
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
    return this.st.breakdown;
  }

  has(seq: number): boolean {
    return this.st.seqSlot.has(seq);
  }

  slotOf(seq: number): number | undefined {
    return this.st.seqSlot.get(seq);
  }

  /** Adds (or replaces) the row of `seq` from a full vector (its first R values are kept). */
  add(seq: number, v: Float32Array): void {
    this.batch(() => this.addRow(seq, v));
  }

  private addRow(seq: number, v: Float32Array): void {
    let slot = this.st.seqSlot.get(seq);
    if (slot === undefined) {
      // Grows by half (in place when shared): a doubling would leave up to half of a large matrix unused.
      if (this.size === this.st.capacity) this.st.grow(Math.ceil(this.st.capacity * 1.5));
      slot = this.size++;
      this.st.seqSlot.set(seq, slot);
      this.slotSeq[slot] = seq;
    }
    const w = this.width;
    const off = slot * w;
    if (this.type === 'f32') this.data.set(v.subarray(0, w), off);
    else if (this.type === 'f16') encodeHalfRow(v, w, this.half, off);
    else this.codeScale[slot] = encodeInt8Row(v, w, this.codes, off);
    this.st.norms.write(slot, v);
    this.localVersion++;
    this.st.stamps.touch(slot, this.localVersion);
  }

  remove(seq: number): boolean {
    return this.batch(() => this.removeRow(seq));
  }

  private removeRow(seq: number): boolean {
    const slot = this.st.seqSlot.get(seq);
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
      this.st.norms.move(last, slot);
      const moved = this.slotSeq[last];
      this.slotSeq[slot] = moved;
      this.st.seqSlot.set(moved, slot);
    }
    this.st.seqSlot.delete(seq);
    this.size = last;
    this.localVersion++;
    this.st.stamps.touch(slot, this.localVersion);
    this.st.stamps.touch(last, this.localVersion);
    return true;
  }

  /**
   * Snapshot hook: the typed arrays that hold the matrix, each with its values per slot (the
   * first size·perRow values of each are the state). A snapshot writes them in this order and
   * a restore fills the same arrays of a matrix made with capacity ≥ size, then `restored`.
   */
  snapshotParts(): MatrixPart[] {
    return this.st.parts();
  }

  /**
   * Snapshot hook: after a reader filled the first `size` slots of every part of a new matrix,
   * builds the seq → slot map. False when a seq repeats: not a valid snapshot (discard the matrix).
   */
  restored(size: number): boolean {
    if (size > this.st.capacity) throw new RangeError(`restored ${size} rows into a capacity of ${this.st.capacity}`);
    if (this.size !== 0) throw new Error('restored() is for a new, empty matrix');
    return this.batch(() => {
      for (let s = 0; s < size; s++) this.st.seqSlot.set(this.slotSeq[s], s);
      if (this.st.seqSlot.size !== size) return false;
      this.size = size;
      this.localVersion++;
      this.st.stamps.fill(this.localVersion, size);
      return true;
    });
  }

  /** ||row[0:d]|| of one slot. */
  norm(slot: number, d: number): number {
    const idx = this.st.norms.column(d);
    if (idx !== undefined) return this.st.norms.values[slot * this.st.norms.perRow + idx];
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
    const idx = this.st.norms.column(d);
    const nd = this.st.norms.perRow;
    const norms = this.st.norms.values;
    for (let i = 0; i < slots.length; i++) {
      const nrm = idx === undefined ? this.norm(slots[i], d) : norms[slots[i] * nd + idx];
      out[i] = nrm > 0 ? 1 / nrm : 0;
    }
    return out;
  }

  /** 1/||row[0:d]|| for every slot 0..size-1, cached until the next change. */
  scaleAll(d: number): Float32Array {
    const version = this.version; // noted first: a write overlapping the loop leaves the entry stale, never hit
    const hit = this.scaleCache.get(d);
    if (hit && hit.version === version && hit.scale.length === this.size) return hit.scale;
    const scale = new Float32Array(this.size);
    for (let s = 0; s < scale.length; s++) {
      const nrm = this.norm(s, d);
      scale[s] = nrm > 0 ? 1 / nrm : 0;
    }
    if (this.scaleCache.size > 16) this.scaleCache.clear();
    this.scaleCache.set(d, { version, scale });
    return scale;
  }
}
